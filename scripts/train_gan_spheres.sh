#!/usr/bin/env bash
# Train (or continue) the spheres-design GAN run (issue 28, docs/generators.md "Ninth round"):
# the generator places candidate particles per 16-voxel latent cell, renders them as a union of
# spheres and then places the binder (plugins/gan/sphere_nets.py).
#
#   scripts/train_gan_spheres.sh                   # CPU, one thread, until 10,000 updates in total
#   STEPS=20000 MINUTES=120 scripts/train_gan_spheres.sh
#   RUN=spheres scripts/train_gan_cuda.sh          # the same checkpoint on a CUDA machine
#
# The first call starts the run from scratch (seed 0); every later call continues the committed
# checkpoint plugins/gan/checkpoints/spheres.ckpt exactly. Options as scripts/train_gan_particles.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export CHECKPOINT=${CHECKPOINT:-plugins/gan/checkpoints/spheres.ckpt}
export OUT=${OUT:-runs/spheres.pt}
export STEPS=${STEPS:-10000}
export DESIGN=${DESIGN:-'{"output": "spheres", "tile": 64, "batch": 2, "nz": 32, "channels": [128, 128, 64],
 "sphere_cell": 16, "sphere_slots": 4, "binder_channels": [16, 16, 16], "critic_channels": [16, 32, 64, 128],
 "critic3d_weight": 1.0, "critic3d_channels": [8, 16, 32, 64], "critic3d_pool": 2, "s2_weight": 1000.0,
 "coverage_weight": 100.0, "erosion_weight": 5000.0, "lr_half_life_steps": 6000}'}
exec scripts/train_gan_particles.sh "$@"
