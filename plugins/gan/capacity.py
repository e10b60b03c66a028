"""What a sphere-slot generator can represent, measured on the simulator's own sphere packings.

The spheres design (:mod:`electroforge.plugins.gan.sphere_nets`) gives every latent cell of
``cell`` voxels ``slots`` candidate particles whose centres lie inside the cell and whose radii are
at most ``cell - feature_clip``. Whatever the training, a packing with more particle centres in a
cell than it has slots, or with larger particles, is out of its reach. :func:`slot_capacity`
measures that limit directly: it keeps, in every cell, the ``slots`` largest of the packing's
spheres (radii clipped to the design's maximum), renders their union, matches the active volume
fraction by a uniform dilation (as the generator's fraction matching does) and compares the
result voxel by voxel with the full packing. It is an upper bound on what training can reach,
and costs seconds instead of a training run, which makes it the ablation of ``cell`` and
``slots`` (``scripts/gan_sphere_capacity.py``).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def union_sdf(spheres: np.ndarray, dims: Sequence[int], reach: float) -> np.ndarray:
    """Signed distance (voxels, negative inside) to the union of ``spheres`` ``(n, 4)`` rows
    ``(x, y, z, r)`` on the voxel centres of ``dims``, clipped above at ``reach``."""
    dims = tuple(int(d) for d in dims)
    sdf = np.full(dims, float(reach), dtype=np.float32)
    coords = [np.arange(n, dtype=np.float32) + 0.5 for n in dims]
    for x, y, z, r in np.asarray(spheres, dtype=np.float64):
        c = np.array([x, y, z])
        lo = np.maximum(np.floor(c - r - reach).astype(int), 0)
        hi = np.minimum(np.ceil(c + r + reach).astype(int) + 1, dims)
        if np.any(hi <= lo):
            continue
        sl = tuple(slice(a, b) for a, b in zip(lo, hi))
        d2 = ((coords[0][sl[0]] - x) ** 2)[:, None, None] + ((coords[1][sl[1]] - y) ** 2)[None, :, None] \
            + ((coords[2][sl[2]] - z) ** 2)[None, None, :]
        np.minimum(sdf[sl], np.sqrt(d2) - np.float32(r), out=sdf[sl])
    return sdf


def smallest_mask(field: np.ndarray, n: int) -> np.ndarray:
    """Boolean mask of the ``n`` smallest values of ``field`` (the exact-fraction step)."""
    mask = np.zeros(field.size, dtype=bool)
    if n > 0:
        mask[np.argpartition(field.ravel(), n - 1)[:n]] = True
    return mask.reshape(field.shape)


def keep_per_cell(spheres: np.ndarray, cell: int, slots: int, radius_max: float) -> np.ndarray:
    """The spheres a ``cell``/``slots`` design can hold: in each cell (by centre) the ``slots``
    largest, radii clipped to ``radius_max``."""
    s = np.asarray(spheres, dtype=np.float64).reshape(-1, 4)
    if s.size == 0:
        return s
    key = np.floor(s[:, :3] / cell).astype(np.int64)
    order = np.lexsort((-s[:, 3], key[:, 2], key[:, 1], key[:, 0]))  # by cell, largest first
    s, key = s[order], key[order]
    new_cell = np.ones(len(s), dtype=bool)
    new_cell[1:] = np.any(key[1:] != key[:-1], axis=1)
    start = np.maximum.accumulate(np.where(new_cell, np.arange(len(s)), 0))
    kept = s[np.arange(len(s)) - start < slots].copy()
    kept[:, 3] = np.minimum(kept[:, 3], radius_max)
    return kept


def slot_capacity(spheres: np.ndarray, active: np.ndarray, cell: int, slots: int,
                  feature_clip: float = 4.0) -> dict[str, float]:
    """How much of the active phase ``active`` (boolean, the packing's exact-fraction labels) a
    ``cell``/``slots`` design can reproduce from the packing's ``spheres``.

    Returns ``iou`` (intersection over union of the active phase after fraction matching; 1 is
    lossless), ``dropped`` (share of the spheres that find no slot) and ``clipped`` (share whose
    radius exceeds the design's ``cell - feature_clip``)."""
    s = np.asarray(spheres, dtype=np.float64).reshape(-1, 4)
    radius_max = float(cell) - float(feature_clip)
    if radius_max <= 0:
        raise ValueError(f"cell {cell} leaves no radius above feature_clip {feature_clip}")
    kept = keep_per_cell(s, cell, slots, radius_max)
    reach = float(s[:, 3].max()) + 2.0 if len(s) else 2.0
    mask = smallest_mask(union_sdf(kept, active.shape, reach), int(active.sum()))
    union = np.count_nonzero(mask | active)
    return {
        "iou": float(np.count_nonzero(mask & active) / union) if union else 1.0,
        "dropped": 1.0 - len(kept) / len(s) if len(s) else 0.0,
        "clipped": float(np.mean(s[:, 3] > radius_max)) if len(s) else 0.0,
    }
