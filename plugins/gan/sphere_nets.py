"""A particle-aware conditional generator: it places spheres, then the binder (design ``spheres``).

The voxel design (:class:`~electroforge.plugins.gan.nets.CondGenerator3D`) has to grow round
particles out of convolution texture, and after 10⁴ updates it still draws merged blobs whose
sizes are more uniform than the manufacturing simulator's (docs/generators.md, "Eighth round").
This design makes the particle an output of the network instead of an emergent texture:

1. **Trunk** (cell resolution): the latent grid ``z`` ``(B, nz, L + 2, L + 2, L + 2)``, one cell
   per ``cell`` voxels with a one-cell margin on every side (particles just outside the volume
   still cut into it), goes through 3x3x3 convolutions (condition channels tiled in, LeakyReLU)
   to ``slots`` candidate particles per cell: a centre inside the cell, ``cell · σ(·)`` per axis,
   and a radius in ``(-feature_clip, radius_max)`` (a slot whose radius is near the low end
   is empty: it draws nothing and leaves no trace in the distance fields).
2. **Render** (voxel resolution, exact and differentiable): each voxel's signed distance to the
   union of the spheres of its own cell's and the 26 neighbouring cells' candidates,
   ``f1 = max_k (r_k - |x - c_k|)`` (positive inside), and the second largest ``f2`` (close to
   ``f1`` at the necks where two particles meet). The neighbourhood is exact when
   ``radius_max <= cell``.
3. **Binder**: a small convolutional net at half the voxel resolution on the clipped ``f1``,
   ``f2`` (both floored at ``-feature_clip``, 4 voxels: farther, only noise places binder), two channels of per-voxel noise and the condition, upsampled (trilinear) and mixed per
   voxel with ``f1``, ``f2`` into a binder logit ``g``: the binder is placed by distance to the
   particles, necks and noise, which is what binder adhesion changes in the simulator.
4. **Phases**: ``p_active = σ(f1 / sharpness)``; pore and binder share the rest,
   ``p_binder = (1 - p_active) σ(g)``. :meth:`SphereGenerator3D.logits` returns the
   log-probabilities, so ``softmax(logits)`` are the probabilities, and the argmax, the argmax
   calibration and the per-volume fraction matching work unchanged; shifting the active phase's
   logit is a uniform dilation of every particle (the simulator's own exact-fraction step).

Cost: the render touches ``27 · slots`` candidates per voxel (a batched matrix product for the
squared distances, then the top two over the candidates: a running maximum without autograd,
``topk`` with it, whose backward is cheaper); at inference it runs over chunks of cells to bound
memory.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from electroforge.plugins.gan.nets import _tile, condition_channels, labels_from_relative

SPHERE_PHASES = ("pore", "active", "binder")


def _neighbour_offsets(cell: int) -> torch.Tensor:
    """``(3, 27)`` origins of the 3x3x3 neighbouring cells relative to a cell's origin (voxels),
    in the order of ``Tensor.unfold`` over the three axes."""
    r = torch.arange(-1, 2, dtype=torch.float32)
    g = torch.stack(torch.meshgrid(r, r, r, indexing="ij")).reshape(3, 27)
    return g * float(cell)


def _voxel_centres(cell: int) -> torch.Tensor:
    """``(cell³, 3)`` voxel centres inside a cell (voxels from its origin), x slowest."""
    r = torch.arange(cell, dtype=torch.float32) + 0.5
    return torch.stack(torch.meshgrid(r, r, r, indexing="ij"), dim=-1).reshape(-1, 3)


def _top_two(f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The largest and second-largest of ``f`` ``(N, k, V)`` over its axis 1 (k >= 2), each ``(N, V)``."""
    first = torch.maximum(f[:, 0], f[:, 1])
    second = torch.minimum(f[:, 0], f[:, 1])
    for j in range(2, f.shape[1]):
        x = f[:, j]
        second = torch.maximum(second, torch.minimum(first, x))
        first = torch.maximum(first, x)
    return first, second


