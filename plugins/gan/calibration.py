"""Phase fractions of a generator's labels: the composition model and the argmax calibration.

The manufacturing parameters fix an electrode's composition (its phase volume fractions) by mass
balance; a generator should only decide where each phase goes. Two ways to make the labels honour
that, both carried by the exported weights:

- :func:`fraction_model` fits the training images' measured fractions as a response surface of the
  scaled condition (quadratic when there are enough images, else linear), and
  :func:`match_fractions` finds, per generated volume, the logit offsets whose argmax labels have
  exactly the fractions that model predicts (the generator's default when the weights carry a
  fraction model). On procedural training images the quadratic model reproduces the fractions at
  held-out interior points to 5e-4.
- :func:`calibrate_phase_offsets` (older weights): offsets that are a quadratic function of the
  condition, fitted on the training conditions only, so they undo the argmax bias there but not
  the network's own fraction errors between the training points.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from electroforge.plugins.gan import persistence
from electroforge.plugins.gan.data import TrainingSet
from electroforge.plugins.gan.nets import linear_features, quadratic_features

if TYPE_CHECKING:
    from electroforge.plugins.gan.trainer import Trainer


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


#: The response-surface terms a fraction model may use, by the name it records.
FEATURES = {"quadratic": quadratic_features, "linear": linear_features}


def fraction_model(data: TrainingSet) -> dict[str, Any]:
    """Least-squares response surface of the training images' fractions over the scaled condition:
    ``{"features": "quadratic" | "linear", "weight": (n_phases, n_features)}``. Quadratic needs at
    least as many images as terms (10 for three parameters), otherwise linear."""
    cond = torch.tensor(data.scaled, dtype=torch.float64)
    n_quad = quadratic_features(cond[0]).numel()
    kind = "quadratic" if len(cond) >= n_quad else "linear"
    X = np.stack([FEATURES[kind](c).numpy() for c in cond])
    coef, *_ = np.linalg.lstsq(X, data.fractions(), rcond=None)
    return {"features": kind, "weight": coef.T.tolist()}


def predict_fractions(model: Mapping[str, Any], scaled: torch.Tensor) -> torch.Tensor:
    """The fractions a :func:`fraction_model` predicts for one scaled condition ``(n_params,)``,
    clipped to [0, 1] and renormalised to sum to 1."""
    w = torch.tensor(model["weight"], dtype=torch.float64)
    f = (w @ FEATURES[model["features"]](scaled.to(torch.float64))).clamp(0.0, 1.0)
    return (f / f.sum().clamp_min(1e-12)).to(scaled.dtype)


def match_fractions(relative: torch.Tensor, target: torch.Tensor, tol: float = 5e-4, max_rounds: int = 30,
                    max_samples: int = 1 << 16) -> torch.Tensor:
    """Offsets ``b`` (``(C,)``, ``b[0] = 0``) such that ``argmax([0, relative + b[1:]])`` over
    the phases has the ``target`` fractions (``(C,)``).

    ``relative``: ``(C - 1, N)`` logits of phases 1.. minus phase 0's. Coordinate-wise exact
    quantiles: phase ``k`` wins a voxel iff ``relative_k + b_k`` exceeds the best other phase, so
    for the others' offsets fixed, ``b_k`` is the ``target_k`` quantile of that margin. Rounds
    repeat until every fraction is within ``tol`` (on a strided sample of at most ``max_samples``
    voxels, so the full volume's fractions differ by sampling error, ~1e-3)."""
    n_other, n = relative.shape
    step = _prime_at_least(math.ceil(n / max_samples)) if n > max_samples else 1
    r = relative[:, ::step].to(torch.float32)  # a prime stride: not in step with the latent tile
    t = target.to(torch.float32).clamp(0.0, 1.0)
    b = torch.zeros(n_other, dtype=torch.float32, device=r.device)
    zero = torch.zeros(1, r.shape[1], dtype=r.dtype, device=r.device)
    for _round in range(max_rounds):
        for k in range(n_other):
            others = torch.cat([zero, (r + b[:, None])[torch.arange(n_other, device=r.device) != k]], 0)
            margin = others.max(0).values - r[k]
            b[k] = torch.quantile(margin, float(t[k + 1])) if 0 < t[k + 1] < 1 else (
                margin.max() + 1 if t[k + 1] >= 1 else margin.min() - 1)
        full = torch.cat([zero, r + b[:, None]], 0).argmax(0)
        frac = torch.bincount(full, minlength=n_other + 1).to(torch.float32) / full.numel()
        if float((frac - t).abs().max()) < tol:
            break
    return torch.cat([torch.zeros(1, dtype=b.dtype, device=b.device), b])


def _prime_at_least(n: int) -> int:
    n = max(2, int(n))
    while any(n % d == 0 for d in range(2, math.isqrt(n) + 1)):
        n += 1
    return n


def calibrate_phase_offsets(trainer: Trainer, size: int = 64, seeds: int = 3, iters: int = 3000,
                            temperature: float = 0.05, net: torch.nn.Module | None = None) -> dict[str, list]:
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
    lat = G.latent_cells(size)
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


def export_calibrated(trainer: Trainer, path: str | Path, fp16: bool = True) -> Path:
    """Calibrate the argmax offsets and export, under a forked RNG so training is unchanged."""
    devices = [trainer.device.index or 0] if trainer.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        cfg = trainer.cfg
        calibration = calibrate_phase_offsets(trainer, cfg.calibration_size) if cfg.calibration_size else None
        return persistence.export_weights(trainer, path, fp16=fp16, calibration=calibration)


def recalibrate_weights(weights: str | Path, data: TrainingSet, out: str | Path, size: int = 64,
                        seeds: int = 3) -> Path:
    """Refit the argmax calibration and the fraction model of a weights file on ``data`` (its
    training images) and write the result to ``out``: the networks are unchanged, only
    ``phase_offsets`` and ``fraction_model`` are replaced (e.g. weights exported mid-run, or
    written before a fix of either, without retraining)."""
    from electroforge.plugins.gan.config import TrainConfig
    from electroforge.plugins.gan.generator import load_weights
    from electroforge.plugins.gan.trainer import Trainer

    payload = dict(load_weights(weights))
    from electroforge.plugins.gan.designs import design_fields

    cfg = TrainConfig(steps=1, **design_fields(payload), device="cpu", ema_decay=0.0,
                      calibration_size=size, tile=int(payload.get("train_tile", TrainConfig.tile)))
    trainer = Trainer(data, cfg)
    trainer.G.load_state_dict(persistence.float_state_dict(payload))
    payload["phase_offsets"] = calibrate_phase_offsets(trainer, size, seeds, net=trainer.G)
    payload["fraction_model"] = fraction_model(data)
    return persistence.save_atomic(payload, out)
