"""electroforge-optuna: two optimizers users often reach for instead of Bayesian optimisation.

Registers ``optuna-tpe`` (:class:`~electroforge_optuna.tpe.OptunaTPEOptimizer`, Optuna's
tree-structured Parzen estimator) and ``cmaes`` (:class:`~electroforge_optuna.cma.CMAESOptimizer`,
CMA-ES from the ``cmaes`` package, the implementation behind Optuna's ``CmaEsSampler``). Both
keep electroforge's resume contract: ``ask(n)`` is a pure function of (seed, options, the ordered
observations told, n). Importing this module is cheap: optuna and cmaes load when an optimizer
is constructed.
"""
from __future__ import annotations

import electroforge

__all__ = ["register_optimizers"]


@electroforge.hookimpl
def register_optimizers():
    from electroforge_optuna.cma import CMAESOptimizer
    from electroforge_optuna.tpe import OptunaTPEOptimizer

    return [OptunaTPEOptimizer, CMAESOptimizer]
