"""Networks of the conditional SliceGAN-style generator (torch).

Conditioning (docs/generators.md): each parameter is scaled to l in [0, 1] across its training envelope
and enters as two channels ``(l, 1 - l)`` tiled in space; the generator concatenates them (with a
fresh noise channel) to its input and to the input of every stage, and each 2D critic
concatenates them to the slices it judges.

Generator (fully convolutional): a latent grid ``z`` of shape ``(B, nz, lx, ly, lz)`` goes through
``len(channels)`` stages of *nearest-neighbour upsampling x2 -> 3x3x3 convolution (replicate
padding) -> batch norm -> ReLU*, then a 3x3x3 convolution to one logit per phase; ``softmax``
gives phase probabilities and ``argmax`` the labels. With 4 stages one latent cell becomes a
16-voxel tile (a latent of 2³ gives 32³, 4³ gives 64³); with 3 stages (the shipped design) an
8-voxel tile, so 4³ gives 32³ (training), 8³ gives 64³ and 16³ gives 128³.
Upsample + convolution avoids the checkerboard artefacts of strided transposed convolutions.

Critic: a 2D WGAN critic on slices of size ``tile`` (strided 4x4 convolutions down to 4x4, then a
4x4 convolution to one score), one per axis so anisotropic images are learnt too.
"""
from __future__ import annotations

import torch
from torch import nn


def condition_channels(c: torch.Tensor) -> torch.Tensor:
    """``(B, n)`` scaled parameters in [0, 1] -> ``(B, 2n)`` channels ``(l, 1 - l)``."""
    return torch.cat([c, 1.0 - c], dim=1)


