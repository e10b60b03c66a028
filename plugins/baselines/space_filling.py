"""Model-free optimizers: ``sobol`` (scrambled Sobol, the baseline), ``random`` and ``grid`` (sweeps).

All three satisfy the resume contract of :mod:`.history` trivially: the next points are indexed by
the number of observations told, so ``ask`` without a ``tell`` in between returns the same points.
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from electroforge.design import DesignSpace
from electroforge.errors import ValidationError

from electroforge.history import History, check_n, check_seed, derived_seed, sobol_unit_points


class _IndexedOptimizer:
    """Base: keeps the History; subclasses map (seed, k, n) -> unit-cube points."""

    name = ""

    def __init__(self, space: DesignSpace, seed: int = 0):
        self.seed = check_seed(seed, self.name)
        self.space = space
        self.history = History(space, self.name)

    def tell(
        self,
        params: Sequence[Mapping[str, float]],
        objectives: Sequence[float],
        failed: Sequence[bool] | None = None,
        noise: Sequence[float] | None = None,
    ) -> None:
        """Record observations (objectives maximised; failed ones may be NaN). ``noise`` is ignored."""
        self.history.add(params, objectives, failed, noise)

    def ask(self, n: int = 1) -> list[dict[str, float]]:
        """``n`` designs in parameter units; the same for the same (seed, observations told, n)."""
        n = check_n(n, self.name)
        return [self.space.from_unit(x) for x in self._unit_points(len(self.history), n)]

    def _unit_points(self, k: int, n: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


class SobolOptimizer(_IndexedOptimizer):
    """Scrambled Sobol sequence (scipy ``qmc.Sobol``, Owen scrambling seeded by ``seed``).

    After k observations ``ask(n)`` returns Sobol points k .. k+n-1.
    """

    name = "sobol"

    def _unit_points(self, k: int, n: int) -> np.ndarray:
        return sobol_unit_points(self.space.dim, self.seed, k, n)


class RandomOptimizer(_IndexedOptimizer):
    """Independent uniform points; the generator is seeded from (seed, observations told)."""

    name = "random"

    def _unit_points(self, k: int, n: int) -> np.ndarray:
        return np.random.default_rng(derived_seed(self.seed, k)).random((n, self.space.dim))


class GridOptimizer(_IndexedOptimizer):
    """A full-factorial sweep: ``points_per_dim`` evenly spaced values per parameter, bounds
    included (1 means the centre). Points are enumerated in a fixed order, the last parameter
    varying fastest; after k observations ``ask(n)`` returns grid points k .. k+n-1, fewer when
    the grid runs out, and raises a one-line error once all ``size`` points have been asked.
    ``seed`` is accepted for the common constructor and has no effect.
    """

    name = "grid"

    def __init__(self, space: DesignSpace, seed: int = 0, points_per_dim: int = 5):
        super().__init__(space, seed)
        if isinstance(points_per_dim, bool) or not isinstance(points_per_dim, (int, np.integer)) or points_per_dim < 1:
            raise ValidationError(f"optimizer {self.name!r}: points_per_dim must be a positive integer, got {points_per_dim!r}")
        self.points_per_dim = int(points_per_dim)
        #: total number of grid points, points_per_dim ** dim
        self.size = self.points_per_dim ** space.dim

    def _axis(self) -> np.ndarray:
        if self.points_per_dim == 1:
            return np.array([0.5])
        return np.linspace(0.0, 1.0, self.points_per_dim)

    def _unit_points(self, k: int, n: int) -> np.ndarray:
        if k >= self.size:
            raise ValidationError(
                f"optimizer {self.name!r}: all {self.size} grid points ({self.points_per_dim} per parameter) "
                f"have been evaluated; lower the budget to {self.size} or raise points_per_dim"
            )
        axis = self._axis()
        stop = min(k + n, self.size)
        idx = itertools.islice(itertools.product(range(self.points_per_dim), repeat=self.space.dim), k, stop)
        return np.array([[axis[i] for i in row] for row in idx])
