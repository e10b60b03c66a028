"""A fast synthetic three-phase cathode for tests, benchmarks and the RVE analysis demos.

Not a generator plugin (the ``procedural`` and ``gan`` generators are): a small, deterministic,
numpy/scipy-only volume whose statistics are homogeneous, so that representativity and
physical-sanity checks have something realistic to measure without depending on a generator.

Recipe: active material is a Boolean model of overlapping spheres (Poisson centres, radius
``radius_vox``) whose intensity is chosen so that the expected active fraction is
``active_fraction``; the carbon-binder domain (CBD) is the ``binder_fraction`` of pore voxels
closest to the active surface, perturbed by smooth noise so the coating is patchy.
Labels: 0 pore, 1 active, 2 binder; x (axis 0) is through the thickness.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import ndimage as ndi


def synthetic_electrode(
    n: int | tuple[int, int, int] = 64,
    active_fraction: float = 0.55,
    binder_fraction: float = 0.10,
    radius_vox: float = 6.0,
    seed: int = 0,
) -> np.ndarray:
    """Return a uint8 label volume (0 pore, 1 active, 2 binder) of shape ``n`` (or n³)."""
    shape = (n, n, n) if isinstance(n, int) else tuple(int(s) for s in n)
    if not 0 < active_fraction < 1 or not 0 <= binder_fraction < 1 - active_fraction:
        raise ValueError("need 0 < active_fraction and active_fraction + binder_fraction < 1")
    rng = np.random.default_rng(seed)
    volume = float(np.prod(shape))
    # Boolean model: P(active) = 1 - exp(-lambda * 4/3 pi r^3)
    lam = -math.log(1.0 - active_fraction) / (4.0 / 3.0 * math.pi * radius_vox**3)
    n_centres = max(1, rng.poisson(lam * volume))
    centres = rng.uniform(0, 1, size=(n_centres, 3)) * np.array(shape)
    idx = np.clip(centres.astype(int), 0, np.array(shape) - 1)
    seeds = np.ones(shape, dtype=bool)
    seeds[idx[:, 0], idx[:, 1], idx[:, 2]] = False
    dist = ndi.distance_transform_edt(seeds)
    labels = (dist <= radius_vox).astype(np.uint8)
    if binder_fraction > 0:
        pore = labels == 0
        d_active = ndi.distance_transform_edt(pore)
        noise = ndi.gaussian_filter(rng.standard_normal(shape), 2.0)
        noise /= noise.std() or 1.0
        score = d_active + 0.8 * noise
        score[~pore] = np.inf
        k = int(round(binder_fraction * volume))
        k = min(k, int(pore.sum()) - 1)
        if k > 0:
            chosen = np.argpartition(score.ravel(), k)[:k]
            labels.ravel()[chosen] = 2
    return labels
