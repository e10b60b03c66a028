"""Synthetic "measurements": discharges simulated with known hidden corrections plus voltage noise.

Contract: :func:`synthetic_discharges(electrode, cell, c_rates, corrections, noise_V, seed) -> list[Discharge]`;
:func:`synthetic_pocv(electrode, cell, corrections, c_rate, noise_V, seed) -> PseudoOCV` (a slow
DFN discharge with both electrodes' potentials against a lithium reference, for the balance fit).
Used by the tests and the README's measured result (the fit must recover ``corrections``), and
by ``electroforge-calibrate synthesize`` to try the workflow without a cell tester.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from electroforge.model import ConstantCurrent, Electrode

from electroforge_calibrate.measurements import Discharge
from electroforge_calibrate.pocv import PocvStep, PseudoOCV
from electroforge_calibrate.simulator import ELECTRODE_POTENTIALS, CalibratedPyBaMMSimulator


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


def synthetic_pocv(electrode: Electrode, cell, corrections: Mapping[str, float], c_rate: float = 1.0 / 40.0,
                   noise_V: float = 0.001, seed: int = 0, n_samples: int = 300,
                   simulator_options: Mapping[str, Any] | None = None) -> PseudoOCV:
    """A slow DFN discharge (from the charged state to the lower cut-off) of ``cell`` with hidden
    ``corrections`` (e.g. a lithium loss): full-cell voltage and both electrodes' potentials
    against a lithium reference, ``n_samples`` even times, Gaussian noise on each; the cathode area
    is the layout's, as a pOCV file's ``electrode_area_m2``."""
    sim = CalibratedPyBaMMSimulator(**{"rtol": 1e-6, "atol": 1e-8, **dict(simulator_options or {})}, **corrections)
    layout, sol = sim.solve(electrode, cell, ConstantCurrent(float(c_rate)))
    t_sol = np.asarray(sol["Time [s]"].entries, dtype=float)
    t = np.linspace(0.0, float(t_sol[-1] - t_sol[0]), n_samples)
    rng = np.random.default_rng(seed)

    def sample(name: str) -> np.ndarray:
        values = np.asarray(sol[name].entries, dtype=float)
        return np.interp(t, t_sol - t_sol[0], values) + rng.normal(0.0, noise_V, t.shape)

    current = float(np.mean(np.asarray(sol["Current [A]"].entries, dtype=float)))
    step = PocvStep(name="discharge", time_s=t, current_A=current, voltage_V=sample("Voltage [V]"),
                    cathode_potential_V=sample(ELECTRODE_POTENTIALS[0]), anode_potential_V=sample(ELECTRODE_POTENTIALS[1]))
    return PseudoOCV(steps=(step,), electrode_area_m2=layout.electrode_area_m2,
                     source=f"synthetic pOCV {c_rate:g}C {dict(corrections)}")
