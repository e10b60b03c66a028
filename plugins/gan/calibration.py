"""Argmax calibration of a generator: per-phase logit offsets so its labels have the training fractions.

Inference labels are the argmax of the logits with the batch-norm running statistics, which can
bias the phase fractions away from the soft probabilities that training matched.
:func:`calibrate_phase_offsets` fits offsets that undo that bias on the training images' conditions
(a quadratic response surface of the condition); the exported weights carry them.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from electroforge.plugins.gan import persistence
from electroforge.plugins.gan.data import TrainingSet
from electroforge.plugins.gan.nets import CondGenerator3D, quadratic_features

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


def calibrate_phase_offsets(trainer: Trainer, size: int = 64, seeds: int = 3, iters: int = 3000,
                            temperature: float = 0.05, net: CondGenerator3D | None = None) -> dict[str, list]:
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
    lat = max(1, size // G.tile)
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
    """Refit the argmax calibration of a weights file on ``data`` (its training images) and write
    the result to ``out``: the networks are unchanged, only ``phase_offsets`` is replaced (e.g.
    after a fix of :func:`calibrate_phase_offsets`, without retraining)."""
    from electroforge.plugins.gan.config import TrainConfig
    from electroforge.plugins.gan.generator import load_weights
    from electroforge.plugins.gan.trainer import Trainer

    payload = dict(load_weights(weights))
    cfg = TrainConfig(steps=1, nz=int(payload["nz"]), channels=tuple(payload["channels"]),
                      noise_stages=payload.get("noise_stages"), device="cpu", ema_decay=0.0,
                      calibration_size=size, tile=int(payload.get("train_tile", TrainConfig.tile)))
    trainer = Trainer(data, cfg)
    trainer.G.load_state_dict(persistence.float_state_dict(payload))
    payload["phase_offsets"] = calibrate_phase_offsets(trainer, size, seeds, net=trainer.G)
    return persistence.save_atomic(payload, out)
