"""The ``optuna-tpe`` optimizer: Optuna's tree-structured Parzen estimator (``TPESampler``).

How it meets electroforge's resume contract (``ask(n)`` a pure function of seed, options, the
ordered observations told and ``n``): every ``ask`` builds a fresh in-memory Optuna study, adds
each observation told so far as a completed trial (parameters in the unit cube, failures
imputed below the worst success, :mod:`.targets`) and asks the study ``n`` times. The sampler is
seeded from (seed, number of observations), so nothing carries over between asks and a resumed
campaign (a fresh optimizer told the stored observations at once) proposes what the
uninterrupted one would. TPE keeps no state beyond its trials, so rebuilding the study loses
nothing.

Batches: the ``n`` trials of one ask are pending together; Optuna's ``constant_liar`` (on by
default) treats the pending ones as bad so the batch spreads out. Any ``n`` works.
"""
from __future__ import annotations

import inspect
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from electroforge.design import DesignSpace
from electroforge.errors import PluginError
from electroforge.history import History, check_n, check_seed, derived_seed

from .targets import check_margin, impute_failures

INSTALL_HINT = "pip install 'optuna>=4,<6' (or pip install -e contrib/electroforge-optuna)"


def load_optuna(who: str) -> Any:
    """Import optuna quietly, or a one-line PluginError naming ``who`` and what to install."""
    try:
        import optuna
    except ImportError:
        raise PluginError(f"optimizer {who!r} needs the optuna package, which is not installed: {INSTALL_HINT}") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


class OptunaTPEOptimizer:
    """Optuna's TPE sampler as an electroforge optimizer (maximisation); see the module docstring.

    Options: ``impute_margin`` (0.1: a failure's value is the worst success minus this times the
    successes' range) and any keyword of ``optuna.samplers.TPESampler`` except ``seed``
    (``n_startup_trials`` = 10, ``multivariate``, ``constant_liar``, ``n_ei_candidates``, ...;
    Optuna's defaults otherwise). An unknown option is a one-line error naming it.
    """

    name = "optuna-tpe"

    def __init__(self, space: DesignSpace, seed: int = 0, impute_margin: float = 0.1, **sampler_options: Any):
        self.seed = check_seed(seed, self.name)
        self.space = space
        self.history = History(space, self.name)
        self.impute_margin = check_margin(impute_margin, self.name)
        optuna = load_optuna(self.name)
        allowed = sorted(p for p in inspect.signature(optuna.samplers.TPESampler).parameters if p != "seed")
        for key in sampler_options:
            if key not in allowed:
                raise PluginError(
                    f"optimizer {self.name!r}: unknown option {key!r}; it takes impute_margin and "
                    f"TPESampler's {', '.join(allowed)}"
                )
        self.sampler_options = dict(sampler_options)
        self._sampler(0)  # a bad option value fails here, once, not in the middle of a campaign

    def tell(
        self,
        params: Sequence[Mapping[str, float]],
        objectives: Sequence[float],
        failed: Sequence[bool] | None = None,
        noise: Sequence[float] | None = None,
    ) -> None:
        """Record observations (maximised; failed ones may be NaN). ``noise`` is ignored."""
        self.history.add(params, objectives, failed, noise)

    def _sampler(self, k: int) -> Any:
        optuna = load_optuna(self.name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            try:
                return optuna.samplers.TPESampler(seed=derived_seed(self.seed, k), **self.sampler_options)
            except (TypeError, ValueError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise PluginError(f"optimizer {self.name!r}: bad sampler option: {first}") from None

    def ask(self, n: int = 1) -> list[dict[str, float]]:
        """``n`` designs in parameter units, inside the bounds."""
        n = check_n(n, self.name)
        optuna = load_optuna(self.name)
        h = self.history
        names = list(self.space.names)
        dists = {name: optuna.distributions.FloatDistribution(0.0, 1.0) for name in names}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study = optuna.create_study(direction="maximize", sampler=self._sampler(len(h)))
            values = impute_failures(h.objectives, h.failed, self.impute_margin)
            for x, y in zip(h.x_unit, values):
                params = {name: float(np.clip(v, 0.0, 1.0)) for name, v in zip(names, x)}
                study.add_trial(optuna.trial.create_trial(params=params, distributions=dists, value=float(y)))
            trials = [study.ask(dists) for _ in range(n)]
        unit = np.clip(np.array([[t.params[name] for name in names] for t in trials], dtype=float), 0.0, 1.0)
        return [self.space.from_unit(x) for x in unit]
