"""Import tensorflow, gpflow and trieste lazily and quietly (8-12 s, log noise on stderr).

Only the ``trieste`` optimizer calls :func:`load`, on its first model-based ``ask``; nothing else
in electroforge imports tensorflow at import time, so ``electroforge plugins`` and the other
stages stay fast. Tensorflow itself comes from :func:`electroforge.tfquiet.import_tensorflow_quietly`
(log noise hidden, kept off the GPU).
"""
from __future__ import annotations

import types
import warnings

from electroforge.tfquiet import import_tensorflow_quietly

_MODULES: types.SimpleNamespace | None = None


def load() -> types.SimpleNamespace:
    """The modules and classes the optimizer needs, imported once per process."""
    global _MODULES
    if _MODULES is not None:
        return _MODULES
    tf = import_tensorflow_quietly()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import gpflow
        import tensorflow_probability as tfp
        from trieste.acquisition import (
            BatchMonteCarloExpectedImprovement,
            ExpectedImprovement,
            LocalPenalization,
            ParallelContinuousThompsonSampling,
        )
        from trieste.acquisition.optimizer import FailedOptimizationError, generate_continuous_optimizer
        from trieste.acquisition.rule import EfficientGlobalOptimization
        from trieste.data import Dataset
        from trieste.models.gpflow import GaussianProcessRegression
        from trieste.space import Box
    _MODULES = types.SimpleNamespace(
        tf=tf,
        tfp=tfp,
        gpflow=gpflow,
        Box=Box,
        Dataset=Dataset,
        GaussianProcessRegression=GaussianProcessRegression,
        EfficientGlobalOptimization=EfficientGlobalOptimization,
        generate_continuous_optimizer=generate_continuous_optimizer,
        FailedOptimizationError=FailedOptimizationError,
        ExpectedImprovement=ExpectedImprovement,
        LocalPenalization=LocalPenalization,
        BatchMonteCarloExpectedImprovement=BatchMonteCarloExpectedImprovement,
        ParallelContinuousThompsonSampling=ParallelContinuousThompsonSampling,
    )
    return _MODULES
