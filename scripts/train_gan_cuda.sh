#!/usr/bin/env bash
# Continue a GAN run (issue 28) on a CUDA machine, writing the checkpoint back.
#
#   scripts/train_gan_cuda.sh                      # the spheres run (scripts/train_gan_spheres.sh)
#   RUN=particles STEPS=30000 MINUTES=60 scripts/train_gan_cuda.sh   # the voxel-design particles run
#
# The same checkpoint, design and options as scripts/train_gan_$RUN.sh, with --device cuda:
# networks and optimiser states move to the GPU on load and are saved back (map_location handles
# either direction, so the checkpoint it writes continues on a CPU too). The CUDA RNG state is
# saved with it, so a CUDA run continued on CUDA is exact; a CPU run continued on CUDA (or back)
# continues the same optimisation with other random draws. Commit the checkpoint and its history
# afterwards (plugins/gan/checkpoints/$RUN.ckpt{,.history.json}).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
if ! "$PYTHON" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  echo "train_gan_cuda.sh: torch sees no CUDA device here; run scripts/train_gan_${RUN:-spheres}.sh on the CPU instead" >&2
  exit 2
fi
RUN=${RUN:-spheres}
if [[ ! -f "scripts/train_gan_$RUN.sh" ]]; then
  echo "train_gan_cuda.sh: RUN=$RUN: no scripts/train_gan_$RUN.sh (use spheres or particles)" >&2
  exit 2
fi
DEVICE=cuda THREADS=${THREADS:-4} PYTHON="$PYTHON" exec "scripts/train_gan_$RUN.sh" "$@"
