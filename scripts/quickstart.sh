#!/usr/bin/env bash
# The README's main job: set up .venv, then run a small real closed-loop campaign (Bayesian
# optimisation -> procedural microstructures -> TauFactor -> PyBaMM 4680 cell) and write the campaign
# file, a report with plots and a Ragone plot under runs/quickstart/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PYBAMM_DISABLE_TELEMETRY=true TF_CPP_MIN_LOG_LEVEL=3
out=runs/quickstart
mkdir -p "$out"
.venv/bin/electroforge optimize quickstart -o "$out/quickstart.nc" --overwrite
.venv/bin/electroforge report "$out/quickstart.nc" -o "$out/report"
.venv/bin/electroforge ragone "$out/quickstart.nc" -o "$out/ragone.png"
echo "results: $out/quickstart.nc, $out/report/report.md, $out/ragone.png"
