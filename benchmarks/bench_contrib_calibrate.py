"""Benchmark of contrib electroforge-calibrate: recover hidden corrections from synthetic measurements.

A typical generated NMC811 cathode (70 µm, porosity 0.33, tau 2.4, 20 % binder coverage) in a
half cell, discharged at 0.5C and 2C with hidden corrections (tortuosity multiplier 1.6, contact
resistance 2e-3 Ohm m², exchange-current factor 0.4) plus 2 mV Gaussian noise, 200 samples each.
Prints the recovered values with their 1-sigma errors, the fit's RMSE against the uncalibrated
simulator's (the baseline, same run) and the fit's wall time. Needs ``pip install -e contrib/electroforge-calibrate``.

    .venv/bin/python benchmarks/bench_contrib_calibrate.py
"""
from __future__ import annotations

import electroforge  # noqa: F401,I001  (before torch: passive OpenMP waiting, see electroforge/__init__.py)
import os
import time

os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")

import numpy as np  # noqa: E402

from electroforge.cells import HalfCell  # noqa: E402
from electroforge.model import Electrode, Metrics  # noqa: E402
from electroforge_calibrate.fit import fit_calibration, replay, voltage_residual  # noqa: E402
from electroforge_calibrate.simulator import CalibratedPyBaMMSimulator  # noqa: E402
from electroforge_calibrate.synthetic import synthetic_discharges  # noqa: E402

HIDDEN = {"tortuosity_multiplier": 1.6, "contact_resistance_Ohm_m2": 2e-3, "exchange_current_factor": 0.4}


def main() -> None:
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    porosity = 0.33
    metrics = Metrics(volume_fractions={"pore": porosity, "active": 0.93 * (1 - porosity), "binder": 0.07 * (1 - porosity)},
                      specific_surface_area_per_m=4e5, binder_coverage=0.2, tortuosity_factor=2.4,
                      effective_conductivity_S_per_m=0.14)
    electrode, cell = Electrode(metrics, thickness_m=70e-6), HalfCell()
    measured = synthetic_discharges(electrode, cell, [0.5, 2.0], HIDDEN, noise_V=0.002, seed=1)
    neutral = CalibratedPyBaMMSimulator(rtol=1e-6, atol=1e-8)
    r0 = np.concatenate([voltage_residual(replay(neutral, d, electrode, cell), d, np.linspace(0, d.duration_s, 80))
                         for d in measured])
    rmse0 = float(np.sqrt(np.mean(r0**2)))
    t0 = time.perf_counter()
    cal = fit_calibration(measured, electrode, cell)
    wall = time.perf_counter() - t0
    print("correction                     hidden      fitted      1-sigma     error")
    for name, hidden in HIDDEN.items():
        v, sd = cal.parameters[name], cal.uncertainty[name]
        print(f"{name:30s} {hidden:<11.4g} {v:<11.4g} {sd:<11.3g} {100 * (v - hidden) / hidden:+.2f} %")
    print(f"RMSE uncalibrated (baseline)   {rmse0 * 1e3:.1f} mV")
    print(f"RMSE calibrated                {cal.rmse_V * 1e3:.2f} mV  (noise 2 mV)  ratio {rmse0 / cal.rmse_V:.0f}x")
    opt = cal.provenance["optimizer"]
    print(f"fit: {opt['nfev']} iterations, {opt['simulations']} simulations, {wall:.1f} s wall "
          f"({wall / opt['simulations']:.2f} s per simulation)")


if __name__ == "__main__":
    main()
