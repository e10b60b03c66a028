#!/usr/bin/env bash
# Run every benchmark under benchmarks/ (after scripts/setup.sh). Each prints its results and the
# ratios against a baseline measured in the same run; recorded results live in docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PYBAMM_DISABLE_TELEMETRY=true TF_CPP_MIN_LOG_LEVEL=3
for b in benchmarks/bench_*.py; do
  [ "$b" = benchmarks/bench_campaign.py ] && continue
  echo "=== $b"
  .venv/bin/python "$b"
done
echo "=== benchmarks/bench_campaign.py"
.venv/bin/python benchmarks/bench_campaign.py stages
.venv/bin/python benchmarks/bench_campaign.py bo-vs-sobol --budget 20 --seeds 0 1
echo "=== benchmarks/optimizer_race.py --quick (the full race: optimizer_race.py run, hours)"
.venv/bin/python benchmarks/optimizer_race.py --quick
