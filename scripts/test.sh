#!/usr/bin/env bash
# Set up .venv (scripts/setup.sh) and run the whole test-suite, slow tests included.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not slow"`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PYBAMM_DISABLE_TELEMETRY=true TF_CPP_MIN_LOG_LEVEL=3
.venv/bin/python -m pytest -ra --durations=30 "$@" tests $(ls -d contrib/*/tests 2>/dev/null)
