"""Training the conditional generator on labelled 3D images (WGAN-GP on 2D slices, SliceGAN-style).

Contract:

* :func:`load_training_set` reads ``labels.csv`` (a ``file`` column naming an image in the images
  folder, then one numeric column per manufacturing parameter) and the 3D label images
  (``.tif``/``.nc``/``.npy``, labels 0 pore / 1 active / 2 binder, x through the thickness).
* :func:`train` runs ``steps`` generator updates, each after ``critic_iters`` critic updates, and
  writes a full checkpoint (networks, optimisers, RNG states, loss history) every
  ``checkpoint_every`` steps and at the end; with ``resume=True`` it continues from the checkpoint.
* :func:`export_weights` writes the small inference file (generator only, fp16 by default) that
  :class:`~electroforge.plugins.gan.generator.GanGenerator` loads.

Objective, per step (B training images drawn at random, their parameters as the condition):

* critics (one per axis): Wasserstein loss ``D(fake) - D(real)`` on ``slices_per_axis`` random
  slices of each generated ``tile``³ volume against as many random ``tile``² crops of the real
  image's slices along the same axis, plus the gradient penalty (λ = 10) on interpolates;
* generator: ``-Σ_axes D(fake)`` plus ``vf_weight`` × the squared error between each generated
  volume's mean phase probabilities and the volume fractions measured on its training image
  (averaged with the same error on probabilities sharpened by ``vf_temperature``, which track the
  argmax labels that inference returns).
  The volume-fraction term is a cheap moment-matching aid: with the few thousand updates a CPU
  affords, it pins the phase fractions that the adversarial term alone learns slowly.
  With ``s2_weight > 0``, plus that weight x the squared error of the volume's two-point
  correlation functions against its training image's (the same moment matching, one order up).
  With ``erosion_weight > 0``, plus that weight x the squared error of the volume's erosion
  curves (:func:`erosion_curve_torch`: the fraction of each phase deeper than ``r`` voxels inside
  it, whose sum over ``r`` is the mean distance transform that sets the particle size).
"""
from __future__ import annotations

import csv
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import torch

from electroforge.errors import InputFileError, ValidationError
from electroforge.plugins.gan.nets import CondCritic2D, CondCritic3D, CondGenerator3D, quadratic_features

WEIGHTS_FORMAT = "electroforge-gan/1"
IMAGE_SUFFIXES = (".tif", ".tiff", ".nc", ".npy")


@attrs.frozen
class TrainingSet:
    """Labelled volumes and their parameters (raw units) with the envelope they span."""

    volumes: list = attrs.field(repr=False)
    """uint8 arrays (nx, ny, nz), labels 0..n_phases-1."""
    params: np.ndarray = attrs.field(repr=False)
    """(n_images, n_params) raw parameter values."""
    param_names: tuple[str, ...]
    bounds: dict[str, tuple[float, float]]
    voxel_size_m: float
    phases: tuple[str, ...] = ("pore", "active", "binder")
    files: tuple[str, ...] = ()
    """Image file names, one per volume (for error messages; may be empty)."""
    particle_radius_m: float | None = None
    """Radius of the active particles the cell model should use (m); None = measured from the
    images by :func:`estimate_particle_radius_m`. Exported with the weights; the generator reports it."""

    def particle_radius_or_estimate_m(self) -> float | None:
        return self.particle_radius_m if self.particle_radius_m is not None else estimate_particle_radius_m(self)

    @property
    def scaled(self) -> np.ndarray:
        lo = np.array([self.bounds[n][0] for n in self.param_names])
        hi = np.array([self.bounds[n][1] for n in self.param_names])
        return (self.params - lo) / np.where(hi > lo, hi - lo, 1.0)

    def fractions(self) -> np.ndarray:
        """(n_images, n_phases) measured volume fractions."""
        n = len(self.phases)
        return np.stack([np.bincount(v.ravel(), minlength=n)[:n] / v.size for v in self.volumes])


def estimate_particle_radius_m(data: TrainingSet, active_phase: str = "active") -> float | None:
    """Mean active-particle radius of the training images (m): half the distance-transform diameter
    ``8 (mean EDT - 1/2)`` voxels of the active phase (exact for an isolated ball; on procedural
    electrodes 2.7-2.9 µm against their 2.91 µm Sauter radius). None if the phase is absent."""
    from electroforge.plugins.gan.fidelity import particle_diameter_voxels

    if active_phase not in data.phases:
        return None
    idx = data.phases.index(active_phase)
    d = [particle_diameter_voxels(v == idx) for v in data.volumes]
    d = [x for x in d if x > 0]
    return 0.5 * float(np.mean(d)) * data.voxel_size_m if d else None


