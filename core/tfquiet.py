"""Import tensorflow quietly and only when asked (it costs 6-12 s and prints log noise).

Contract: :func:`import_tensorflow_quietly` returns the ``tensorflow`` module, imported once per
process with ``TF_CPP_MIN_LOG_LEVEL=3`` and ``TF_ENABLE_ONEDNN_OPTS=0`` (unless the user set
them), the OS-level stderr redirected to /dev/null during the import itself (the CUDA-enabled
wheel writes absl lines to fd 2 before any logging is configured), tensorflow's and absl's
loggers at ERROR, and tensorflow kept off any GPU (``tf.config.set_visible_devices([], "GPU")``;
CUDA itself is left to torch): the small GP fits electroforge does are faster and deterministic
on the CPU, and tensorflow would otherwise reserve the GPU memory the generator needs.

Nothing in electroforge imports tensorflow at module import time; the ``trieste`` optimizer and
the report's GP fit call this function when they first need it.
"""
from __future__ import annotations

import os
import sys
import warnings


def _import_with_stderr_silenced():
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        sys.stderr.flush()
    except (AttributeError, ValueError):  # pragma: no cover - closed or replaced stderr
        pass
    os.dup2(devnull, 2)
    try:
        import tensorflow as tf
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return tf


def import_tensorflow_quietly():
    """The ``tensorflow`` module, imported without log noise and kept off the GPU (see module doc)."""
    if "tensorflow" in sys.modules and hasattr(sys.modules["tensorflow"], "config"):
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tf = _import_with_stderr_silenced()
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
    return tf
