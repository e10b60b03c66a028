"""The ``procedural`` generator: a physics-inspired cathode manufacturing simulator.

Contract (docs/plugin-contract.md, docs/generators.md): ``ProceduralGenerator().generate(params, shape, seed)`` returns a
:class:`~electroforge.model.Microstructure` with labels 0 pore, 1 active (NMC), 2 carbon-binder
domain (CBD), x through the thickness, whose measured volume fractions equal the targets implied
by ``am_mass_fraction`` and ``porosity`` (via :func:`electroforge.materials.solid_volume_fractions`)
to within one voxel per phase, deterministic for a seed.

Algorithm
---------
1. **Active particles (slurry + drying).** Sphere radii are drawn from a log-normal distribution
   of *diameters* (median ``particle_diameter_m`` = 5 µm, log-std ``particle_diameter_sigma`` =
   0.25, clipped to [0.5, 2] × median, i.e. 2.5-10 µm). Spheres are placed by random sequential
   addition: a candidate centre is accepted when it penetrates the current packing by at most
   ``overlap`` × its radius (calendering squeezes particles into one another); when the packing
   jams the allowed overlap grows. A clipped signed distance ``sdf`` to the union of spheres is
   updated locally for each particle.
2. **Exact active fraction.** The active phase is the ``n_am`` voxels with the smallest ``sdf``
   (a uniform dilation/erosion of all particles by a fraction of a voxel), so the active fraction
   is exact to a voxel whatever packing the placement reached.
3. **Carbon-binder domain by adhesion.** Pore voxels get a score mixing two placement rules with
   weight ``a = binder_adhesion``: *wetting* (small distance to the active surface, bonus in the
   concave necks between touching particles, found by a morphological closing) and *agglomerates*
   (a smooth random field, high in blobs of ~1.5 µm, with a bias away from particle surfaces).
   The ``n_cbd`` pore voxels with the lowest score become CBD, so ``a = 1`` gives films and necks
   and ``a = 0`` separate agglomerates in the pores. The porosity is then exact too.

Voxel size: 0.4 µm by default (a 128³ cube is 51.2 µm, about one coating thickness; a 64³ cube
25.6 µm). All lengths are given in metres and converted to voxels with ``voxel_size_m``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import edt
import numpy as np
from scipy import ndimage as ndi

from electroforge.errors import ValidationError
from electroforge.materials import NMC811, CathodeMaterials, solid_volume_fractions
from electroforge.model import Microstructure

#: Parameter names and the envelope the generator is calibrated for (contract names).
PARAMETERS: dict[str, tuple[float, float]] = {
    "am_mass_fraction": (0.85, 0.97),
    "porosity": (0.25, 0.50),
    "binder_adhesion": (0.0, 1.0),
}
#: Mid-range values used for parameters a caller leaves out.
DEFAULTS: dict[str, float] = {"am_mass_fraction": 0.91, "porosity": 0.375, "binder_adhesion": 0.5}


def resolve_params(params: Mapping[str, float], generator: str = "procedural") -> dict[str, float]:
    """Fill missing parameters with :data:`DEFAULTS`; unknown names or non-physical values raise."""
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise ValidationError(f"generator {generator!r} does not take parameter(s) {unknown}; it takes {sorted(PARAMETERS)}")
    out = {**DEFAULTS, **{k: float(v) for k, v in params.items()}}
    for k, v in out.items():
        if not math.isfinite(v):
            raise ValidationError(f"generator {generator!r}: {k}={v!r} must be finite")
    if not 0.0 < out["am_mass_fraction"] <= 1.0:
        raise ValidationError(f"generator {generator!r}: am_mass_fraction={out['am_mass_fraction']:g} must lie in (0, 1]")
    if not 0.0 < out["porosity"] < 0.95:
        raise ValidationError(f"generator {generator!r}: porosity={out['porosity']:g} must lie in (0, 0.95)")
    if not 0.0 <= out["binder_adhesion"] <= 1.0:
        raise ValidationError(f"generator {generator!r}: binder_adhesion={out['binder_adhesion']:g} must lie in [0, 1]")
    return out


def check_shape(shape, generator: str = "procedural") -> tuple[int, int, int]:
    try:
        dims = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise ValidationError(f"generator {generator!r}: shape {shape!r} must be three integers") from None
    if len(dims) != 3 or min(dims) < 4:
        raise ValidationError(f"generator {generator!r}: shape {shape!r} must be three edges of at least 4 voxels")
    return dims  # type: ignore[return-value]


def _ball(r: int) -> np.ndarray:
    g = np.arange(-r, r + 1)
    return (g[:, None, None] ** 2 + g[None, :, None] ** 2 + g[None, None, :] ** 2) <= r * r


def distance_from_active(pore: np.ndarray) -> np.ndarray:
    """Euclidean distance (voxels, float32) of each ``pore`` voxel to the nearest non-pore voxel, 0 on
    non-pore voxels: the values of ``scipy.ndimage.distance_transform_edt`` (tested equal), computed
    by the ``edt`` package, ~4x faster at 128³ (scipy's feature transform was half the generator's time)."""
    if pore.all():  # no active voxel: nothing to measure from (scipy's convention)
        return ndi.distance_transform_edt(pore).astype(np.float32)
    return edt.edt(np.ascontiguousarray(pore), black_border=False, parallel=1)


def _smallest(score: np.ndarray, n: int) -> np.ndarray:
    """Flat indices of the ``n`` smallest entries (ties broken by position, deterministic)."""
    flat = score.ravel()
    if n <= 0:
        return np.empty(0, dtype=np.int64)
    if n >= flat.size:
        return np.arange(flat.size)
    return np.argpartition(flat, n - 1, kind="introselect")[:n]


class ProceduralGenerator:
    """Overlapping polydisperse spheres + carbon-binder placed by adhesion (see module docstring).

    Options (all keyword, with defaults):

    * ``voxel_size_m`` (4e-7): edge of one voxel.
    * ``particle_diameter_m`` (5e-6): median active-particle diameter (log-normal).
    * ``particle_diameter_sigma`` (0.25): log-standard deviation of the diameter distribution.
    * ``overlap`` (0.3): initial allowed particle penetration as a fraction of the radius.
    * ``materials``: densities for the mass -> volume conversion (NMC811 4.75, CBD 1.9 g/cm³).
    """

    name = "procedural"
    parameters: Mapping[str, tuple[float, float]] = PARAMETERS

    def __init__(
        self,
        voxel_size_m: float = 4e-7,
        particle_diameter_m: float = 5e-6,
        particle_diameter_sigma: float = 0.25,
        overlap: float = 0.3,
        materials: CathodeMaterials = NMC811,
    ):
        for opt, v in (("voxel_size_m", voxel_size_m), ("particle_diameter_m", particle_diameter_m)):
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValidationError(f"generator {self.name!r}: option {opt}={v!r} must be a number > 0")
        if not 0.0 <= particle_diameter_sigma <= 1.0:
            raise ValidationError(f"generator {self.name!r}: particle_diameter_sigma={particle_diameter_sigma!r} must lie in [0, 1]")
        if not 0.0 <= overlap < 1.0:
            raise ValidationError(f"generator {self.name!r}: overlap={overlap!r} must lie in [0, 1)")
        self.voxel_size_m = float(voxel_size_m)
        self.particle_diameter_m = float(particle_diameter_m)
        self.particle_diameter_sigma = float(particle_diameter_sigma)
        self.overlap = float(overlap)
        self.materials = materials

    # ------------------------------------------------------------------ public
    def target_fractions(self, params: Mapping[str, float]) -> dict[str, float]:
        """Volume fractions (pore, active, binder) implied by the parameters and the densities."""
        p = resolve_params(params, self.name)
        eps_am, eps_cbd = solid_volume_fractions(p["am_mass_fraction"], p["porosity"], self.materials)
        return {"pore": p["porosity"], "active": eps_am, "binder": eps_cbd}

    def generate(self, params: Mapping[str, float], shape: tuple[int, int, int], seed: int) -> Microstructure:
        p = resolve_params(params, self.name)
        dims = check_shape(shape, self.name)
        rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 0x5EED])
        targets = self.target_fractions(p)
        n_vox = int(np.prod(dims))
        n_am = int(round(targets["active"] * n_vox))
        n_cbd = int(round(targets["binder"] * n_vox))
        sdf = self._pack_particles(dims, targets["active"], rng)
        labels = np.zeros(dims, dtype=np.uint8)
        am_idx = _smallest(sdf, n_am)
        labels.ravel()[am_idx] = 1
        self._place_binder(labels, n_cbd, p["binder_adhesion"], rng)
        return Microstructure(
            labels=labels,
            voxel_size_m=self.voxel_size_m,
            metadata={"generator": self.name, "params": dict(p), "seed": int(seed)},
            particle_radius_m=self.particle_radius_m,
        )

    def particle_packing(self, params: Mapping[str, float], shape, seed: int) -> np.ndarray:
        """The spheres ``(n, 4)``, rows ``(x, y, z, r)`` in voxels, that :meth:`generate` packs for
        the same arguments (the same random stream, replayed up to the packing)."""
        p = resolve_params(params, self.name)
        dims = check_shape(shape, self.name)
        rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 0x5EED])
        spheres: list[tuple[float, float, float, float]] = []
        self._pack_particles(dims, self.target_fractions(p)["active"], rng, spheres)
        return np.asarray(spheres, dtype=np.float64).reshape(-1, 4)

    @property
    def particle_radius_m(self) -> float:
        """Sauter mean radius (E[r³] / E[r²], m) of the particle-size distribution the packing
        draws from (log-normal, clipped to [median/2, 2 median]): the radius whose spheres have
        the particles' volume-to-surface ratio, i.e. the solid-diffusion length a cell model
        should use. Depends on the options only, so every volume of a campaign reports the same."""
        median = 0.5 * self.particle_diameter_m
        z = np.linspace(-8.0, 8.0, 4001)
        w = np.exp(-0.5 * z * z)
        r = np.clip(median * np.exp(self.particle_diameter_sigma * z), 0.5 * median, 2.0 * median)
        return float(np.sum(w * r**3) / np.sum(w * r**2))

    # ------------------------------------------------------------------ stage 1: particles
    def _radius_sampler(self, rng: np.random.Generator):
        median_r = 0.5 * self.particle_diameter_m / self.voxel_size_m
        lo, hi = 0.5 * median_r, 2.0 * median_r
        if median_r < 1.0:
            raise ValidationError(
                f"generator {self.name!r}: particle_diameter_m={self.particle_diameter_m:g} is under two voxels "
                f"of {self.voxel_size_m:g} m"
            )
        return lambda n: np.clip(median_r * np.exp(self.particle_diameter_sigma * rng.standard_normal(n)), lo, hi), hi

    def _pack_particles(self, dims, eps_am: float, rng: np.random.Generator,
                        spheres: list[tuple[float, float, float, float]] | None = None) -> np.ndarray:
        """Random sequential addition of overlapping spheres; returns the clipped signed distance.
        ``spheres``: a list that receives each placed sphere as ``(x, y, z, r)`` (voxels), e.g. to
        ask what a sphere-placing generator must be able to represent."""
        draw, r_max = self._radius_sampler(rng)
        dims_a = np.array(dims, dtype=float)
        margin = float(r_max) + 2.0
        sdf = np.full(dims, margin, dtype=np.float32)
        n_target = eps_am * sdf.size
        covered = 0
        overlap = self.overlap
        fails = 0
        radii = iter(())
        coords = [np.arange(n, dtype=np.float32) + 0.5 for n in dims]
        while covered < n_target:
            r = next(radii, None)
            if r is None:
                radii = iter(draw(256).tolist())
                continue
            cand = rng.uniform(0.0, 1.0, size=(32, 3)) * dims_a
            ci = np.minimum(cand.astype(int), np.array(dims) - 1)
            d = sdf[ci[:, 0], ci[:, 1], ci[:, 2]]
            ok = np.flatnonzero(d >= (1.0 - overlap) * r)
            if ok.size == 0:
                fails += 1
                if fails > 8:  # the packing is jammed at this overlap: calendering presses harder
                    overlap = min(overlap + 0.05, 0.95)
                    fails = 0
                continue
            fails = 0
            c = cand[ok[0]]
            if spheres is not None:
                spheres.append((float(c[0]), float(c[1]), float(c[2]), float(r)))
            h = r + margin
            lo = np.maximum(np.floor(c - h).astype(int), 0)
            hi = np.minimum(np.ceil(c + h).astype(int) + 1, dims)
            sl = tuple(slice(a, b) for a, b in zip(lo, hi))
            dx = (coords[0][sl[0]] - c[0])[:, None, None]
            dy = (coords[1][sl[1]] - c[1])[None, :, None]
            dz = (coords[2][sl[2]] - c[2])[None, None, :]
            dist = np.sqrt(dx * dx + dy * dy + dz * dz) - np.float32(r)
            block = sdf[sl]
            before = int(np.count_nonzero(block <= 0))
            np.minimum(block, dist, out=block)
            covered += int(np.count_nonzero(block <= 0)) - before
        return sdf

    # ------------------------------------------------------------------ stage 3: binder
    def _place_binder(self, labels: np.ndarray, n_cbd: int, adhesion: float, rng: np.random.Generator) -> None:
        if n_cbd <= 0:
            return
        am = labels == 1
        pore = ~am
        d_am = distance_from_active(pore)  # voxels from the active surface
        blob = 1.5e-6 / self.voxel_size_m  # agglomerate size scale in voxels
        score = np.zeros(labels.shape, dtype=np.float32)
        if adhesion > 0:
            r_neck = max(1, int(round(0.8e-6 / self.voxel_size_m)))
            padded = np.pad(am, r_neck, mode="edge")
            closed = ndi.binary_closing(padded, structure=_ball(r_neck))
            neck = closed[tuple(slice(r_neck, -r_neck) for _ in range(3))] & pore
            film = d_am - 2.0 * neck
            film += 0.5 * self._noise(labels.shape, max(1.0, 0.5 * blob), rng)
            score += np.float32(adhesion) * film
        if adhesion < 1:
            agglo = -4.0 * self._noise(labels.shape, blob, rng)
            agglo -= 0.5 * np.minimum(d_am, 3.0)  # away from surfaces, into the pores
            score += np.float32(1.0 - adhesion) * agglo
        score[am] = np.inf
        idx = _smallest(score, n_cbd)
        labels.ravel()[idx] = 2

    @staticmethod
    def _noise(shape, sigma_vox: float, rng: np.random.Generator) -> np.ndarray:
        """Smooth Gaussian random field with unit standard deviation."""
        field = ndi.gaussian_filter(rng.standard_normal(shape, dtype=np.float32), sigma_vox, mode="wrap")
        std = float(field.std())
        return field / std if std > 0 else field
