"""Training the conditional generator on labelled 3D images: the public entry points in one place.

The code lives in one module per concern; this module re-exports their public names (so
``from electroforge.plugins.gan import training; training.train(...)`` keeps working):

* :mod:`~electroforge.plugins.gan.data`: :class:`TrainingSet`, :func:`load_training_set`
  (``labels.csv`` + images, one-line errors for bad input);
* :mod:`~electroforge.plugins.gan.config`: :class:`TrainConfig` (every option and loss weight),
  :data:`ARCHITECTURE_FIELDS`, :func:`pick_device`;
* :mod:`~electroforge.plugins.gan.losses`: the differentiable matched statistics (S2, coverage,
  erosion curve, Euler characteristic);
* :mod:`~electroforge.plugins.gan.trainer`: :class:`Trainer` (one update) and :func:`train`
  (the loop: checkpoints, monitor, export);
* :mod:`~electroforge.plugins.gan.persistence`: checkpoints and weights files;
* :mod:`~electroforge.plugins.gan.calibration`: the fraction model and per-volume fraction matching,
  and the argmax phase-offset calibration;
* :mod:`~electroforge.plugins.gan.monitoring`: monitor records and running means.
"""
from __future__ import annotations

from electroforge.plugins.gan.calibration import (
    argmax_offsets,
    calibrate_phase_offsets,
    export_calibrated,
    fraction_model,
    match_fractions,
    predict_fractions,
    recalibrate_weights,
)
from electroforge.plugins.gan.config import ARCHITECTURE_FIELDS, TrainConfig, pick_device
from electroforge.plugins.gan.data import IMAGE_SUFFIXES, TrainingSet, estimate_particle_radius_m, load_training_set
from electroforge.plugins.gan.losses import (
    EROSION_PHASES,
    TOPOLOGY_PHASES,
    erode_once,
    erosion_curve_torch,
    euler_characteristic_torch,
    euler_density_torch,
    soft_binder_coverage,
    straight_through_labels,
    two_point_correlation_torch,
)
from electroforge.plugins.gan.monitoring import best_fidelity_score, run_monitor, running_mean
from electroforge.plugins.gan.persistence import (
    WEIGHTS_FORMAT,
    checkpoint_path_for,
    export_weights,
    float_state_dict,
    weights_payload,
)
from electroforge.plugins.gan.trainer import Trainer, train

__all__ = [
    "ARCHITECTURE_FIELDS", "EROSION_PHASES", "IMAGE_SUFFIXES", "TOPOLOGY_PHASES", "WEIGHTS_FORMAT", "TrainConfig",
    "Trainer", "TrainingSet", "argmax_offsets", "best_fidelity_score", "calibrate_phase_offsets",
    "checkpoint_path_for", "erode_once", "erosion_curve_torch", "estimate_particle_radius_m",
    "euler_characteristic_torch", "euler_density_torch", "export_calibrated", "export_weights", "float_state_dict",
    "fraction_model", "load_training_set", "match_fractions", "pick_device", "predict_fractions", "recalibrate_weights", "run_monitor", "running_mean", "soft_binder_coverage",
    "straight_through_labels", "train", "two_point_correlation_torch", "weights_payload",
]