def load_training_set(images: str | Path, labels_csv: str | Path, voxel_size_m: float | None = None,
                      tile: int | None = None, particle_radius_m: float | None = None) -> TrainingSet:
    """Read the labels CSV and the images it names.

    Raises :class:`~electroforge.errors.InputFileError` with a one-line message naming the file,
    CSV row or value when: the folder or CSV is missing; the CSV has no rows, no ``file`` column,
    no parameter column or a non-numeric value; a row names an image that does not exist or has
    an unknown suffix; fewer than two images are listed (a conditional generator needs at least
    two parameter points); an image's voxel size differs from the first image's (unless
    ``voxel_size_m`` is given, which overrides every file's own); an image's phases differ; or,
    when ``tile`` is given, an image has an edge shorter than the training tile. ``particle_radius_m``
    (the active particles' radius for the cell model) is measured from the images when not given.
    """
    from electroforge.imageio import read_microstructure

    images, labels_csv = Path(images), Path(labels_csv)
    if not images.is_dir():
        raise InputFileError(f"{images}: not a folder of images")
    if not labels_csv.is_file():
        raise InputFileError(f"{labels_csv}: no such labels file")
    with labels_csv.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise InputFileError(f"{labels_csv}: no rows (need a header 'file,<param>,...' and one row per image)")
    header = list(rows[0].keys())
    if "file" not in header:
        raise InputFileError(f"{labels_csv}: no 'file' column (columns: {header})")
    names = tuple(h for h in header if h != "file")
    if not names:
        raise InputFileError(f"{labels_csv}: no parameter columns besides 'file'")
    vols, vals, files = [], [], []
    voxel0 = None
    phases = None
    for i, row in enumerate(rows, start=2):
        fname = str(row["file"] or "").strip()
        path = images / fname
        try:
            vals.append([float(row[n]) for n in names])
        except (TypeError, ValueError):
            raise InputFileError(f"{labels_csv}:{i}: parameter values must be numbers ({dict(row)})") from None
        if not all(math.isfinite(v) for v in vals[-1]):
            raise InputFileError(f"{labels_csv}:{i}: parameter values must be finite ({dict(row)})")
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise InputFileError(f"{labels_csv}:{i}: {fname!r} is not one of {', '.join(IMAGE_SUFFIXES)}")
        if not path.is_file():
            raise InputFileError(f"{labels_csv}:{i}: names {fname}, which is not in {images}")
        ms = read_microstructure(path, voxel_size_m=voxel_size_m)
        if voxel0 is None:
            voxel0, first = ms.voxel_size_m, path.name
        elif not math.isclose(ms.voxel_size_m, voxel0, rel_tol=1e-6):
            raise InputFileError(
                f"{path}: voxel size {ms.voxel_size_m * 1e6:g} um differs from {first}'s {voxel0 * 1e6:g} um "
                "(resample the images to one voxel size, or pass --voxel-size to override the files' own)"
            )
        phases = phases or ms.phases
        if ms.phases != phases:
            raise InputFileError(f"{path}: phases {ms.phases} differ from the first image's {phases}")
        if tile is not None and min(ms.shape) < int(tile):
            raise InputFileError(f"{path}: shape {ms.shape} has an edge shorter than the {int(tile)}-voxel training tile")
        vols.append(np.asarray(ms.labels))
        files.append(fname)
    if len(rows) < 2:
        raise InputFileError(
            f"{labels_csv}: only one image ({rows[0]['file']}); training a conditional generator needs images "
            "at two or more parameter points (e.g. the corners of the parameter cube)"
        )
    params = np.asarray(vals, dtype=float)
    bounds = {n: (float(params[:, j].min()), float(params[:, j].max())) for j, n in enumerate(names)}
    if particle_radius_m is not None and not (math.isfinite(particle_radius_m) and particle_radius_m > 0):
        raise InputFileError(f"particle radius {particle_radius_m!r} m must be a number > 0")
    return TrainingSet(vols, params, names, bounds, float(voxel0), tuple(phases), tuple(files),
                       particle_radius_m=particle_radius_m)


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
        if self.euler_tile is not None and (int(self.euler_tile) < int(self.tile)
                                            or int(self.euler_tile) % (2 ** len(self.channels))):
            raise ValidationError(f"training option euler_tile={self.euler_tile!r} must be >= the tile "
                                  f"({self.tile}) and a multiple of {2 ** len(self.channels)}")
        if not 1 <= int(self.erosion_radius) < int(self.tile) // 2:
            raise ValidationError(f"training option erosion_radius={self.erosion_radius!r} must lie in "
                                  f"[1, {int(self.tile) // 2 - 1}] for a {self.tile}-voxel tile")
        if int(self.lr_half_life_steps) < 0:
            raise ValidationError(f"training option lr_half_life_steps={self.lr_half_life_steps!r} must be >= 0")
        stages = len(self.channels)
        if self.tile % (2 ** stages):
            raise ValidationError(f"training option tile={self.tile} must be a multiple of {2 ** stages}")


#: Config fields that fix the networks' shapes: a checkpoint resumes only with the same values.
ARCHITECTURE_FIELDS = ("tile", "nz", "channels", "critic_channels", "noise_stages")


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


def two_point_correlation_torch(p: torch.Tensor, r_max: int) -> torch.Tensor:
    """``(B, C, X, Y, Z)`` phase indicators or probabilities -> ``(B, 3, C, r_max + 1)``: along each
    axis, the mean of ``p(x) p(x + r)`` over the pairs inside the box (the non-periodic estimator of
    :func:`electroforge.plugins.gan.fidelity.two_point_correlation`, differentiable)."""
    axes = []
    for ax in range(3):
        d, n = 2 + ax, p.shape[2 + ax]
        axes.append(torch.stack([(p.narrow(d, 0, n - r) * p.narrow(d, r, n - r)).mean(dim=(2, 3, 4))
                                 for r in range(r_max + 1)], dim=-1))
    return torch.stack(axes, dim=1)


#: Phases whose erosion curves the erosion term matches (by name; those present are used).
EROSION_PHASES = ("pore", "active")


def erode_once(p: torch.Tensor, cube: bool) -> torch.Tensor:
    """One erosion step of ``(B, C, X, Y, Z)`` indicators or probabilities, without padding (each
    edge shrinks by 2): the minimum over the 3x3x3 cube (26 neighbours) or over the 6 face
    neighbours and the voxel itself. On 0/1 labels it is a binary erosion; on probabilities a
    soft one (differentiable through the minimum)."""
    if cube:
        return -torch.nn.functional.max_pool3d(-p.flatten(0, 1).unsqueeze(1), 3, stride=1).squeeze(1).unflatten(0, p.shape[:2])
    c = p[:, :, 1:-1, 1:-1, 1:-1]
    out = c
    for ax in range(3):
        for lo in (0, 2):
            idx = [slice(1, -1)] * 3
            idx[ax] = slice(lo, p.shape[2 + ax] - 2 + lo)
            out = torch.minimum(out, p[(slice(None), slice(None), *idx)])
    return out


