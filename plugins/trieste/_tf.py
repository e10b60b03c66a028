"""Import tensorflow, gpflow and trieste lazily and quietly (8-12 s, log noise on stderr).

Only the ``trieste`` optimizer calls :func:`load`, on its first model-based ``ask``; nothing else
in electroforge imports tensorflow, so ``electroforge plugins`` and the other stages stay fast.
Tensorflow is kept off any GPU (``tf.config.set_visible_devices([], "GPU")``, CUDA itself is left
alone for torch): a GP on tens of points is faster on the CPU, CPU kernels are deterministic, and
TF would otherwise reserve the whole GPU memory that the generator needs.
"""
from __future__ import annotations

import os
import types
import warnings

_MODULES: types.SimpleNamespace | None = None


def _import_tensorflow_silently():
    """The CUDA-enabled wheel writes absl lines to fd 2 before logging is configured: redirect
    the OS-level stderr only while tensorflow is imported."""
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow as tf
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return tf


def load() -> types.SimpleNamespace:
    """The modules and classes the optimizer needs, imported once per process."""
    global _MODULES
    if _MODULES is not None:
        return _MODULES
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tf = _import_tensorflow_silently()
        tf.get_logger().setLevel("ERROR")
        try:
            import absl.logging

            absl.logging.set_verbosity(absl.logging.ERROR)
        except ImportError:  # pragma: no cover - absl comes with tensorflow
            pass
        try:
            tf.config.set_visible_devices([], "GPU")
        except (RuntimeError, ValueError):  # already initialised by someone else: leave it
            pass
        import gpflow
        from trieste.acquisition import (
            BatchMonteCarloExpectedImprovement,
            ExpectedImprovement,
            LocalPenalization,
            ParallelContinuousThompsonSampling,
        )
        from trieste.acquisition.optimizer import generate_continuous_optimizer
        from trieste.acquisition.rule import EfficientGlobalOptimization
        from trieste.data import Dataset
        from trieste.models.gpflow import GaussianProcessRegression, build_gpr
        from trieste.space import Box
    _MODULES = types.SimpleNamespace(
        tf=tf,
        gpflow=gpflow,
        Box=Box,
        Dataset=Dataset,
        build_gpr=build_gpr,
        GaussianProcessRegression=GaussianProcessRegression,
        EfficientGlobalOptimization=EfficientGlobalOptimization,
        generate_continuous_optimizer=generate_continuous_optimizer,
        ExpectedImprovement=ExpectedImprovement,
        LocalPenalization=LocalPenalization,
        BatchMonteCarloExpectedImprovement=BatchMonteCarloExpectedImprovement,
        ParallelContinuousThompsonSampling=ParallelContinuousThompsonSampling,
    )
    return _MODULES
