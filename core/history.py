"""The ordered record of what an optimizer was told, and the scrambled Sobol design.

Public API for optimizer plugins: the built-in optimizers (``sobol``, ``random``, ``grid`` and
``trieste``) use it and a third-party optimizer may too. Contract of every built-in optimizer (what makes ``--resume`` exact):
``ask(n)`` is a pure function of (seed, options, the ordered observations told so far, n). It
never depends on how often ``ask`` was called or on random state advanced by earlier asks, so a
fresh optimizer told all stored observations at once proposes what the uninterrupted one would.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from electroforge.design import DesignSpace
from electroforge.errors import ValidationError


def check_n(n: object, who: str) -> int:
    """``n`` as a positive int, or a one-line ValidationError naming ``who``."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValidationError(f"{who}.ask(n): n must be a positive integer, got {n!r}")
    return int(n)


def check_seed(seed: object, who: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValidationError(f"optimizer {who!r}: seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def sobol_unit_points(dim: int, seed: int, start: int, n: int) -> np.ndarray:
    """Points ``start .. start+n-1`` of the scrambled Sobol sequence of ``seed``: shape (n, dim) in [0, 1)."""
    from scipy.stats import qmc  # scipy is light, but keep `electroforge plugins` lean

    engine = qmc.Sobol(d=dim, scramble=True, seed=seed)
    if start:
        engine.fast_forward(start)
    with warnings.catch_warnings():  # "balance properties ... not a power of 2": we index, not sample
        warnings.simplefilter("ignore", UserWarning)
        return engine.random(n)


def derived_seed(seed: int, n_observations: int, salt: int = 0) -> int:
    """A 31-bit seed that depends only on the optimizer seed and how many observations it holds."""
    return int(np.random.SeedSequence([seed, n_observations, salt]).generate_state(1)[0] & 0x7FFFFFFF)


class History:
    """Observations in the order told: unit-cube inputs, objectives (maximised), failure flags,
    optional per-observation noise variances (objective units squared; NaN where unknown)."""

    def __init__(self, space: DesignSpace, who: str):
        if not isinstance(space, DesignSpace):
            raise ValidationError(
                f"optimizer {who!r}: space must be an electroforge.DesignSpace, got {type(space).__name__}"
            )
        self.space = space
        self.who = who
        self.x_unit = np.empty((0, space.dim))
        self.objectives = np.empty(0)
        self.failed = np.empty(0, dtype=bool)
        self.noise = np.empty(0)

    def __len__(self) -> int:
        return len(self.objectives)

    @property
    def n_ok(self) -> int:
        return int((~self.failed).sum())

    def add(
        self,
        params: Sequence[Mapping[str, float]],
        objectives: Sequence[float],
        failed: Sequence[bool] | None = None,
        noise: Sequence[float] | None = None,
    ) -> None:
        """Append one batch. A non-finite objective counts as a failure (never dropped)."""
        params = list(params)
        objectives = list(objectives)
        failed = [False] * len(params) if failed is None else list(failed)
        lengths = {"params": len(params), "objectives": len(objectives), "failed": len(failed)}
        if noise is not None:
            noise = list(noise)
            lengths["noise"] = len(noise)
        if len(set(lengths.values())) != 1:
            got = ", ".join(f"{k}={v}" for k, v in lengths.items())
            raise ValidationError(f"{self.who}.tell: lists must have the same length, got {got}")
        rows = []
        for i, p in enumerate(params):
            if not isinstance(p, Mapping):
                raise ValidationError(
                    f"{self.who}.tell: params[{i}] must be a mapping name -> value, got {type(p).__name__}"
                )
            missing = [name for name in self.space.names if name not in p]
            if missing:
                raise ValidationError(f"{self.who}.tell: params[{i}] lacks parameter {missing[0]!r}")
            try:
                row = self.space.to_unit(p)
            except (TypeError, ValueError):
                raise ValidationError(f"{self.who}.tell: params[{i}] has a non-numeric value: {dict(p)!r}") from None
            if not np.all(np.isfinite(row)):
                raise ValidationError(f"{self.who}.tell: params[{i}] has a non-finite value: {dict(p)!r}")
            rows.append(row)
        y = np.array([_as_float(v) for v in objectives], dtype=float)
        f = np.array([bool(v) for v in failed], dtype=bool) | ~np.isfinite(y)
        y[f] = np.nan
        if noise is None:
            v = np.full(len(y), np.nan)
        else:
            v = np.array([_as_float(s) for s in noise], dtype=float)
            if np.any(v[np.isfinite(v)] < 0):
                raise ValidationError(f"{self.who}.tell: noise variances must be >= 0, got {noise!r}")
        if rows:
            self.x_unit = np.vstack([self.x_unit, np.array(rows)])
        self.objectives = np.concatenate([self.objectives, y])
        self.failed = np.concatenate([self.failed, f])
        self.noise = np.concatenate([self.noise, v])


def _as_float(v: object) -> float:
    try:
        return float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