def _tile(c: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    extra = like.dim() - 2
    return c.reshape(*c.shape, *([1] * extra)).expand(-1, -1, *like.shape[2:])


class Stage(nn.Module):
    """Upsample x2 -> conv3d 3x3x3 -> batch norm -> ReLU, with condition + noise concatenated in.

    With ``noise=False`` the noise channel is kept (so weights files keep one layout) but filled
    with zeros: the stage is then a deterministic function of its input.
    """

    def __init__(self, c_in: int, c_out: int, n_cond_ch: int, noise: bool = True):
        super().__init__()
        self.noise = bool(noise)
        self.conv = nn.Conv3d(c_in + n_cond_ch + 1, c_out, 3, padding=1, padding_mode="replicate", bias=False)
        self.norm = nn.BatchNorm3d(c_out)

    def forward(self, x: torch.Tensor, cc: torch.Tensor) -> torch.Tensor:
        x = nn.functional.interpolate(x, scale_factor=2, mode="nearest")
        shape = (x.shape[0], 1, *x.shape[2:])
        noise = (torch.randn(shape, device=x.device, dtype=x.dtype) if self.noise
                 else torch.zeros(shape, device=x.device, dtype=x.dtype))
        x = torch.cat([x, _tile(cc, x), noise], dim=1)
        return torch.relu(self.norm(self.conv(x)))


class CondGenerator3D(nn.Module):
    """Conditional fully convolutional 3D generator; ``forward`` returns phase probabilities."""

    def __init__(self, n_params: int = 3, nz: int = 8, channels: tuple[int, ...] = (64, 48, 32, 16), n_phases: int = 3,
                 noise_stages: int | None = None, subpixel: bool = False):
        """``noise_stages``: how many of the coarsest stages get a fresh noise channel (default:
        all). Per-voxel noise at the finest stages turns into speckle under the argmax.
        ``subpixel``: compute each stage in its sub-pixel form (:func:`subpixel_stage`, the same
        function and gradients, ~3x fewer multiply-adds); not part of the weights."""
        super().__init__()
        self.subpixel = bool(subpixel)
        self.n_params, self.nz, self.n_phases = n_params, nz, n_phases
        self.channels = tuple(channels)
        self.noise_stages = len(channels) if noise_stages is None else int(noise_stages)
        ncc = 2 * n_params
        chans = [nz, *channels]
        self.stages = nn.ModuleList(Stage(chans[i], chans[i + 1], ncc, noise=i < self.noise_stages)
                                    for i in range(len(channels)))
        self.head = nn.Conv3d(channels[-1] + ncc, n_phases, 3, padding=1, padding_mode="replicate")

    @property
    def tile(self) -> int:
        """Voxels per latent cell along each axis."""
        return 2 ** len(self.stages)

    def latent_cells(self, n_voxels: int) -> int:
        """Latent cells along an axis for an output of at least ``n_voxels``."""
        return max(1, -(-int(n_voxels) // self.tile))

    def logits(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        cc = condition_channels(c)
        x = z
        for stage in self.stages:
            x = subpixel_stage(stage, x, cc) if self.subpixel else stage(x, cc)
        return self.head(torch.cat([x, _tile(cc, x)], dim=1))

    def forward(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.logits(z, c), dim=1)


# ----------------------------------------------------------------------------- fast inference
# Nearest x2 upsampling followed by a 3x3x3 convolution is, for each of the 8 output sub-positions
# (a, b, c) in {0, 1}^3, a 2x2x2 convolution of the *low-resolution* input: along an axis the three
# taps at upsampled offsets (-1, 0, +1) fall on low-res cells (i-1, i, i) for a = 0 and (i, i, i+1)
# for a = 1. So one 2x2x2 convolution with 8 x C_out outputs, then a pixel shuffle, computes the
# stage with 8 instead of 27 multiply-adds per input channel and output voxel (exact, including the
# replicate padding: padding the low-res grid by one cell is padding the upsampled grid by two).
# The spatially constant condition channels contribute a constant per output channel; the
# per-voxel noise channel keeps its own 3x3x3 convolution at full resolution (one input channel).
_SUBPIXEL_TAPS = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]],
                               [[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]])  # [sub-position, low-res tap, 3x3x3 tap]


def _subpixel_weight(w: torch.Tensor) -> torch.Tensor:
    """``(C_out, C_in, 3, 3, 3)`` weight of upsample-then-conv -> ``(8 C_out, C_in, 2, 2, 2)`` ordered (a, b, c, o)."""
    m = _SUBPIXEL_TAPS.to(w)
    out = torch.einsum("atk,bul,cvm,oiklm->abcoituv", m, m, m, w)
    return out.reshape(8 * w.shape[0], w.shape[1], 2, 2, 2).contiguous()


def _pixel_shuffle3d(y: torch.Tensor, n: tuple[int, int, int],
                     memory_format: torch.memory_format = torch.contiguous_format) -> torch.Tensor:
    """``(B, 8 C, n0+1, n1+1, n2+1)`` sub-position outputs -> ``(B, C, 2 n0 + 2, 2 n1 + 2, 2 n2 + 2)``:
    the ``(B, C, 2 n0, 2 n1, 2 n2)`` upsampled volume with a one-voxel margin, left for the caller
    to fill (:func:`_replicate_margin`) so the next convolution needs no separate padding copy."""
    b, c8 = y.shape[:2]
    y = y.reshape(b, 2, 2, 2, c8 // 8, *y.shape[2:])
    out = torch.empty(b, c8 // 8, 2 * n[0] + 2, 2 * n[1] + 2, 2 * n[2] + 2, dtype=y.dtype, device=y.device,
                      memory_format=memory_format)
    inner = out[:, :, 1:-1, 1:-1, 1:-1]
    for a in (0, 1):
        for bb in (0, 1):
            for cc in (0, 1):
                inner[:, :, a::2, bb::2, cc::2] = y[:, a, bb, cc, :, a:a + n[0], bb:bb + n[1], cc:cc + n[2]]
    return out


def _replicate_margin(x: torch.Tensor) -> torch.Tensor:
    """Fill the one-voxel margin of ``(B, C, X, Y, Z)`` in place by replicating the faces of its
    interior, axis after axis (edges and corners included): ``F.pad(interior, 1, "replicate")``."""
    for d in (2, 3, 4):
        n = x.shape[d]
        x.narrow(d, 0, 1).copy_(x.narrow(d, 1, 1))
        x.narrow(d, n - 1, 1).copy_(x.narrow(d, n - 2, 1))
    return x


def _shift_noise_weight(w_noise: torch.Tensor) -> torch.Tensor:
    """Noise weight ``(C_out, 1, kx, ky, kz)`` -> ``(C_out, kz, kx, ky, 1)`` for :func:`noise_conv`."""
    return w_noise.permute(0, 4, 2, 3, 1)


def noise_conv(noise: torch.Tensor, w_shifted: torch.Tensor) -> torch.Tensor:
    """The 3x3x3 convolution (replicate padding) of a one-channel ``noise`` volume, as a 3x3x1
    convolution of its three z-shifted copies (``w_shifted`` from :func:`_shift_noise_weight`):
    a one-channel input sends torch to its slow generic kernel, three channels to the fast
    (oneDNN) one, about 2x faster on a CPU. Differentiable in the weight."""
    p = nn.functional.pad(noise, (1,) * 6, mode="replicate")
    nz = noise.shape[-1]
    shifted = torch.cat([p[..., k:k + nz] for k in range(3)], dim=1)
    return nn.functional.conv3d(shifted, w_shifted)


def subpixel_stage(stage: Stage, x: torch.Tensor, cc: torch.Tensor) -> torch.Tensor:
    """``stage(x, cc)`` in sub-pixel form, for training: one 2x2x2 convolution of the low-resolution
    input with 8 x C_out outputs, interleaved (see the note above :func:`_subpixel_weight`), plus the
    noise channel's own convolution at full resolution and the condition's constant, then the
    stage's batch norm and ReLU. The same function of the weights (float rounding aside) and the
    same noise draws from the RNG, so a network trains the same in either form; differentiable."""
    f = nn.functional
    w = stage.conv.weight
    b, c_in, n0, n1, n2 = x.shape
    ncc, co = cc.shape[1], w.shape[0]
    y = f.conv3d(f.pad(x, (1,) * 6, mode="replicate"), _subpixel_weight(w[:, :c_in]))
    y = y.reshape(b, 2, 2, 2, co, n0 + 1, n1 + 1, n2 + 1)
    parts = [y[:, a, bb, c, :, a:a + n0, bb:bb + n1, c:c + n2] for a in (0, 1) for bb in (0, 1) for c in (0, 1)]
    out = (torch.stack(parts, dim=-1).reshape(b, co, n0, n1, n2, 2, 2, 2)
           .permute(0, 1, 2, 5, 3, 6, 4, 7).reshape(b, co, 2 * n0, 2 * n1, 2 * n2))
    if stage.noise:  # drawn where Stage.forward draws it: the same RNG stream
        noise = torch.randn((b, 1, 2 * n0, 2 * n1, 2 * n2), device=x.device, dtype=x.dtype)
        out = out + noise_conv(noise, _shift_noise_weight(w[:, c_in + ncc:]))
    out = out + (cc @ w[:, c_in:c_in + ncc].sum(dim=(2, 3, 4)).T).reshape(b, co, 1, 1, 1)
    return torch.relu(stage.norm(out))


class FastInference:
    """Eval-mode forward of a :class:`CondGenerator3D` with the sub-pixel form of each stage and the
    batch norm folded into the convolutions; the same logits as ``net.logits`` (to float rounding)
    for the same RNG state, 2-3x faster on a CPU. :meth:`labels` goes straight to the argmax
    labels. Built from the network's current weights: build a new one after changing them."""

    def __init__(self, net: CondGenerator3D, channels_last: bool = True):
        if net.training:
            raise ValueError("FastInference needs the generator in eval mode (batch-norm running statistics)")
        self.nz = net.nz
        self.memory_format = torch.channels_last_3d if channels_last else torch.contiguous_format
        self.stages = []
        ncc = 2 * net.n_params
        c_in = net.nz
        with torch.no_grad():
            for stage in net.stages:
                w = stage.conv.weight
                bn = stage.norm
                scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
                shift = bn.bias - bn.running_mean * scale
                w = w * scale[:, None, None, None, None]
                # noise weight (C_out, 1, kx, ky, kz) -> (C_out, kz, kx, ky, 1): see noise_conv
                w_noise = _shift_noise_weight(w[:, c_in + ncc:]).contiguous(memory_format=self.memory_format)
                self.stages.append((_subpixel_weight(w[:, :c_in]), w[:, c_in:c_in + ncc].sum(dim=(2, 3, 4)),
                                    w_noise if stage.noise else None, shift))
                c_in = w.shape[0]
            hw = net.head.weight
            self.head = (hw[:, :c_in].contiguous(), hw[:, c_in:].sum(dim=(2, 3, 4)), net.head.bias)
            # argmax needs only the logits relative to phase 0: one output channel fewer
            w_x, w_cc, bias = self.head
            self.head_rel = ((w_x[1:] - w_x[:1]).contiguous(), w_cc[1:] - w_cc[:1], bias[1:] - bias[:1])

    def _trunk(self, z: torch.Tensor, cc: torch.Tensor) -> torch.Tensor:
        """The last stage's activations with a replicated one-voxel margin (the head's padding)."""
        f = nn.functional
        x = f.pad(z, (1,) * 6, mode="replicate").contiguous(memory_format=self.memory_format)
        for w_sub, w_cc, w_noise, shift in self.stages:
            n = tuple(s - 2 for s in x.shape[2:])
            y = _pixel_shuffle3d(f.conv3d(x, w_sub), n, self.memory_format)
            inner = y[:, :, 1:-1, 1:-1, 1:-1]
            if w_noise is not None:  # drawn where net.logits draws it: the same RNG stream
                noise = torch.randn((y.shape[0], 1, *inner.shape[2:]), device=y.device, dtype=y.dtype)
                inner += self._noise_conv(noise, w_noise)
            inner += (cc @ w_cc.T + shift).reshape(*cc.shape[:1], -1, 1, 1, 1)
            torch.relu_(inner)
            x = _replicate_margin(y)
        return x

    def _noise_conv(self, noise: torch.Tensor, w_noise: torch.Tensor) -> torch.Tensor:
        """The 3x3x3 convolution (replicate padding) of the one-channel noise, as a 3x3x1
        convolution of its three z-shifted copies: a one-channel input sends torch to its slow
        generic kernel, three channels to the fast (oneDNN) one, about 2x faster on a CPU."""
        p = nn.functional.pad(noise, (1,) * 6, mode="replicate")
        nz = noise.shape[-1]
        shifted = torch.cat([p[..., k:k + nz] for k in range(3)], dim=1).contiguous(memory_format=self.memory_format)
        return nn.functional.conv3d(shifted, w_noise)

    @torch.no_grad()
    def logits(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """Logits for latent ``z`` and scaled condition ``c``; draws the stages' noise like ``net.logits``."""
        cc = condition_channels(c)
        w_x, w_cc, bias = self.head
        out = nn.functional.conv3d(self._trunk(z, cc), w_x)
        out += (cc @ w_cc.T + bias).reshape(*cc.shape[:1], -1, 1, 1, 1)
        return out

    @torch.no_grad()
    def relative_logits(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """``(B, n_phases - 1, X, Y, Z)`` logits of phases 1.. minus phase 0's (what the argmax
        needs); the same noise draws as :meth:`logits`."""
        cc = condition_channels(c)
        w_x, w_cc, bias = self.head_rel
        rel = nn.functional.conv3d(self._trunk(z, cc), w_x)
        rel += (cc @ w_cc.T + bias).reshape(*cc.shape[:1], -1, 1, 1, 1)
        return rel

    @torch.no_grad()
    def labels(self, z: torch.Tensor, c: torch.Tensor, offsets: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, X, Y, Z)`` uint8 labels: ``argmax(logits + offsets)`` over the phases (``offsets``
        ``(B, n_phases)``, e.g. the argmax calibration), ties to the lower phase, as
        ``torch.argmax``; the same noise draws as :meth:`logits`."""
        return labels_from_relative(self.relative_logits(z, c), offsets)


def labels_from_relative(rel: torch.Tensor, offsets: torch.Tensor | None = None) -> torch.Tensor:
    """``(B, X, Y, Z)`` uint8 argmax labels from ``(B, n_phases - 1, X, Y, Z)`` relative logits
    (:meth:`FastInference.relative_logits`) plus ``offsets`` ``(B, n_phases)``, ties to the lower
    phase, without materialising phase 0's logit."""
    if offsets is not None:
        rel = rel + (offsets[:, 1:] - offsets[:, :1]).reshape(*rel.shape[:2], 1, 1, 1)
    best = torch.zeros_like(rel[:, 0])  # phase 0's relative logit
    out = torch.zeros(best.shape, dtype=torch.uint8, device=rel.device)
    for k in range(rel.shape[1]):
        better = rel[:, k] > best
        out.masked_fill_(better, k + 1)
        torch.maximum(best, rel[:, k], out=best)
    return out


class _CondCritic(nn.Module):
    """WGAN critic with tiled condition channels: strided 4-wide convolutions (``conv``: 2D or
    3D) down to ``tile / 2**len(channels)`` and one convolution over what is left."""

    conv: type[nn.Conv2d] | type[nn.Conv3d]

    def __init__(self, n_params: int = 3, n_phases: int = 3, tile: int = 32, channels: tuple[int, ...] = (32, 64, 128),
                 pool: int = 1):
        """``pool``: judge the input average-pooled by this factor per axis (a ``tile / pool``
        grid of phase fractions; 1: as given). No weights of its own."""
        super().__init__()
        self.pool = int(pool)
        layers: list[nn.Module] = []
        c_in = n_phases + 2 * n_params
        size = tile // self.pool
        for c_out in channels:
            layers += [self.conv(c_in, c_out, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
            c_in, size = c_out, size // 2
        layers.append(self.conv(c_in, 1, size, 1, 0))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        if self.pool > 1:
            pool = nn.functional.avg_pool2d if x.dim() == 4 else nn.functional.avg_pool3d
            x = pool(x, self.pool)
        return self.net(torch.cat([x, _tile(condition_channels(c), x)], dim=1)).flatten()


class CondCritic2D(_CondCritic):
    """WGAN critic on 2D slices ``(B, n_phases, tile, tile)``."""

    conv = nn.Conv2d


class CondCritic3D(_CondCritic):
    """WGAN critic on whole volumes ``(B, n_phases, tile, tile, tile)``. Unlike the slice critics
    it sees 3D connectivity (which particles touch, where the pore network has loops). With
    ``pool=2`` it judges the volume at twice the voxel edge: particles (~12 voxels across at
    0.4 um) keep their shape and connectivity there, at ~1/8 of the cost; the fine binder is the
    slice critics' to judge."""

    conv = nn.Conv3d


def linear_features(c: torch.Tensor) -> torch.Tensor:
    """``(n,)`` scaled parameters -> ``[1, c_i]``."""
    return torch.cat([torch.ones(1, dtype=c.dtype, device=c.device), c])


def quadratic_features(c: torch.Tensor) -> torch.Tensor:
    """``(n,)`` scaled parameters -> ``[1, c_i, c_i c_j (i <= j)]``, the terms of a full quadratic
    response surface (which the corners + face centres + centre design determines)."""
    n = c.shape[0]
    cross = [c[i] * c[j] for i in range(n) for j in range(i, n)]
    return torch.stack([torch.ones((), dtype=c.dtype, device=c.device), *c, *cross])


def n_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
