#!/usr/bin/env bash
# Create (or reuse) the virtual environment .venv and install electroforge with its test extras.
# Idempotent: a second run only checks that everything is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade "pip>=24" "setuptools>=77" wheel >/dev/null
# torch==2.13.0 is pinned in pyproject.toml: on this machine it is the CPU build lying on disk.
.venv/bin/python -m pip install --quiet -e ".[test,dask]"
for pkg in contrib/*/; do
  [ -f "$pkg/pyproject.toml" ] && .venv/bin/python -m pip install --quiet --no-deps -e "$pkg"
done
# the one contrib package whose dependencies the core lacks (optuna, cmaes; pinned in its pyproject.toml)
.venv/bin/python -m pip install --quiet -e contrib/electroforge-optuna
echo "electroforge installed in .venv ($(.venv/bin/electroforge --version))"
