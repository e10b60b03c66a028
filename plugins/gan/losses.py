"""The differentiable statistics the generator's loss matches against its training images.

Each function takes ``(B, C, X, Y, Z)`` phase indicators or probabilities (so it works on labels
and on the generator's softmax alike); ``image_*`` compute a statistic's per-image targets. The
loop (:mod:`electroforge.plugins.gan.trainer`) weights each term by its ``TrainConfig`` option:
two-point correlation (``s2_weight``), binder coverage (``coverage_weight``), erosion curve
(``erosion_weight``) and Euler-characteristic density (``euler_weight``).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from electroforge.plugins.gan.data import onehot


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


def image_coverage(volumes: Sequence[np.ndarray], n_phases: int, active: int, binder: int) -> torch.Tensor:
    """``(n_images,)`` binder coverage of each training image."""
    return torch.stack([soft_binder_coverage(onehot(v, n_phases), active, binder)[0] for v in volumes])


def image_erosion(volumes: Sequence[np.ndarray], n_phases: int, phases: Sequence[int], r_max: int) -> torch.Tensor:
    """``(n_images, len(phases), r_max)`` erosion curves of each training image."""
    return torch.stack([erosion_curve_torch(onehot(v, n_phases)[:, list(phases)], r_max)[0] for v in volumes])


def image_euler(volumes: Sequence[np.ndarray], n_phases: int, phases: Sequence[int]) -> torch.Tensor:
    """``(n_images, len(phases))`` Euler-characteristic density of each training image."""
    return torch.stack([euler_density_torch(onehot(v, n_phases)[:, list(phases)])[0] for v in volumes])


def image_s2(volumes: Sequence[np.ndarray], n_phases: int, r_max: int) -> torch.Tensor:
    """``(n_images, 3, n_phases, r_max + 1)`` S2 of each training image."""
    return torch.stack([two_point_correlation_torch(onehot(v, n_phases), r_max)[0] for v in volumes])
