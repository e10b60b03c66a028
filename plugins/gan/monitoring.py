"""Monitoring a training run: the fidelity monitor's records and the loss history's running means.

:func:`run_monitor` calls a monitor (e.g. :class:`~electroforge.plugins.gan.fidelity.FidelityMonitor`)
under a forked torch RNG, so watching a run does not change it, and keeps its record in the
trainer (and so in the checkpoint).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:
    from electroforge.plugins.gan.trainer import Trainer


def best_fidelity_score(trainer: Trainer) -> float:
    """The lowest monitor score recorded so far (inf without records)."""
    return min((r["score"] for r in trainer.fidelity if "score" in r), default=math.inf)


def run_monitor(trainer: Trainer, monitor: Callable[[Trainer], Mapping[str, float]]) -> dict[str, float]:
    """Run ``monitor(trainer)`` without disturbing the training RNG; append and return its record."""
    devices = [trainer.device.index or 0] if trainer.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        rec = {"step": float(trainer.step_count), **{k: float(v) for k, v in monitor(trainer).items()}}
    trainer.fidelity.append(rec)
    return rec


def running_mean(history: Sequence[Mapping[str, float]], key: str, window: int = 50) -> list[float]:
    vals = np.array([h[key] for h in history], dtype=float)
    if vals.size < window:
        return [float(vals.mean())] if vals.size else []
    kernel = np.ones(window) / window
    return np.convolve(vals, kernel, mode="valid").tolist()
