"""Training images of the conditional generator: the labelled volumes, their parameters and envelope.

Contract: :func:`load_training_set` reads ``labels.csv`` (a ``file`` column naming an image in the
images folder, then one numeric column per manufacturing parameter) and the 3D label images
(``.tif``/``.nc``/``.npy``, labels 0 pore / 1 active / 2 binder, x through the thickness) into a
:class:`TrainingSet`; bad input raises :class:`~electroforge.errors.InputFileError` with a one-line
message naming the file, row or value.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import attrs
import numpy as np
import torch

from electroforge.errors import InputFileError

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


def onehot(volume: np.ndarray, n_phases: int) -> torch.Tensor:
    """Labels ``(X, Y, Z)`` -> float indicators ``(1, n_phases, X, Y, Z)``."""
    onehot = torch.nn.functional.one_hot(torch.from_numpy(np.asarray(volume, dtype=np.int64)), n_phases)
    return onehot.permute(3, 0, 1, 2)[None].float()