class SphereGenerator3D(nn.Module):
    """Conditional generator that places spheres and then the binder (module docstring)."""

    design = "spheres"

    def __init__(self, n_params: int, nz: int, channels: Sequence[int], phases: Sequence[str], cell: int = 16,
                 slots: int = 4, binder_channels: Sequence[int] = (16, 16, 16), sharpness: float = 0.5,
                 radius_max: float | None = None, feature_clip: float = 4.0):
        super().__init__()
        missing = [p for p in SPHERE_PHASES if p not in phases]
        if missing or len(phases) != 3:
            raise ValueError(f"the spheres design needs exactly the phases {SPHERE_PHASES}; the images have {tuple(phases)}")
        self.n_params, self.nz, self.n_phases = int(n_params), int(nz), 3
        self.channels, self.binder_channels = tuple(int(c) for c in channels), tuple(int(c) for c in binder_channels)
        self.cell, self.slots = int(cell), int(slots)
        self.sharpness, self.feature_clip = float(sharpness), float(feature_clip)
        self.radius_max = float(radius_max if radius_max is not None else self.cell - self.feature_clip)
        if self.radius_max + self.feature_clip > self.cell or self.radius_max <= 0:
            raise ValueError(f"radius_max {self.radius_max} + feature_clip {self.feature_clip} must be <= the cell "
                             f"({self.cell} voxels), and radius_max > 0")
        self.phase_index = {p: list(phases).index(p) for p in SPHERE_PHASES}
        ncc = 2 * self.n_params
        self.act = nn.LeakyReLU(0.2)
        c_in = self.nz
        self.trunk = nn.ModuleList()
        for c_out in self.channels:
            self.trunk.append(nn.Conv3d(c_in + ncc, c_out, 3, padding=1, padding_mode="replicate"))
            c_in = c_out
        self.particle_head = nn.Conv3d(c_in + ncc, 4 * self.slots, 1)
        self.n_binder_noise = 2
        b_in = 2 + self.n_binder_noise
        self.binder_convs = nn.ModuleList()
        for c_out in self.binder_channels:
            self.binder_convs.append(nn.Conv3d(b_in + ncc, c_out, 3, padding=1, padding_mode="replicate"))
            b_in = c_out
        self.binder_mix = nn.Conv3d(b_in + 2, 16, 1)
        self.binder_out = nn.Conv3d(16, 1, 1)
        self.register_buffer("offsets", _neighbour_offsets(self.cell), persistent=False)
        self.register_buffer("voxels", _voxel_centres(self.cell), persistent=False)

    # ------------------------------------------------------------------ shape
    @property
    def tile(self) -> int:
        """Voxels per latent cell along each axis."""
        return self.cell

    def latent_cells(self, n_voxels: int) -> int:
        """Latent cells along an axis for an output of at least ``n_voxels`` (plus the margin)."""
        return max(1, math.ceil(int(n_voxels) / self.cell)) + 2

    # ------------------------------------------------------------------ stages
    def particles(self, z: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Candidate particles of every latent cell: centres ``(B, slots, 3, M, M, M)`` (voxels
        from the cell's origin) and radii ``(B, slots, M, M, M)`` (voxels; negative: an empty slot)."""
        cc = condition_channels(c)
        x = z
        for conv in self.trunk:
            x = self.act(conv(torch.cat([x, _tile(cc, x)], dim=1)))
        raw = self.particle_head(torch.cat([x, _tile(cc, x)], dim=1))
        raw = raw.reshape(raw.shape[0], self.slots, 4, *raw.shape[2:])
        lo = -self.feature_clip  # a slot at the lowest radius is empty: below the floor everywhere
        return self.cell * torch.sigmoid(raw[:, :, :3]), lo + (self.radius_max - lo) * torch.sigmoid(raw[:, :, 3])

    def render(self, centres: torch.Tensor, radii: torch.Tensor, chunk: int | None = None) -> torch.Tensor:
        """``(B, 2, L·cell, L·cell, L·cell)``: the largest and second-largest ``r_k - |x - c_k|``
        over the candidates of each voxel's 3x3x3 neighbouring cells (the inner ``L³`` of the
        ``(L + 2)³`` cells), floored at ``-feature_clip``. ``chunk``: cells per batch of the
        computation (None: all at once).

        Exact pruning: a candidate whose sphere lies farther than ``feature_clip`` from a cell's
        box contributes only values below the floor there, so each cell keeps only the candidates
        within reach (about a third of the ``27 · slots``), padded to the largest such count."""
        b, s = radii.shape[:2]
        p = torch.cat([centres, radii[:, :, None]], dim=2).flatten(1, 2)  # (B, 4S, M, M, M)
        nb = p.unfold(2, 3, 1).unfold(3, 3, 1).unfold(4, 3, 1)  # (B, 4S, L, L, L, 3, 3, 3)
        n = nb.shape[2:5]
        nb = nb.reshape(b, s, 4, *n, 27)
        cen = nb[:, :, :3] + self.offsets.reshape(1, 1, 3, 1, 1, 1, 27)
        cen = cen.permute(0, 3, 4, 5, 1, 6, 2).reshape(b * n[0] * n[1] * n[2], s * 27, 3)
        rad = nb[:, :, 3].permute(0, 2, 3, 4, 1, 5).reshape(b * n[0] * n[1] * n[2], s * 27)
        with torch.no_grad():  # which candidates can reach each cell's box [0, cell]³
            outside = (-cen).clamp_min(0.0) + (cen - self.cell).clamp_min(0.0)
            gap = outside.norm(dim=-1) - rad
            k = max(2, int((gap < self.feature_clip).sum(1).max()))
            idx = gap.topk(k, dim=1, largest=False).indices
        cen = cen.gather(1, idx[..., None].expand(-1, -1, 3))
        rad = rad.gather(1, idx)
        u = self.voxels
        u2 = (u * u).sum(-1)
        parts = []
        step = cen.shape[0] if chunk is None else max(1, int(chunk))
        for i in range(0, cen.shape[0], step):
            ck, rk = cen[i:i + step], rad[i:i + step]
            # candidate-major (cells, k, voxels): without autograd the top two are a running max
            # over the k slabs, several times faster on CPU than a top-k over a short axis
            base = (ck * ck).sum(-1)[:, :, None] + u2[None, None, :]
            d2 = torch.baddbmm(base, ck, u.t().expand(ck.shape[0], -1, -1), alpha=-2.0)
            f = rk[:, :, None] - torch.sqrt(d2.clamp_min(0.0) + 1e-2)
            if torch.is_grad_enabled() and f.requires_grad:
                parts.append(f.topk(2, dim=1).values.transpose(1, 2))
            else:
                parts.append(torch.stack(_top_two(f), dim=-1))
        top = torch.cat(parts).clamp_min(-self.feature_clip)  # (B·L³, cell³, 2)
        q = self.cell
        top = top.reshape(b, *n, q, q, q, 2).permute(0, 7, 1, 4, 2, 5, 3, 6)
        return top.reshape(b, 2, n[0] * q, n[1] * q, n[2] * q)

    def binder_logit(self, field: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """``(B, 1, X, Y, Z)`` binder logit from the two distance fields (:meth:`render`).

        The mix's 1x1 convolution on the upsampled features is applied before the (linear,
        weights summing to one) trilinear upsampling, which gives the same logit with the
        full-resolution work reduced to the two distance channels."""
        f = nn.functional
        cc = condition_channels(c)
        feat = field.clamp_max(self.feature_clip) / self.feature_clip
        x = f.avg_pool3d(feat, 2)
        noise = torch.randn((x.shape[0], self.n_binder_noise, *x.shape[2:]), device=x.device, dtype=x.dtype)
        x = torch.cat([x, noise], dim=1)
        for conv in self.binder_convs:
            x = self.act(conv(torch.cat([x, _tile(cc, x)], dim=1)))
        n_x = x.shape[1]
        w, b = self.binder_mix.weight.flatten(1), self.binder_mix.bias
        x = f.conv3d(x, w[:, :n_x, None, None, None], b).contiguous(memory_format=torch.channels_last_3d)
        x = f.interpolate(x, size=feat.shape[2:], mode="trilinear", align_corners=False)
        # per voxel, channels last: (B, X, Y, Z, C) matrix products instead of 1x1 convolutions
        x = self.act(x.permute(0, 2, 3, 4, 1) + feat.permute(0, 2, 3, 4, 1) @ w[:, n_x:].t())
        g = x @ self.binder_out.weight.flatten() + self.binder_out.bias
        return g[:, None]

    # ------------------------------------------------------------------ outputs
    def logits(self, z: torch.Tensor, c: torch.Tensor, chunk: int | None = None) -> torch.Tensor:
        """``(B, 3, X, Y, Z)`` log-probabilities of the phases (in the images' phase order)."""
        f = nn.functional
        field = self.render(*self.particles(z, c), chunk=chunk)
        a = field[:, :1] / self.sharpness
        g = self.binder_logit(field, c)
        rest = f.logsigmoid(-a)
        by_name = {"active": f.logsigmoid(a), "binder": rest + f.logsigmoid(g), "pore": rest + f.logsigmoid(-g)}
        order = sorted(SPHERE_PHASES, key=self.phase_index.__getitem__)
        return torch.cat([by_name[p] for p in order], dim=1)

    def forward(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.logits(z, c), dim=1)

    @torch.no_grad()
    def relative_logits(self, z: torch.Tensor, c: torch.Tensor, chunk: int = 32) -> torch.Tensor:
        """``(B, 2, X, Y, Z)`` logits of phases 1, 2 minus phase 0's (what the argmax needs),
        rendered ``chunk`` cells at a time (inference; the same interface as
        :class:`~electroforge.plugins.gan.nets.FastInference`).

        Equal to the differences of :meth:`logits`, in closed form: every phase's
        log-probability less the common ``log σ(-a)`` is ``a`` (active), ``log σ(g)``
        (binder) and ``log σ(-g)`` (pore)."""
        f = nn.functional
        field = self.render(*self.particles(z, c), chunk=chunk)
        g = self.binder_logit(field, c)
        shifted = {"active": field[:, :1] / self.sharpness, "binder": f.logsigmoid(g), "pore": f.logsigmoid(-g)}
        order = sorted(SPHERE_PHASES, key=self.phase_index.__getitem__)
        return torch.cat([shifted[p] - shifted[order[0]] for p in order[1:]], dim=1)

    @torch.no_grad()
    def labels(self, z: torch.Tensor, c: torch.Tensor, offsets: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, X, Y, Z)`` uint8 argmax labels (``offsets`` as in ``FastInference.labels``)."""
        return labels_from_relative(self.relative_logits(z, c), offsets)
