"""Synthetic "measurements": discharges simulated with known hidden corrections plus voltage noise.

Contract: :func:`synthetic_discharges(electrode, cell, c_rates, corrections, noise_V, seed) -> list[Discharge]`.
Used by the tests and the README's measured result (the fit must recover ``corrections``), and
by ``electroforge-calibrate synthesize`` to try the workflow without a cell tester.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from electroforge.model import ConstantCurrent, Electrode

from electroforge_calibrate.measurements import Discharge
from electroforge_calibrate.simulator import CalibratedPyBaMMSimulator


def synthetic_discharges(electrode: Electrode, cell, c_rates: Sequence[float], corrections: Mapping[str, float],
                         noise_V: float = 0.002, seed: int = 0, n_samples: int = 200,
                         simulator_options: Mapping[str, Any] | None = None) -> list[Discharge]:
    """One noisy constant-current discharge per C-rate, sampled at ``n_samples`` even times."""
    sim = CalibratedPyBaMMSimulator(**{"rtol": 1e-6, "atol": 1e-8, **dict(simulator_options or {})}, **corrections)
    rng = np.random.default_rng(seed)
    out = []
    for c_rate in c_rates:
        perf = sim.simulate(electrode, cell, ConstantCurrent(float(c_rate)))
        t = np.linspace(0.0, float(perf.time_s[-1]), n_samples)
        v = np.interp(t, perf.time_s, perf.voltage_V) + rng.normal(0.0, noise_V, t.shape)
        current = perf.extras["mean_current_A"]
        out.append(Discharge(time_s=t, voltage_V=v, current_A=float(current), source=f"synthetic {c_rate:g}C"))
    return out