def erosion_curve_torch(p: torch.Tensor, r_max: int) -> torch.Tensor:
    """``(B, C, X, Y, Z)`` indicators or probabilities -> ``(B, C, r_max)``: for ``r = 1..r_max``
    the mean of ``p`` eroded ``r`` times (alternately by the 26- and the 6-neighbourhood, a
    close polyhedral approximation of a ball of radius ``r``), over the interior where that
    erosion is defined. On labels, entry ``r`` is the volume fraction of the phase lying at
    least ``r`` voxels deep inside it, so ``sum_r curve / fraction`` approximates the phase's
    mean distance transform (its particle or pore-throat size); differentiable."""
    if min(p.shape[2:]) <= 2 * r_max:
        raise ValueError(f"erosion depth {r_max} needs a volume longer than {2 * r_max} voxels per edge")
    out, e = [], p
    for r in range(1, r_max + 1):
        e = erode_once(e, cube=bool(r % 2))
        out.append(e.mean(dim=(2, 3, 4)))
    return torch.stack(out, dim=-1)


#: Phases whose Euler-characteristic density the topology term matches (by name; those present).
TOPOLOGY_PHASES = ("pore", "active")


def euler_density_torch(p: torch.Tensor) -> torch.Tensor:
    """``(B, C, X, Y, Z)`` indicators -> ``(B, C)`` Euler characteristic per 1,000 voxels of each
    phase, 6-connected (components - tunnels + cavities).

    Counts the cells of the set's dual cubical complex: voxels - face-adjacent pairs + 2x2 squares
    - 2x2x2 cubes, each as a *density* over the positions where it fits in the box (the
    stationary estimator: unbiased for a sub-volume of a homogeneous structure, so a training tile
    and a whole image are comparable). :func:`euler_characteristic_torch` gives the box's exact
    count. Multilinear in the indicators, so with a straight-through estimator its gradient at a
    voxel is the change that flipping it makes."""
    return 1000.0 * sum(sign * t.mean(dim=(2, 3, 4)) for sign, t in _dual_cells(p))


def euler_characteristic_torch(p: torch.Tensor) -> torch.Tensor:
    """``(B, C, X, Y, Z)`` indicators -> ``(B, C)``: the Euler characteristic of each phase inside
    the box, 6-connected (equals ``skimage.measure.euler_number(mask, connectivity=1)``)."""
    return sum(sign * t.sum(dim=(2, 3, 4)) for sign, t in _dual_cells(p))


def _dual_cells(p: torch.Tensor) -> list[tuple[int, torch.Tensor]]:
    """Signed products of the indicators over each cell kind of the dual complex: voxels (+),
    pairs along each axis (-), squares in each plane (+), cubes (-)."""
    def pair(q: torch.Tensor, ax: int) -> torch.Tensor:
        n = q.shape[2 + ax]
        return q.narrow(2 + ax, 0, n - 1) * q.narrow(2 + ax, 1, n - 1)

    pairs = [pair(p, ax) for ax in range(3)]
    squares = [pair(pairs[a], b) for a, b in ((0, 1), (0, 2), (1, 2))]
    cube = pair(squares[0], 2)
    return [(1, p)] + [(-1, t) for t in pairs] + [(1, t) for t in squares] + [(-1, cube)]


def straight_through_labels(logits: torch.Tensor, soft: torch.Tensor) -> torch.Tensor:
    """One-hot argmax labels of ``logits`` in the forward pass, ``soft``'s gradient backward."""
    hard = torch.nn.functional.one_hot(logits.argmax(dim=1), logits.shape[1]).movedim(-1, 1).to(soft.dtype)
    return hard + soft - soft.detach()


def soft_binder_coverage(p: torch.Tensor, active: int, binder: int) -> torch.Tensor:
    """``(B, C, X, Y, Z)`` phase indicators or probabilities -> ``(B,)`` binder coverage of the
    active phase: expected active-binder faces / expected faces between active and anything else,
    over the faces inside the box. On one-hot labels it is the characterizer's ``binder_coverage``
    (binder faces / all non-active faces of the active phase); differentiable."""
    a, b = p[:, active], p[:, binder]
    touching = covered = p.new_zeros(p.shape[0])
    for ax in range(1, 4):
        n = a.shape[ax]
        a0, a1 = a.narrow(ax, 0, n - 1), a.narrow(ax, 1, n - 1)
        b0, b1 = b.narrow(ax, 0, n - 1), b.narrow(ax, 1, n - 1)
        covered = covered + (a0 * b1 + b0 * a1).sum(dim=(1, 2, 3))
        touching = touching + (a0 * (1 - a1) + (1 - a0) * a1).sum(dim=(1, 2, 3))
    return covered / touching.clamp_min(1e-6)


