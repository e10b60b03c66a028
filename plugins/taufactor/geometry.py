"""Geometric metrics of a labelled volume: percolation, interface areas, binder coverage.

Conventions (shared with :mod:`electroforge.plugins.taufactor.characterizer`):

* x (array axis 0) is through the electrode thickness;
* connectivity is by faces (6-neighbourhood), the connectivity the voxel transport solvers use;
* surfaces cut by the domain boundary are not interfaces and are never counted.
"""
from __future__ import annotations

import functools

import numpy as np
from scipy import ndimage as ndi

_FACES = ndi.generate_binary_structure(3, 1)


def through_x_fraction(mask: np.ndarray) -> float:
    """Fraction of the ``mask`` voxels lying in face-connected clusters that touch both x faces.

    0.0 means the phase does not percolate through the thickness (an empty mask gives 0.0).
    """
    mask = np.asarray(mask, dtype=bool)
    total = int(mask.sum())
    if total == 0:
        return 0.0
    first, last = mask[0], mask[-1]
    if not first.any() or not last.any():
        return 0.0
    lab, _ = ndi.label(mask, structure=_FACES)
    spanning = np.intersect1d(np.unique(lab[0][first]), np.unique(lab[-1][last]))
    if spanning.size == 0:
        return 0.0
    counts = np.bincount(lab.ravel())
    return float(counts[spanning].sum()) / total


def face_counts(labels: np.ndarray, phase: int, n_labels: int) -> np.ndarray:
    """Number of voxel faces between ``phase`` and each label (index = the other label).

    Only faces inside the volume are counted; the ``phase``-``phase`` entry is 0.
    """
    out = np.zeros(n_labels, dtype=np.int64)
    for axis in range(3):
        a = np.moveaxis(labels, axis, 0)
        lo, hi = a[:-1], a[1:]
        for this, other in ((lo, hi), (hi, lo)):
            sel = (this == phase) & (other != phase)
            out += np.bincount(other[sel], minlength=n_labels)[:n_labels]
    return out


def surface_area_voxels(mask: np.ndarray) -> float:
    """Area (in voxel-face units) of the boundary of ``mask`` inside the volume, by marching cubes.

    Marching cubes (Lewiner, as scikit-image implements it) on the unsmoothed binary mask at the
    0.5 level: within 1-2 % of the exact area for spheres of a few voxels' radius, where counting
    voxel faces overestimates by ~40 % (measured). The mesh is not closed on the domain faces, so
    the cut surface of the sample is not counted.

    On binary data every mesh vertex sits at an edge midpoint and the triangles of a 2x2x2 cell
    depend only on its eight corners, so the mesh area is a sum over cells of a 256-entry table
    (:func:`_cell_area_table`, built once from scikit-image's own marching cubes): the same number as
    ``mesh_surface_area(marching_cubes(mask))`` to float rounding (tested), ~30x faster.
    """
    mask = np.asarray(mask, dtype=bool)
    if not mask.any() or mask.all() or min(mask.shape) < 2:
        return 0.0
    m = mask.view(np.uint8)
    nx, ny, nz = (s - 1 for s in m.shape)
    code = np.zeros((nx, ny, nz), dtype=np.uint8)
    for bit, (i, j, k) in enumerate(_CORNERS):
        code |= m[i:i + nx, j:j + ny, k:k + nz] << np.uint8(bit)
    return float(np.bincount(code.ravel(), minlength=256) @ _cell_area_table())


_CORNERS = [(i, j, k) for i in (0, 1) for j in (0, 1) for k in (0, 1)]


@functools.lru_cache(maxsize=1)
def _cell_area_table() -> np.ndarray:
    """Marching-cubes surface area of a single 2x2x2 cell for each of the 256 corner patterns."""
    table = np.zeros(256)
    for code in range(1, 255):
        cell = np.zeros((2, 2, 2), np.float32)
        for bit, corner in enumerate(_CORNERS):
            cell[corner] = (code >> bit) & 1
        table[code] = surface_area_marching_cubes(cell)
    return table


def surface_area_marching_cubes(mask: np.ndarray) -> float:
    """The same area straight from scikit-image: ``mesh_surface_area(marching_cubes(mask, 0.5))``."""
    from skimage import measure

    sub = np.asarray(mask, dtype=np.float32)
    if min(sub.shape) < 2 or sub.min() == sub.max():
        return 0.0
    verts, faces, _, _ = measure.marching_cubes(sub, 0.5, method="lewiner")
    return float(measure.mesh_surface_area(verts, faces))


def spanning_mask(mask: np.ndarray) -> np.ndarray:
    """The ``mask`` voxels in face-connected clusters that touch both x faces (the ones that carry current).

    Clusters touching one x face or none carry no current in the steady state; removing them leaves the
    effective transport coefficient unchanged and the linear system non-singular.
    """
    mask = np.asarray(mask, dtype=bool)
    if not mask[0].any() or not mask[-1].any():
        return np.zeros(mask.shape, dtype=bool)
    lab, _ = ndi.label(mask, structure=_FACES)
    spanning = np.intersect1d(np.unique(lab[0][mask[0]]), np.unique(lab[-1][mask[-1]]))
    spanning = spanning[spanning > 0]
    if spanning.size == 0:
        return np.zeros(mask.shape, dtype=bool)
    keep = np.zeros(int(lab.max()) + 1, dtype=bool)
    keep[spanning] = True
    return keep[lab]
