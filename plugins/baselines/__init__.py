"""Built-in model-free optimizers: ``sobol`` (scrambled Sobol, the baseline BO is measured
against), ``random`` (uniform) and ``grid`` (full-factorial sweeps).

Every optimizer here is constructed as ``cls(space=DesignSpace, seed=int, **options)`` and
proposes the next points as a pure function of the seed and the number of observations told,
which makes a resumed campaign identical to an uninterrupted one (see :mod:`.history`).
"""
from electroforge import hookimpl

from .space_filling import GridOptimizer, RandomOptimizer, SobolOptimizer

__all__ = ["GridOptimizer", "RandomOptimizer", "SobolOptimizer"]


@hookimpl
def register_optimizers():
    return [SobolOptimizer, RandomOptimizer, GridOptimizer]