def float_state_dict(payload: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """A weights payload's (fp16) generator state as float32 tensors, ready to load."""
    return {k: v.float() if v.is_floating_point() else v for k, v in payload["state_dict"].items()}


def _onehot(volume: np.ndarray, n_phases: int) -> torch.Tensor:
    """Labels ``(X, Y, Z)`` -> float indicators ``(1, n_phases, X, Y, Z)``."""
    onehot = torch.nn.functional.one_hot(torch.from_numpy(np.asarray(volume, dtype=np.int64)), n_phases)
    return onehot.permute(3, 0, 1, 2)[None].float()


def _image_coverage(volumes: Sequence[np.ndarray], n_phases: int, active: int, binder: int) -> torch.Tensor:
    """``(n_images,)`` binder coverage of each training image."""
    return torch.stack([soft_binder_coverage(_onehot(v, n_phases), active, binder)[0] for v in volumes])


def _image_erosion(volumes: Sequence[np.ndarray], n_phases: int, phases: Sequence[int], r_max: int) -> torch.Tensor:
    """``(n_images, len(phases), r_max)`` erosion curves of each training image."""
    return torch.stack([erosion_curve_torch(_onehot(v, n_phases)[:, list(phases)], r_max)[0] for v in volumes])


def _image_euler(volumes: Sequence[np.ndarray], n_phases: int, phases: Sequence[int]) -> torch.Tensor:
    """``(n_images, len(phases))`` Euler-characteristic density of each training image."""
    return torch.stack([euler_density_torch(_onehot(v, n_phases)[:, list(phases)])[0] for v in volumes])


def _image_s2(volumes: Sequence[np.ndarray], n_phases: int, r_max: int) -> torch.Tensor:
    """``(n_images, 3, n_phases, r_max + 1)`` S2 of each training image."""
    return torch.stack([two_point_correlation_torch(_onehot(v, n_phases), r_max)[0] for v in volumes])


class Trainer:
    """Holds the networks, optimisers and data; :meth:`step` performs one generator update."""

    def __init__(self, data: TrainingSet, config: TrainConfig):
        self.data, self.cfg = data, config
        self.device = pick_device(config.device)
        for i, v in enumerate(data.volumes):
            if min(v.shape) < config.tile:
                name = data.files[i] if i < len(data.files) else f"image {i}"
                raise ValidationError(
                    f"training image {name}: shape {tuple(v.shape)} has an edge shorter than the {config.tile}-voxel training tile"
                )
        torch.manual_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)
        n_par, n_ph = len(data.param_names), len(data.phases)
        self.G = CondGenerator3D(n_par, config.nz, config.channels, n_ph, config.noise_stages).to(self.device)
        if config.init_weights:
            from electroforge.plugins.gan.generator import load_weights

            payload = load_weights(config.init_weights)
            try:
                self.G.load_state_dict(float_state_dict(payload))
            except RuntimeError:
                raise ValidationError(
                    f"init_weights {config.init_weights}: its generator (nz {payload['nz']}, channels "
                    f"{tuple(payload['channels'])}) does not fit this design (nz {config.nz}, channels {config.channels})"
                ) from None
        self.G_ema = None
        if config.ema_decay > 0:
            import copy

            self.G_ema = copy.deepcopy(self.G).eval()
            for p in self.G_ema.parameters():
                p.requires_grad_(False)
        self.Ds = torch.nn.ModuleList(
            CondCritic2D(n_par, n_ph, config.tile, config.critic_channels) for _ in range(3)
        ).to(self.device)
        betas = (0.0, 0.9)
        self.optG = torch.optim.Adam(self.G.parameters(), lr=config.lr, betas=betas)
        self.optD = torch.optim.Adam(self.Ds.parameters(), lr=config.lr, betas=betas)
        self.D3: CondCritic3D | None = None
        self.optD3: torch.optim.Adam | None = None
        if config.critic3d_weight > 0:
            self.D3 = CondCritic3D(n_par, n_ph, config.tile, config.critic_channels).to(self.device)
            self.optD3 = torch.optim.Adam(self.D3.parameters(), lr=config.lr, betas=betas)
        self.volumes = [torch.from_numpy(np.array(v, dtype=np.int64)) for v in data.volumes]
        self.cond = torch.tensor(data.scaled, dtype=torch.float32)
        self.fractions = torch.tensor(data.fractions(), dtype=torch.float32)
        self.s2_r_max = config.tile // 2
        self.s2_targets = (_image_s2(data.volumes, n_ph, self.s2_r_max) if config.s2_weight > 0 else None)
        self.coverage_phases: tuple[int, int] | None = None
        self.coverage_targets = None
        if config.coverage_weight > 0:
            missing = [ph for ph in ("active", "binder") if ph not in data.phases]
            if missing:
                raise ValidationError(f"training option coverage_weight={config.coverage_weight!r}: the images have "
                                      f"no phase named {' or '.join(map(repr, missing))} (phases: {', '.join(data.phases)})")
            self.coverage_phases = (data.phases.index("active"), data.phases.index("binder"))
            self.coverage_targets = _image_coverage(data.volumes, n_ph, *self.coverage_phases)
        self.erosion_phases = [data.phases.index(ph) for ph in EROSION_PHASES if ph in data.phases]
        self.erosion_targets = None
        if config.erosion_weight > 0:
            if not self.erosion_phases:
                raise ValidationError(f"training option erosion_weight={config.erosion_weight!r}: the images have no "
                                      f"phase named {' or '.join(map(repr, EROSION_PHASES))} (phases: {', '.join(data.phases)})")
            self.erosion_targets = _image_erosion(data.volumes, n_ph, self.erosion_phases, config.erosion_radius)
        self.topology_phases = [data.phases.index(ph) for ph in TOPOLOGY_PHASES if ph in data.phases]
        self.euler_targets = None
        if config.euler_weight > 0:
            if not self.topology_phases:
                raise ValidationError(f"training option euler_weight={config.euler_weight!r}: the images have no "
                                      f"phase named {' or '.join(map(repr, TOPOLOGY_PHASES))} (phases: {', '.join(data.phases)})")
            self.euler_targets = _image_euler(data.volumes, n_ph, self.topology_phases)
        self.step_count = 0
        self.history: list[dict[str, float]] = []
        self.fidelity: list[dict[str, float]] = []
        """Records of the training monitor (``train(monitor=...)``), one per evaluation."""

    @property
    def G_export(self) -> CondGenerator3D:
        """The generator that is exported: the weight average when ``ema_decay > 0``."""
        return self.G_ema if self.G_ema is not None else self.G

    def learning_rate(self, step: int | None = None) -> float:
        """The scheduled learning rate at ``step`` (default: the next update's)."""
        n = self.step_count if step is None else step
        hl = self.cfg.lr_half_life_steps
        return self.cfg.lr * (0.5 ** (n / hl) if hl else 1.0)

    @torch.no_grad()
    def _update_ema(self) -> None:
        # warm-up: the average forgets the random initial weights within the first ~10/(1-d) steps
        d = min(self.cfg.ema_decay, (1.0 + self.step_count) / (10.0 + self.step_count))
        for pe, p in zip(self.G_ema.parameters(), self.G.parameters()):
            pe.mul_(d).add_(p.detach(), alpha=1.0 - d)
        for be, b in zip(self.G_ema.buffers(), self.G.buffers()):
            be.copy_(b)  # batch-norm running statistics: the live network's

    # ------------------------------------------------------------------ data
    def _latent(self, b: int, size: int | None = None) -> torch.Tensor:
        lz = (size or self.cfg.tile) // self.G.tile
        return torch.randn(b, self.cfg.nz, lz, lz, lz, device=self.device)

    def _real_slices(self, idx: Sequence[int], axis: int) -> torch.Tensor:
        """``slices_per_axis`` random tile² crops of slices normal to ``axis`` from each image."""
        t, s = self.cfg.tile, self.cfg.slices_per_axis
        out = []
        for i in idx:
            vol = self.volumes[i]
            vol_ax = vol.movedim(axis, 0)
            n0, n1, n2 = vol_ax.shape
            k = torch.from_numpy(self.rng.integers(0, n0, s))
            a = self.rng.integers(0, n1 - t + 1, s)
            b = self.rng.integers(0, n2 - t + 1, s)
            crops = torch.stack([vol_ax[k[j], a[j]:a[j] + t, b[j]:b[j] + t] for j in range(s)])
            out.append(crops)
        lab = torch.cat(out).to(self.device)
        return torch.nn.functional.one_hot(lab, len(self.data.phases)).permute(0, 3, 1, 2).float()

    def _real_tiles(self, idx: Sequence[int]) -> torch.Tensor:
        """One random ``tile``³ crop of each image in ``idx``, one-hot ``(B, n_phases, t, t, t)``."""
        t = self.cfg.tile
        crops = []
        for i in idx:
            vol = self.volumes[i]
            o = [int(self.rng.integers(0, n - t + 1)) for n in vol.shape]
            crops.append(vol[o[0]:o[0] + t, o[1]:o[1] + t, o[2]:o[2] + t])
        lab = torch.stack(crops).to(self.device)
        return torch.nn.functional.one_hot(lab, len(self.data.phases)).permute(0, 4, 1, 2, 3).float()

    def _fake_slices(self, fake: torch.Tensor, axis: int) -> torch.Tensor:
        """``slices_per_axis`` random slices normal to ``axis`` of each generated volume."""
        b, c, t = fake.shape[0], fake.shape[1], fake.shape[2]
        moved = fake.movedim(2 + axis, 1)  # (B, T, C, T, T)
        k = torch.from_numpy(self.rng.integers(0, t, (b, self.cfg.slices_per_axis))).to(self.device)
        picked = moved[torch.arange(b, device=self.device)[:, None], k]  # (B, S, C, T, T)
        return picked.reshape(-1, c, t, t)

    def _gradient_penalty(self, D, real, fake, c) -> torch.Tensor:
        eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=self.device)
        x = (eps * real + (1 - eps) * fake).requires_grad_(True)
        (g,) = torch.autograd.grad(D(x, c).sum(), x, create_graph=True)
        return self.cfg.gp_lambda * ((g.flatten(1).norm(2, dim=1) - 1) ** 2).mean()

    # ------------------------------------------------------------------ one update
    def step(self) -> dict[str, float]:
        cfg = self.cfg
        s = cfg.slices_per_axis
        lr = self.learning_rate()
        for opt in (o for o in (self.optG, self.optD, self.optD3) if o is not None):
            for group in opt.param_groups:
                group["lr"] = lr
        d_losses, w_dists, w3_dists = [], [], []
        for _ in range(cfg.critic_iters):
            idx = self.rng.integers(0, len(self.volumes), cfg.batch)
            c = self.cond[idx].to(self.device)
            cs = c.repeat_interleave(s, 0)
            with torch.no_grad():
                fake = self.G(self._latent(cfg.batch), c)
            self.optD.zero_grad(set_to_none=True)
            total = 0.0
            for ax, D in enumerate(self.Ds):
                real = self._real_slices(idx, ax)
                fs = self._fake_slices(fake, ax)
                d_real, d_fake = D(real, cs).mean(), D(fs, cs).mean()
                loss = d_fake - d_real + self._gradient_penalty(D, real, fs, cs)
                loss.backward()
                total += float(loss.detach())
                w_dists.append(float((d_real - d_fake).detach()))
            self.optD.step()
            d_losses.append(total / 3)
            if self.D3 is not None:
                self.optD3.zero_grad(set_to_none=True)
                real3 = self._real_tiles(idx)
                d_real, d_fake = self.D3(real3, c).mean(), self.D3(fake, c).mean()
                (d_fake - d_real + self._gradient_penalty(self.D3, real3, fake, c)).backward()
                self.optD3.step()
                w3_dists.append(float((d_real - d_fake).detach()))
        idx = self.rng.integers(0, len(self.volumes), cfg.batch)
        c = self.cond[idx].to(self.device)
        cs = c.repeat_interleave(s, 0)
        self.optG.zero_grad(set_to_none=True)
        logits = self.G.logits(self._latent(cfg.batch), c)
        fake = torch.softmax(logits, dim=1)
        adv = -sum(D(self._fake_slices(fake, ax), cs).mean() for ax, D in enumerate(self.Ds)) / 3
        if self.D3 is not None:
            adv = adv - cfg.critic3d_weight * self.D3(fake, c).mean()
        target = self.fractions[idx].to(self.device)
        sharp = torch.softmax(logits / cfg.vf_temperature, dim=1)  # ~ the argmax labels generate() returns
        vf_err = 0.5 * (((fake.mean(dim=(2, 3, 4)) - target) ** 2).sum(1).mean()
                        + ((sharp.mean(dim=(2, 3, 4)) - target) ** 2).sum(1).mean())
        loss_g = adv + cfg.vf_weight * vf_err
        def matched(statistic, targets):
            """Squared error of a statistic against its training images', averaged over the plain
            and the sharpened probabilities (None when the term is off)."""
            if targets is None:
                return None
            t = targets[idx].to(self.device)
            return 0.5 * (((statistic(fake) - t) ** 2).mean() + ((statistic(sharp) - t) ** 2).mean())

        ph, r = self.erosion_phases, cfg.erosion_radius
        s2_err = matched(lambda q: two_point_correlation_torch(q, self.s2_r_max), self.s2_targets)
        cov_err = matched(lambda q: soft_binder_coverage(q, *self.coverage_phases), self.coverage_targets)
        ero_err = matched(lambda q: erosion_curve_torch(q[:, ph], r), self.erosion_targets)
        eul_err = None
        if self.euler_targets is not None:
            eul_idx, eul_logits, eul_soft = idx, logits, sharp
            if cfg.euler_tile is not None and cfg.euler_tile != cfg.tile:
                eul_idx = idx[:1]
                eul_logits = self.G.logits(self._latent(1, cfg.euler_tile), c[:1])
                eul_soft = torch.softmax(eul_logits / cfg.vf_temperature, dim=1)
            labels = straight_through_labels(eul_logits, eul_soft)[:, self.topology_phases]
            eul_err = ((euler_density_torch(labels) - self.euler_targets[eul_idx].to(self.device)) ** 2).mean()
        for err, weight in ((s2_err, cfg.s2_weight), (cov_err, cfg.coverage_weight), (ero_err, cfg.erosion_weight),
                            (eul_err, cfg.euler_weight)):
            if err is not None:
                loss_g = loss_g + weight * err
        loss_g.backward()
        self.optG.step()
        if self.G_ema is not None:
            self._update_ema()
        self.step_count += 1
        rec = {
            "step": float(self.step_count),
            "loss_d": float(np.mean(d_losses)),
            "loss_g": float(loss_g.detach()),
            "wasserstein": float(np.mean(w_dists)),
            "vf_rmse": float(math.sqrt(float(vf_err.detach()) / len(self.data.phases))),
            "lr": lr,
        }
        if w3_dists:
            rec["wasserstein3d"] = float(np.mean(w3_dists))
        if s2_err is not None:
            rec["s2_rmse"] = float(math.sqrt(float(s2_err.detach())))
        if cov_err is not None:
            rec["coverage_rmse"] = float(math.sqrt(float(cov_err.detach())))
        if ero_err is not None:
            rec["erosion_rmse"] = float(math.sqrt(float(ero_err.detach())))
        if eul_err is not None:
            rec["euler_rmse"] = float(math.sqrt(float(eul_err.detach())))
        self.history.append(rec)
        return rec

    # ------------------------------------------------------------------ persistence
    def state(self) -> dict[str, Any]:
        return {
            "format": WEIGHTS_FORMAT + "-checkpoint",
            "config": attrs.asdict(self.cfg),
            "meta": _meta(self.data, self.cfg),
            "G": self.G.state_dict(),
            "Ds": self.Ds.state_dict(),
            "optG": self.optG.state_dict(),
            "optD": self.optD.state_dict(),
            "D3": None if self.D3 is None else self.D3.state_dict(),
            "optD3": None if self.optD3 is None else self.optD3.state_dict(),
            "G_ema": None if self.G_ema is None else self.G_ema.state_dict(),
            "step": self.step_count,
            "history": self.history,
            "fidelity": self.fidelity,
            "torch_rng": torch.get_rng_state(),
            "numpy_rng": self.rng.bit_generator.state,
        }

    def save_checkpoint(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        torch.save(self.state(), tmp)
        os.replace(tmp, path)

    def load_checkpoint(self, path: str | Path) -> None:
        try:
            st = torch.load(path, map_location=self.device, weights_only=False)
        except Exception as exc:
            raise InputFileError(f"{path}: cannot read checkpoint ({type(exc).__name__})") from None
        if st.get("format") != WEIGHTS_FORMAT + "-checkpoint":
            raise InputFileError(f"{path}: not an electroforge GAN training checkpoint")
        if tuple(st["meta"]["param_names"]) != tuple(self.data.param_names):
            raise InputFileError(
                f"{path}: checkpoint parameters {st['meta']['param_names']} differ from the labels' {list(self.data.param_names)}"
            )
        for field in ARCHITECTURE_FIELDS:
            theirs, ours = st["config"].get(field), getattr(self.cfg, field)
            if (tuple(theirs) if isinstance(theirs, (list, tuple)) else theirs) != ours:
                raise InputFileError(f"{path}: checkpoint was trained with {field}={theirs!r}, this run has {ours!r}")
        if (st.get("G_ema") is None) != (self.G_ema is None):
            raise InputFileError(f"{path}: checkpoint ema_decay={st['config'].get('ema_decay', 0)!r} is incompatible "
                                 f"with this run's {self.cfg.ema_decay!r} (both on or both off)")
        self.G.load_state_dict(st["G"])
        if self.G_ema is not None:
            self.G_ema.load_state_dict(st["G_ema"])
        self.Ds.load_state_dict(st["Ds"])
        self.optG.load_state_dict(st["optG"])
        self.optD.load_state_dict(st["optD"])
        if self.D3 is not None and st.get("D3") is not None:  # else the 3D critic starts fresh
            self.D3.load_state_dict(st["D3"])
            self.optD3.load_state_dict(st["optD3"])
        self.step_count = int(st["step"])
        self.history = list(st["history"])
        self.fidelity = list(st.get("fidelity", []))
        torch.set_rng_state(st["torch_rng"])
        self.rng.bit_generator.state = st["numpy_rng"]


def _meta(data: TrainingSet, cfg: TrainConfig) -> dict[str, Any]:
    return {
        "param_names": list(data.param_names),
        "bounds": {k: list(v) for k, v in data.bounds.items()},
        "phases": list(data.phases),
        "voxel_size_m": data.voxel_size_m,
        "particle_radius_m": data.particle_radius_or_estimate_m(),
        "nz": cfg.nz,
        "channels": list(cfg.channels),
        "noise_stages": cfg.noise_stages,
        "train_tile": cfg.tile,
    }


def checkpoint_path_for(weights: str | Path) -> Path:
    """Where :func:`train` keeps its full checkpoint next to the weights file."""
    weights = Path(weights)
    return weights.with_name(weights.name + ".ckpt")


def train(
    data: TrainingSet,
    weights_out: str | Path,
    config: TrainConfig = TrainConfig(),
    resume: bool = False,
    callback: Callable[[dict[str, float]], bool | None] | None = None,
    checkpoint: str | Path | None = None,
    fp16: bool = True,
    monitor: Callable[[Trainer], Mapping[str, float]] | None = None,
    monitor_every: int = 0,
    best_out: str | Path | None = None,
) -> Trainer:
    """Train until ``config.steps`` generator updates (counted across resumes); export the weights.

    ``best_out``: with a monitor, also export calibrated weights there each time the monitor's
    ``score`` is the lowest so far (across resumes), so a run that drifts after its best point
    keeps it (WGAN training does not decrease the fidelity score monotonically).

    ``callback(record)`` sees each step's losses; returning True stops early (checkpointed).
    ``monitor(trainer)``, when given, runs every ``monitor_every`` steps (before that step's
    checkpoint) and its record, with ``step`` added, is appended to ``trainer.fidelity`` (kept in
    the checkpoint). It runs under a forked torch RNG, so monitoring does not change training.
    """
    ckpt = Path(checkpoint) if checkpoint else checkpoint_path_for(weights_out)
    trainer = Trainer(data, config)
    if resume:
        if not ckpt.is_file():
            raise InputFileError(f"{ckpt}: no checkpoint to resume from")
        trainer.load_checkpoint(ckpt)
    trainer.G.train()
    while trainer.step_count < config.steps:
        rec = trainer.step()
        stop = bool(callback is not None and callback(rec))
        if monitor is not None and monitor_every and trainer.step_count % monitor_every == 0:
            rec = run_monitor(trainer, monitor)
            if best_out is not None and "score" in rec and rec["score"] <= best_fidelity_score(trainer):
                export_calibrated(trainer, best_out, fp16=fp16)
        if stop:
            break  # the caller asked to stop (e.g. a wall-time budget): checkpoint and export below
        if trainer.step_count % config.checkpoint_every == 0:
            trainer.save_checkpoint(ckpt)
            export_weights(trainer, weights_out, fp16=fp16)
    trainer.save_checkpoint(ckpt)
    calibration = calibrate_phase_offsets(trainer, config.calibration_size) if config.calibration_size else None
    export_weights(trainer, weights_out, fp16=fp16, calibration=calibration)
    return trainer


def best_fidelity_score(trainer: Trainer) -> float:
    """The lowest monitor score recorded so far (inf without records)."""
    return min((r["score"] for r in trainer.fidelity if "score" in r), default=math.inf)


def export_calibrated(trainer: Trainer, path: str | Path, fp16: bool = True) -> Path:
    """Calibrate the argmax offsets and export, under a forked RNG so training is unchanged."""
    devices = [trainer.device.index or 0] if trainer.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        cfg = trainer.cfg
        calibration = calibrate_phase_offsets(trainer, cfg.calibration_size) if cfg.calibration_size else None
        return export_weights(trainer, path, fp16=fp16, calibration=calibration)


def run_monitor(trainer: Trainer, monitor: Callable[[Trainer], Mapping[str, float]]) -> dict[str, float]:
    """Run ``monitor(trainer)`` without disturbing the training RNG; append and return its record."""
    devices = [trainer.device.index or 0] if trainer.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        rec = {"step": float(trainer.step_count), **{k: float(v) for k, v in monitor(trainer).items()}}
    trainer.fidelity.append(rec)
    return rec


def argmax_offsets(logits: torch.Tensor, target: torch.Tensor, temperature: float = 0.05, max_iters: int = 3000,
                   tol: float = 2e-4) -> torch.Tensor:
    """Per-phase logit offsets ``b`` (shape ``(C,)``) such that ``softmax((logits + b) / T)``,
    averaged over the ``(C, N)`` samples, has the ``target`` fractions: iterative scaling,
    ``b += T log(target / f)``, until every fraction is within ``tol`` (or ``max_iters``). With
    ``T`` small the soft fractions are the argmax ones. Each step moves a logit by ~T x the
    relative error, so a generator with logits spread over a few units needs hundreds of steps
    from a raw fraction 0.1 off (60, the fixed count used before, left ~0.01-0.03 of the error)."""
    b = torch.zeros(logits.shape[0], 1, device=logits.device, dtype=logits.dtype)
    for _ in range(int(max_iters)):
        f = torch.softmax((logits + b) / temperature, dim=0).mean(1)
        if float((f - target).abs().max()) < tol:
            break
        b += temperature * (torch.log(target) - torch.log(f.clamp_min(1e-6)))[:, None]
    return b[:, 0]


def calibrate_phase_offsets(trainer: Trainer, size: int = 64, seeds: int = 3, iters: int = 3000,
                            temperature: float = 0.05, net: CondGenerator3D | None = None) -> dict[str, list]:
    """Fit logit offsets ``b(c) = W φ(c)`` (φ: full quadratic terms of the scaled condition) so
    that argmax labels reproduce the training fractions.

    Inference labels are the argmax of the logits with the batch-norm running statistics, which
    can bias the phase fractions away from the soft probabilities that training matched. For each
    training image's condition this finds the per-phase logit offset that makes the argmax
    fractions of ``seeds`` generated ``size``³ volumes equal the image's measured fractions
    (:func:`argmax_offsets`: iterative scaling of ``softmax((logits + b) / temperature)`` to
    convergence, which tends to the argmax as the temperature falls; a plain log-ratio update on
    argmax counts oscillates), then fits the quadratic response surface by least squares
    (minimum-norm when there are fewer images than terms). It uses only the training images, so held-out points test it honestly.
    ``net`` defaults to the exported generator (:attr:`Trainer.G_export`).
    """
    G, dev = (net if net is not None else trainer.G_export), trainer.device
    conds, offsets = [], []
    targets = trainer.fractions.numpy()
    was_training = G.training
    G.eval()
    lat = max(1, size // G.tile)
    with torch.no_grad():
        for i in range(len(trainer.volumes)):
            c = trainer.cond[i:i + 1].to(dev)
            logits = torch.cat([G.logits(torch.randn(1, G.nz, lat, lat, lat, device=dev), c) for _ in range(seeds)], 2)
            logits = logits[0].reshape(logits.shape[1], -1)[:, ::7]  # a 1-in-7 voxel sample is plenty
            f_t = torch.tensor(targets[i], dtype=torch.float32, device=dev).clamp_min(1e-4)
            b = argmax_offsets(logits, f_t, temperature, iters)
            offsets.append((b - b[0]).cpu().numpy())
            conds.append(trainer.cond[i].numpy())
    G.train(was_training)
    X = np.stack([quadratic_features(torch.tensor(c, dtype=torch.float64)).numpy() for c in conds])
    coef, *_ = np.linalg.lstsq(X, np.asarray(offsets), rcond=None)  # (n_features, n_phases)
    return {"features": "quadratic", "weight": coef.T.tolist()}


def weights_payload(trainer: Trainer, fp16: bool = True, calibration: dict | None = None) -> dict[str, Any]:
    """The inference payload (what :func:`export_weights` writes): the exported generator's
    weights (fp16 unless told otherwise), metadata and the optional argmax calibration."""
    sd = {k: (v.detach().cpu().half() if fp16 and v.is_floating_point() else v.detach().cpu().clone())
          for k, v in trainer.G_export.state_dict().items()}
    return {
        "format": WEIGHTS_FORMAT,
        **_meta(trainer.data, trainer.cfg),
        "steps": trainer.step_count,
        "ema_decay": trainer.cfg.ema_decay,
        "phase_offsets": calibration,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "state_dict": sd,
    }


def export_weights(trainer: Trainer, path: str | Path, fp16: bool = True, calibration: dict | None = None) -> Path:
    """Write the inference file (:func:`weights_payload`) atomically; returns its path."""
    return _save_atomic(weights_payload(trainer, fp16=fp16, calibration=calibration), path)


def _save_atomic(payload: Mapping[str, Any], path: str | Path) -> Path:
    """``torch.save`` to a temporary file beside ``path``, then rename: never a torn file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(dict(payload), tmp)
    os.replace(tmp, path)
    return path


def recalibrate_weights(weights: str | Path, data: TrainingSet, out: str | Path, size: int = 64,
                        seeds: int = 3) -> Path:
    """Refit the argmax calibration of a weights file on ``data`` (its training images) and write
    the result to ``out``: the networks are unchanged, only ``phase_offsets`` is replaced (e.g.
    after a fix of :func:`calibrate_phase_offsets`, without retraining)."""
    from electroforge.plugins.gan.generator import load_weights

    payload = dict(load_weights(weights))
    cfg = TrainConfig(steps=1, nz=int(payload["nz"]), channels=tuple(payload["channels"]),
                      noise_stages=payload.get("noise_stages"), device="cpu", ema_decay=0.0,
                      calibration_size=size, tile=int(payload.get("train_tile", TrainConfig.tile)))
    trainer = Trainer(data, cfg)
    trainer.G.load_state_dict(float_state_dict(payload))
    payload["phase_offsets"] = calibrate_phase_offsets(trainer, size, seeds, net=trainer.G)
    return _save_atomic(payload, out)


def running_mean(history: Sequence[Mapping[str, float]], key: str, window: int = 50) -> list[float]:
    vals = np.array([h[key] for h in history], dtype=float)
    if vals.size < window:
        return [float(vals.mean())] if vals.size else []
    kernel = np.ones(window) / window
    return np.convolve(vals, kernel, mode="valid").tolist()
