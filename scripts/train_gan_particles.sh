#!/usr/bin/env bash
# Continue the particle-design GAN run (issue 28) from its committed checkpoint, on this machine.
#
#   scripts/train_gan_particles.sh                 # CPU, one thread, until 16,000 updates in total
#   STEPS=20000 MINUTES=120 scripts/train_gan_particles.sh
#   DEVICE=cuda THREADS=4 scripts/train_gan_particles.sh   # what scripts/train_gan_cuda.sh runs
#
# The checkpoint (plugins/gan/checkpoints/particles.ckpt) holds the design, the networks, the
# optimisers and the RNG states, so the run continues exactly where it stopped; it is rewritten
# (atomically) every CHECKPOINT_EVERY updates and at the end, with its history beside it
# (particles.ckpt.history.json: losses every update, the fidelity monitor every MONITOR_EVERY).
# Weights are exported to OUT (runs/particles.pt, and runs/particles.best.pt for the monitor's
# best score); `electroforge generate --generator gan` loads them with weights=<path>.
# The training images (procedural, 128^3, 15 design points x 2 seeds, deterministic) are written
# to runs/gan_data128 on the first call. Extra arguments go to scripts/train_gan.py.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
DEVICE=${DEVICE:-cpu}
THREADS=${THREADS:-1}
STEPS=${STEPS:-16000}
CHECKPOINT=${CHECKPOINT:-plugins/gan/checkpoints/particles.ckpt}
OUT=${OUT:-runs/particles.pt}
CHECKPOINT_EVERY=${CHECKPOINT_EVERY:-80}
CHECKPOINT_MINUTES=${CHECKPOINT_MINUTES:-9}
MONITOR_EVERY=${MONITOR_EVERY:-240}
args=(--device "$DEVICE" --threads "$THREADS" --data runs/gan_data128 --size 128 --seeds 2
      --checkpoint "$CHECKPOINT" --out "$OUT" --steps "$STEPS"
      --checkpoint-every "$CHECKPOINT_EVERY" --checkpoint-minutes "$CHECKPOINT_MINUTES" --monitor-every "$MONITOR_EVERY")
if [[ -n "${MINUTES:-}" ]]; then args+=(--minutes "$MINUTES"); fi
if [[ -f "$CHECKPOINT" ]]; then
  args+=(--resume)
elif [[ -n "${DESIGN:-}" ]]; then  # a new run of this design (scripts/train_gan_spheres.sh sets it)
  args+=(--design "$DESIGN")
else
  echo "train_gan_particles.sh: $CHECKPOINT: no checkpoint to continue (see docs/generators.md, 'Seventh round')" >&2
  exit 2
fi
export OMP_NUM_THREADS="$THREADS"
exec "$PYTHON" scripts/train_gan.py "${args[@]}" "$@"
