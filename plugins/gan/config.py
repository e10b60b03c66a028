"""Training options of the conditional generator (:class:`TrainConfig`) and the torch device choice.

Every term of the objective has its weight here (0: off); :data:`ARCHITECTURE_FIELDS` are the
options that fix the networks' shapes, which a checkpoint resumes only with the same values.
"""
from __future__ import annotations

import math

import attrs
import torch

from electroforge.errors import ValidationError


@attrs.frozen
class TrainConfig:
    """Training options (defaults sized for a shared 2-core CPU)."""

    steps: int = 2000
    tile: int = 32
    batch: int = 4
    slices_per_axis: int = 8
    critic_iters: int = 2
    lr: float = 2e-4
    gp_lambda: float = 10.0
    vf_weight: float = 1000.0
    vf_temperature: float = 0.25
    nz: int = 16
    channels: tuple[int, ...] = (64, 32, 16)
    """One upsampling stage per entry: the latent cell is 2**len(channels) voxels (3 stages: 8 voxels,
    against ~12-voxel particles; chosen by the ablation in docs/generators.md)."""
    critic_channels: tuple[int, ...] = (16, 32, 64)
    checkpoint_every: int = 100
    seed: int = 0
    device: str = "auto"
    calibration_size: int = 64
    """Edge of the volumes used to calibrate the argmax phase offsets at the end (0: no calibration)."""
    ema_decay: float = 0.995
    """Exponential moving average of the generator weights, ``w_ema <- d w_ema + (1 - d) w`` after
    every generator update, with ``d = min(ema_decay, (1 + n) / (10 + n))`` at update ``n`` so the
    average forgets the initial weights quickly (0: off). With it on, the exported weights are the
    average's; batch-norm statistics are the live network's."""
    lr_half_life_steps: int = 3000
    """Learning rate ``lr * 0.5 ** (step / half_life)`` for both optimisers (0: constant). A
    function of the step count only, so a resumed run follows the same schedule."""
    noise_stages: int | None = None
    """How many of the coarsest generator stages get per-voxel noise (None: all, the first design)."""
    s2_weight: float = 0.0
    """Weight of a two-point-correlation term in the generator loss: the mean squared difference
    between each generated volume's ``S2_p(r)`` (each phase, each axis, ``r = 0..tile/2``, on the
    probabilities and on the sharpened ones, like the volume-fraction term) and its training
    image's (0: off). A direct, differentiable handle on the morphology (chords, surface area) that
    the slice critics learn slowly."""
    coverage_weight: float = 0.0
    """Weight of a binder-coverage term in the generator loss: the squared difference between
    each generated volume's soft binder coverage (:func:`soft_binder_coverage`, on the
    probabilities and on the sharpened ones) and its training image's (0: off; needs phases named
    ``active`` and ``binder``). Coverage is what the binder-adhesion parameter changes, and an
    uncovered particle surface shows up as excess active-pore area (docs/generators.md)."""
    erosion_weight: float = 0.0
    """Weight of an erosion-curve (granulometry) term in the generator loss: the mean squared
    difference between each generated volume's :func:`erosion_curve_torch` of the pore and
    active phases (``r = 1..erosion_radius``, on the probabilities and on the sharpened ones) and
    its training image's (0: off). Two-point statistics and 2D slice critics leave the 3D
    thickness of particles and pore throats loosely constrained (the EDT particle diameter came
    out 22 % small with S2 matched); the erosion curve is that thickness distribution."""
    erosion_radius: int = 4
    """Largest erosion depth (voxels) of the erosion-curve term; about the particle radius."""
    euler_weight: float = 0.0
    """Weight of a topology term in the generator loss: the squared difference between each
    generated volume's Euler-characteristic density (:func:`euler_density_torch`, per 1,000
    voxels, of the phases in :data:`TOPOLOGY_PHASES`) and its training image's (0: off). Computed
    on the argmax labels with a straight-through gradient: the statistic is multilinear in the
    voxel indicators, so its gradient at a voxel is exactly the change that flipping that voxel
    makes. Two-point, erosion and slice statistics do not see loops: the first designs' solid had
    ~50 % more of them than the reference's (a branched network instead of separate particles)."""
    euler_tile: int | None = None
    """Edge (voxels) of the volume the topology term is computed on (None: the training tile;
    larger: one extra volume of this edge per step, at a random training image's parameters).
    On a 32-voxel tile the reference's own Euler density scatters from tile to tile about as much
    as it differs between design points (pore std 0.30 per 1,000 voxels against 0.29 between
    points), so the term's gradient is mostly that noise; at 64 voxels the scatter is 4x smaller."""
    critic3d_weight: float = 0.0
    """Weight of a second adversarial term from a 3D critic (:class:`~.nets.CondCritic3D`, the
    ``critic_channels`` layout, trained on whole ``tile``-voxel crops of the images alongside
    the slice critics), relative to the slice critics' mean (0: off). The slice critics judge
    2D sections; loops and necks are 3D, and the Euler-characteristic term's per-tile gradient
    was noise (docs/generators.md, "Fifth round"). Resuming a checkpoint without a 3D critic
    starts one fresh."""
    critic3d_channels: tuple[int, ...] | None = None
    """Channels of the 3D critic's strided layers (None: ``critic_channels``, the layout before
    this option existed)."""
    critic3d_pool: int = 1
    """The 3D critic judges the volumes average-pooled by this factor per axis (1: at the voxel
    size; 2: at twice the voxel edge, ~8x cheaper, for particle-scale connectivity)."""
    subpixel: bool = False
    """Train with each generator stage in its sub-pixel form (:func:`~.nets.subpixel_stage`: the
    same network and gradients, ~3x fewer multiply-adds per stage); changes only float rounding,
    so it is not part of the design a checkpoint fixes."""
    output: str = "voxels"
    """The generator's design: ``"voxels"`` (:class:`~.nets.CondGenerator3D`: upsampling stages
    to per-voxel phase logits; ``channels`` are its stages) or ``"spheres"``
    (:class:`~.sphere_nets.SphereGenerator3D`: candidate particles per ``sphere_cell``-voxel
    latent cell, rendered as a union of spheres, then the binder; ``channels`` are its
    cell-level trunk). The spheres design needs images with phases pore, active and binder."""
    sphere_cell: int = 16
    """Spheres design: voxels per latent cell (the largest radius it can draw is ``cell - 4``)."""
    sphere_slots: int = 4
    """Spheres design: candidate particles per latent cell."""
    binder_channels: tuple[int, ...] = (16, 16, 16)
    """Spheres design: channels of the binder net (3x3x3 convolutions at half the voxel size)."""
    init_weights: str | None = None
    """Start the generator from this weights file (same networks' layout; e.g. fine-tune shipped
    weights on new images); the critics start fresh. Ignored when resuming a checkpoint."""

    def __attrs_post_init__(self):
        for name in ("steps", "tile", "batch", "slices_per_axis", "critic_iters", "checkpoint_every"):
            if int(getattr(self, name)) < 1:
                raise ValidationError(f"training option {name}={getattr(self, name)!r} must be >= 1")
        if not 0.0 <= float(self.ema_decay) < 1.0:
            raise ValidationError(f"training option ema_decay={self.ema_decay!r} must lie in [0, 1)")
        for name in ("s2_weight", "coverage_weight", "erosion_weight", "euler_weight", "critic3d_weight"):
            v = float(getattr(self, name))
            if not (math.isfinite(v) and v >= 0):
                raise ValidationError(f"training option {name}={getattr(self, name)!r} must be a finite number >= 0")
        if self.output not in OUTPUTS:
            raise ValidationError(f"training option output={self.output!r}: choose one of {', '.join(OUTPUTS)}")
        if self.output == "spheres" and (int(self.sphere_cell) < 8 or int(self.sphere_slots) < 1):
            raise ValidationError(f"training options sphere_cell={self.sphere_cell!r} (>= 8) and "
                                  f"sphere_slots={self.sphere_slots!r} (>= 1) are out of range")
        if self.euler_tile is not None and (int(self.euler_tile) < int(self.tile)
                                            or int(self.euler_tile) % self.latent_cell):
            raise ValidationError(f"training option euler_tile={self.euler_tile!r} must be >= the tile "
                                  f"({self.tile}) and a multiple of {self.latent_cell}")
        if not 1 <= int(self.erosion_radius) < int(self.tile) // 2:
            raise ValidationError(f"training option erosion_radius={self.erosion_radius!r} must lie in "
                                  f"[1, {int(self.tile) // 2 - 1}] for a {self.tile}-voxel tile")
        if int(self.lr_half_life_steps) < 0:
            raise ValidationError(f"training option lr_half_life_steps={self.lr_half_life_steps!r} must be >= 0")
        if int(self.critic3d_pool) < 1 or int(self.tile) % int(self.critic3d_pool):
            raise ValidationError(f"training option critic3d_pool={self.critic3d_pool!r} must be >= 1 and divide "
                                  f"the tile ({self.tile})")
        if self.tile % self.latent_cell or (self.output == "spheres" and self.tile % 2):
            raise ValidationError(f"training option tile={self.tile} must be a multiple of {self.latent_cell}"
                                  + (" (the spheres design's cell)" if self.output == "spheres" else ""))

    @property
    def latent_cell(self) -> int:
        """Voxels per latent cell of the design (the tile must be a multiple)."""
        return int(self.sphere_cell) if self.output == "spheres" else 2 ** len(self.channels)


#: The generator designs (:attr:`TrainConfig.output`).
OUTPUTS = ("voxels", "spheres")

#: Config fields that fix the networks' shapes: a checkpoint resumes only with the same values.
ARCHITECTURE_FIELDS = ("tile", "nz", "channels", "critic_channels", "noise_stages", "critic3d_channels",
                       "critic3d_pool", "output", "sphere_cell", "sphere_slots", "binder_channels")

#: The fields of a design that a weights file records, and their values in files written before
#: the field existed (the generator is rebuilt from them).
GENERATOR_FIELDS = {"nz": 16, "channels": (64, 32, 16), "noise_stages": None, "output": "voxels",
                    "sphere_cell": 16, "sphere_slots": 4, "binder_channels": (16, 16, 16)}


def pick_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ValidationError(f"device {device!r}: not a torch device (use auto, cpu or cuda)") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValidationError(f"device {device!r}: CUDA is not available on this machine")
    return dev
