"""Benchmark of contrib electroforge-lfp: LFP (pybamm-lfp, Prada2013) vs NMC811 (pybamm, Chen2020).

One electrode (porosity 0.33, 93 % active by volume of the solid, tau 2.4, 20 mg/cm²) simulated
by both chemistries, in a half cell at 0.1C and a 4680 at 10 W. Prints mean discharge voltage,
plateau span (voltage range over 20-80 % of the discharge), capacity per gram, Wh/L and Wh/kg,
and the re-solve time of each (ratio LFP / NMC, same run). Needs ``pip install -e contrib/electroforge-lfp``.

    .venv/bin/python benchmarks/bench_contrib_lfp.py
"""
from __future__ import annotations

import os
import time

os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")

import numpy as np  # noqa: E402

from electroforge.cells import HalfCell, cell_from_name  # noqa: E402
from electroforge.model import ConstantCurrent, ConstantPower, Electrode, Metrics  # noqa: E402
from electroforge.plugins.pybamm.simulator import PyBaMMSimulator  # noqa: E402
from electroforge_lfp.simulator import LFPSimulator  # noqa: E402


def span(perf) -> float:
    t = perf.time_s / perf.time_s[-1]
    v = np.interp(np.linspace(0.2, 0.8, 61), t, perf.voltage_V)
    return float(v.max() - v.min())


def main() -> None:
    porosity = 0.33
    m = Metrics(volume_fractions={"pore": porosity, "active": 0.93 * (1 - porosity), "binder": 0.07 * (1 - porosity)},
                specific_surface_area_per_m=4e5, binder_coverage=0.2, tortuosity_factor=2.4,
                effective_conductivity_S_per_m=0.14)
    el = Electrode(m, mass_loading_kg_per_m2=0.2)
    sims = {"LFP (pybamm-lfp)": LFPSimulator(), "NMC811 (pybamm)": PyBaMMSimulator()}
    cases = [("half", HalfCell(), ConstantCurrent(0.1)), ("4680", cell_from_name("4680"), ConstantPower(10.0)),
             ("4680", cell_from_name("4680"), ConstantCurrent(1.0))]
    print(f"{'chemistry':18s} {'cell':5s} {'protocol':8s} {'V mean':>7s} {'span mV':>8s} {'mAh/g':>6s} "
          f"{'Wh/L':>6s} {'Wh/kg':>6s} {'µm':>5s} {'solve s':>7s}")
    solve = {}
    for name, sim in sims.items():
        for cname, cell, prot in cases:
            sim.simulate(el, cell, prot)  # build
            t0 = time.perf_counter()
            p = sim.simulate(el, cell, prot)
            dt = time.perf_counter() - t0
            solve.setdefault(name, []).append(dt)
            print(f"{name:18s} {cname:5s} {prot.label:8s} {p.energy_Wh / p.capacity_Ah:7.3f} {span(p) * 1e3:8.0f} "
                  f"{p.capacity_per_g_active_mAh:6.1f} {p.energy_density_Wh_per_L:6.0f} {p.specific_energy_Wh_per_kg:6.0f} "
                  f"{p.extras['cathode_thickness_m'] * 1e6:5.1f} {dt:7.2f}")
    a, b = (float(np.mean(v)) for v in solve.values())
    print(f"mean re-solve time LFP / NMC: {a / b:.2f}")


if __name__ == "__main__":
    main()
