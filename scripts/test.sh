#!/usr/bin/env bash
# Set up .venv (scripts/setup.sh) and run the whole test-suite, slow tests included.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m "not slow"`.
# Tests run in ELECTROFORGE_TEST_WORKERS pytest-xdist worker processes (default 2; many tests idle
# on subprocesses, sleeps and spawned pools, so two overlap well even on two cores); `-n 0` among the
# arguments runs them all in this process. `--dist loadgroup`: a test marked
# `@pytest.mark.xdist_group("name")` runs on the same worker as every other test of that group.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PYBAMM_DISABLE_TELEMETRY=true TF_CPP_MIN_LOG_LEVEL=3
.venv/bin/python -m pytest -n "${ELECTROFORGE_TEST_WORKERS:-2}" --dist loadgroup -ra --durations=30 "$@" \
  tests $(ls -d contrib/*/tests 2>/dev/null)
