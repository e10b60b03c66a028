"""The ``cmaes`` optimizer: CMA-ES (Hansen 2016, "The CMA Evolution Strategy: A Tutorial",
arXiv:1604.00772) from the ``cmaes`` package, the implementation Optuna's ``CmaEsSampler`` wraps.

Why not Optuna's ``CmaEsSampler`` itself: it keeps the CMA state in the system attributes of the
trials it sampled, so a study rebuilt from a campaign file (whose trials it did not sample)
restarts CMA-ES from scratch. Here the state is rebuilt from the observations instead:

- observations are split, in the order told, into generations of ``population_size`` points;
- every ``ask`` starts a CMA-ES at the centre of the unit cube with step ``sigma0`` and tells it
  each complete generation (CMA-ES minimises: the negated objectives, failures imputed below
  the generation's worst success, :mod:`.targets`); its sampler is then reseeded from (seed,
  generation) and the current generation's candidates are drawn in order;
- after k observations ``ask(n)`` returns candidates ``k % population_size`` .. ``+ n - 1`` of the
  current generation. So ``ask`` is a pure function of (seed, options, observations, n) and a
  resumed campaign proposes what the uninterrupted one would.

Batches: natural up to ``population_size`` (set ``population_size`` to the campaign's batch, or
a multiple of it). A batch reaching past the current generation gets its extra points from the
current distribution too; they count toward the next generation, which CMA-ES's update accepts
(it recombines whatever points it is told) but which lags one generation behind.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from electroforge.design import DesignSpace
from electroforge.errors import PluginError
from electroforge.history import History, check_n, check_seed, derived_seed

from .targets import check_margin, impute_failures

INSTALL_HINT = "pip install 'cmaes>=0.10,<0.14' (or pip install -e contrib/electroforge-optuna)"
OPTIONS = ("sigma0", "population_size", "impute_margin", "n_max_resampling", "lr_adapt")


def load_cmaes(who: str) -> Any:
    """Import the cmaes package, or a one-line PluginError naming ``who`` and what to install."""
    try:
        import cmaes
    except ImportError:
        raise PluginError(f"optimizer {who!r} needs the cmaes package, which is not installed: {INSTALL_HINT}") from None
    return cmaes


class CMAESOptimizer:
    """CMA-ES (maximisation) in the unit cube of the design space; see the module docstring.

    Options: ``sigma0`` (initial step in the unit cube, default 1/6: the centre +- 3 sigma spans
    the box, as Optuna's ``CmaEsSampler`` starts), ``population_size`` (default
    4 + floor(3 ln dim), 8 in 4-D, at least 4), ``impute_margin`` (0.1), ``n_max_resampling`` (100: draws
    outside the box are redrawn, then clipped) and ``lr_adapt`` (False: learning-rate adaptation,
    Nomura et al. 2023). Any other option is a one-line error naming it.
    """

    name = "cmaes"

    def __init__(self, space: DesignSpace, seed: int = 0, **options: Any):
        self.seed = check_seed(seed, self.name)
        self.space = space
        self.history = History(space, self.name)
        for key in options:
            if key not in OPTIONS:
                raise PluginError(f"optimizer {self.name!r}: unknown option {key!r}; options are {', '.join(OPTIONS)}")
        load_cmaes(self.name)
        dim = space.dim
        self.sigma0 = float(options.get("sigma0", 1.0 / 6.0))
        if not np.isfinite(self.sigma0) or self.sigma0 <= 0:
            raise PluginError(f"optimizer {self.name!r}: sigma0={options['sigma0']!r} must be > 0")
        pop = options.get("population_size", 4 + int(np.floor(3 * np.log(dim))))
        if isinstance(pop, bool) or not isinstance(pop, (int, np.integer)) or pop < 4:
            # below 4 the rank-mu update's learning rate is 0 and the cmaes package divides by it
            raise PluginError(f"optimizer {self.name!r}: population_size={pop!r} must be an integer >= 4")
        self.population_size = int(pop)
        self.impute_margin = check_margin(options.get("impute_margin", 0.1), self.name)
        nmax = options.get("n_max_resampling", 100)
        if isinstance(nmax, bool) or not isinstance(nmax, (int, np.integer)) or nmax < 1:
            raise PluginError(f"optimizer {self.name!r}: n_max_resampling={nmax!r} must be an integer >= 1")
        self.n_max_resampling = int(nmax)
        self.lr_adapt = bool(options.get("lr_adapt", False))

    def tell(
        self,
        params: Sequence[Mapping[str, float]],
        objectives: Sequence[float],
        failed: Sequence[bool] | None = None,
        noise: Sequence[float] | None = None,
    ) -> None:
        """Record observations (maximised; failed ones may be NaN). ``noise`` is ignored."""
        self.history.add(params, objectives, failed, noise)

    @property
    def generation(self) -> int:
        """Complete generations told so far (the one ``ask`` samples from next)."""
        return len(self.history) // self.population_size

    def _strategy(self) -> Any:
        """A CMA-ES told every complete generation, its sampler seeded for the current one."""
        cmaes = load_cmaes(self.name)
        dim, pop = self.space.dim, self.population_size
        es = cmaes.CMA(
            mean=np.full(dim, 0.5),
            sigma=self.sigma0,
            bounds=np.tile([0.0, 1.0], (dim, 1)),
            n_max_resampling=self.n_max_resampling,
            seed=derived_seed(self.seed, 0, salt=3),
            population_size=pop,
            lr_adapt=self.lr_adapt,
        )
        h = self.history
        for g in range(self.generation):
            rows = slice(g * pop, (g + 1) * pop)
            values = impute_failures(h.objectives[rows], h.failed[rows], self.impute_margin)
            es.tell([(np.clip(x, 0.0, 1.0), -float(y)) for x, y in zip(h.x_unit[rows], values)])
        es.reseed_rng(derived_seed(self.seed, self.generation, salt=3))
        return es

    def ask(self, n: int = 1) -> list[dict[str, float]]:
        """``n`` designs in parameter units, inside the bounds (see the module docstring)."""
        n = check_n(n, self.name)
        es = self._strategy()
        start = len(self.history) % self.population_size
        candidates = np.array([es.ask() for _ in range(start + n)])
        unit = np.clip(candidates[start:], 0.0, 1.0)
        return [self.space.from_unit(x) for x in unit]
