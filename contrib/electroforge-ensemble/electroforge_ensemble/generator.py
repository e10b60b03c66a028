"""The ``gan-ensemble`` generator: a deep ensemble of conditional GANs that reports its own doubt.

Contract: ``EnsembleGenerator(members=None, device="cpu", voxel_size_m=None, probe_size=32,
allow_extrapolation=False, report_uncertainty=True)``.

* ``members``: a folder of ``*.pt`` weights files or a list of paths, each a weights file of the
  built-in ``gan`` generator (:func:`electroforge.plugins.gan.training.export_weights`) trained on the
  same envelope; default: the members shipped in this package (fine-tuned from the built-in
  weights on bootstrap resamples of its training images, see ``scripts/train_members.py``).
* ``parameters`` is *wider* than the members' training envelope (``training_envelope``), so a
  campaign may propose designs beyond it; the generator then extrapolates, and says how unsure it is.
* ``generate(params, shape, seed)`` returns the microstructure of member ``seed % K`` (so a campaign's
  evaluations draw from every member), with ``metadata["member"]`` and ``metadata["uncertainty"]``.
* ``generate_with_uncertainty(params, shape, seed) -> (Microstructure, float)``: the same
  microstructure and the ensemble's *relative* spread: every member generates a ``probe_size``³ cube
  from the same latent seed, cheap metrics are measured on each (:func:`probe_metrics`: porosity,
  active-material volume fraction, pore/solid interface area per volume), and the spread is the
  root mean square over those metrics of ``std(members, ddof=1) / |mean(members)|``. With K = 4
  members at 32³ this costs a few tens of milliseconds.
* ``report_uncertainty=False`` makes the spread 0 (a control run without per-observation noise).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from electroforge.errors import InputFileError, ValidationError
from electroforge.model import Microstructure

SHIPPED_MEMBERS = Path(__file__).resolve().parent / "weights"

#: How far beyond the training envelope a campaign may go (raw units); binder_adhesion is a 0-1 scale.
WIDE_PARAMETERS: dict[str, tuple[float, float]] = {
    "am_mass_fraction": (0.80, 0.99),
    "porosity": (0.15, 0.60),
    "binder_adhesion": (0.0, 1.0),
}


def probe_metrics(labels: np.ndarray) -> np.ndarray:
    """Cheap metrics of a label volume: ``[porosity, active fraction, interface faces per voxel]``.

    The interface term counts the voxel faces between pore (label 0) and solid (any other label)
    along the three axes, divided by the number of voxels: the specific surface area in units of
    one over the voxel edge.
    """
    lab = np.asarray(labels)
    pore = lab == 0
    faces = sum(int(np.count_nonzero(np.diff(pore, axis=a))) for a in range(3))
    return np.array([pore.mean(), (lab == 1).mean(), faces / lab.size], dtype=float)


def relative_spread(metrics: np.ndarray) -> float:
    """``(K, m)`` member metrics -> RMS over metrics of std/|mean| across members (0 when K < 2)."""
    metrics = np.asarray(metrics, dtype=float)
    if metrics.shape[0] < 2:
        return 0.0
    mean = np.abs(metrics.mean(axis=0))
    std = metrics.std(axis=0, ddof=1)
    rel = np.where(mean > 1e-9, std / np.maximum(mean, 1e-9), 0.0)
    return float(math.sqrt(float(np.mean(rel ** 2))))


def _member_paths(members: str | Path | Sequence[str | Path] | None) -> list[Path]:
    if members is None:
        members = SHIPPED_MEMBERS
    if isinstance(members, (str, Path)):
        folder = Path(members)
        if not folder.is_dir():
            raise InputFileError(f"generator 'gan-ensemble': members={str(folder)!r} is not a folder of .pt weights")
        paths = sorted(folder.glob("*.pt"))
        if not paths:
            raise InputFileError(f"generator 'gan-ensemble': no *.pt member weights in {folder}")
    else:
        paths = [Path(p) for p in members]
    if len(paths) < 2:
        raise ValidationError(f"generator 'gan-ensemble': needs at least 2 members, got {len(paths)}")
    return paths


class EnsembleGenerator:
    """A deep ensemble of ``gan`` generators; see the module docstring for options and behaviour."""

    name = "gan-ensemble"
    parameters: Mapping[str, tuple[float, float]] = dict(WIDE_PARAMETERS)

    def __init__(self, members: str | Path | Sequence[str | Path] | None = None, device: str = "cpu",
                 voxel_size_m: float | None = None, probe_size: int = 32, allow_extrapolation: bool = False,
                 report_uncertainty: bool = True):
        from electroforge.plugins.gan.generator import GanGenerator

        self.members = members
        self.device = str(device)
        self.allow_extrapolation = bool(allow_extrapolation)
        self.report_uncertainty = bool(report_uncertainty)
        self.probe_size = int(probe_size)
        if self.probe_size < 8:
            raise ValidationError(f"generator 'gan-ensemble': probe_size={probe_size!r} must be >= 8 voxels")
        self.paths = _member_paths(members)
        self._gans = [GanGenerator(weights=p, device=self.device, voxel_size_m=voxel_size_m, allow_extrapolation=True)
                      for p in self.paths]
        first = self._gans[0]
        for g in self._gans[1:]:
            if g.param_names != first.param_names or g.parameters != first.parameters:
                raise InputFileError(f"generator 'gan-ensemble': member {g.weights.name} was trained on "
                                     f"{g.parameters}, member {first.weights.name} on {first.parameters}")
        self.param_names = first.param_names
        #: The envelope the members were trained on (raw units).
        self.training_envelope: dict[str, tuple[float, float]] = dict(first.parameters)
        self.parameters = {n: (min(WIDE_PARAMETERS.get(n, first.parameters[n])[0], first.parameters[n][0]),
                               max(WIDE_PARAMETERS.get(n, first.parameters[n])[1], first.parameters[n][1]))
                           for n in self.param_names}
        self.voxel_size_m = first.voxel_size_m

    @property
    def n_members(self) -> int:
        return len(self._gans)

    def resolve(self, params: Mapping[str, float]) -> dict[str, float]:
        """Fill missing parameters with mid-envelope values; check names and the declared range."""
        unknown = sorted(set(params) - set(self.param_names))
        if unknown:
            raise ValidationError(f"generator 'gan-ensemble' does not take parameter(s) {unknown}; "
                                  f"it takes {list(self.param_names)}")
        out = {}
        for n in self.param_names:
            lo, hi = self.training_envelope[n]
            v = float(params.get(n, 0.5 * (lo + hi)))
            if not math.isfinite(v):
                raise ValidationError(f"generator 'gan-ensemble': {n}={v!r} must be finite")
            wlo, whi = self.parameters[n]
            if not wlo - 1e-9 <= v <= whi + 1e-9 and not self.allow_extrapolation:
                raise ValidationError(f"generator 'gan-ensemble': {n}={v:g} is outside its range [{wlo:g}, {whi:g}] "
                                      "(use --allow-extrapolation to try anyway)")
            out[n] = v
        return out

    def envelope_distance(self, params: Mapping[str, float]) -> float:
        """How far outside the training envelope a design lies: the largest excess over any
        parameter, as a fraction of that parameter's envelope width (0 inside)."""
        p = self.resolve(params)
        d = 0.0
        for n, (lo, hi) in self.training_envelope.items():
            w = (hi - lo) or 1.0
            d = max(d, (lo - p[n]) / w, (p[n] - hi) / w)
        return float(d)

    def member_metrics(self, params: Mapping[str, float], seed: int, size: int | None = None) -> np.ndarray:
        """``(K, 3)`` :func:`probe_metrics` of every member's ``size``³ cube from the same seed."""
        p = self.resolve(params)
        n = int(size or self.probe_size)
        return np.stack([probe_metrics(g.generate(p, (n, n, n), seed).labels) for g in self._gans])

    def uncertainty(self, params: Mapping[str, float], seed: int = 0) -> float:
        """The relative spread of the members' probe metrics at ``params`` (see the module docstring)."""
        return relative_spread(self.member_metrics(params, seed))

    def generate(self, params: Mapping[str, float], shape: tuple[int, int, int], seed: int) -> Microstructure:
        return self._generate(params, shape, seed, None)

    def generate_with_uncertainty(self, params: Mapping[str, float], shape: tuple[int, int, int],
                                  seed: int) -> tuple[Microstructure, float]:
        spread = self.uncertainty(params, seed) if self.report_uncertainty else 0.0
        return self._generate(params, shape, seed, spread), spread

    def _generate(self, params, shape, seed: int, spread: float | None) -> Microstructure:
        p = self.resolve(params)
        k = int(seed) % self.n_members
        ms = self._gans[k].generate(p, shape, seed)
        meta: dict[str, Any] = dict(ms.metadata)
        meta.update(generator=self.name, member=k, n_members=self.n_members,
                    envelope_distance=self.envelope_distance(p))
        if spread is not None:
            meta["uncertainty"] = float(spread)
        return Microstructure(labels=ms.labels, voxel_size_m=ms.voxel_size_m, phases=ms.phases, metadata=meta)
