#!/usr/bin/env bash
# Type-check the core (package `electroforge` = folder core/) with mypy, configured in pyproject.toml.
# mypy cannot follow setuptools' package-dir mapping or the editable install's import hook, so
# the check runs on a temporary folder holding a link `electroforge -> core`.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ln -s "$REPO/core" "$TMP/electroforge"
cd "$TMP"
MYPYPATH="$TMP" "$REPO/.venv/bin/python" -m mypy --config-file "$REPO/pyproject.toml" \
  --cache-dir "$REPO/.mypy_cache" -p electroforge "$@"
