"""How well PyBaMM's graphite OCP functions describe the Tesla 4680 anode, and what anode
capacity each implies (docs/cell-simulator.md, "What the measurements say").

Fits the packaged T-cell's measured anode potential (discharge, against the lithium reference) as
U_n(x_start - q / Q_n) with each parameter set's negative-electrode OCP, two parameters (x_start,
Q_n per unit stoichiometry and cathode area), and prints the RMSE and Q_n, also relative to the
model's 111 µm and 131 µm anodes (Chen2020's c_max: 6.41 and 7.56 mAh/cm² per unit x).

    python scripts/anode_ocp_check.py
"""
from __future__ import annotations

import os

import numpy as np
from scipy.optimize import least_squares

os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")

SETS = ("Chen2020", "Ai2020", "Ecker2015", "Mohtat2020", "Marquis2019")
MODEL_Qn = {"111 µm": 6.407, "131 µm": 7.561}  # mAh/cm² per unit x (Chen2020 c_max, 0.65 graphite)


def main() -> int:
    import pybamm

    from electroforge_calibrate.balance import _GRID
    from electroforge_calibrate.pocv import ank2023_tcell_path, read_pocv_csv

    pybamm.set_logging_level("ERROR")
    data = read_pocv_csv(ank2023_tcell_path())
    step = data.step("discharge")
    q = step.charge_passed_Ah * 1e3 / (data.electrode_area_m2 * 1e4)  # mAh/cm²
    lp = pybamm.LithiumIonParameters()
    print("| anode OCP (PyBaMM set) | RMSE (mV) | Q_n (mAh/cm² per x) | x start → end | vs 111 µm | vs 131 µm |")
    print("|---|---|---|---|---|---|")
    for name in SETS:
        pv = pybamm.ParameterValues(name)
        u = np.asarray(pv.process_symbol(lp.n.prim.U(pybamm.Array(_GRID), pybamm.Scalar(298.15))).evaluate()).ravel()

        def residual(p, u=u):
            return np.interp(p[0] - q / p[1], _GRID, u) - step.anode_potential_V

        fits = [least_squares(residual, [x0, qn], bounds=([0.3, 1.0], [1.0, 20.0]))
                for x0 in (0.7, 0.85, 0.95) for qn in (4.5, 5.5, 6.5)]
        best = min(fits, key=lambda f: f.cost)
        x0, qn = best.x
        rmse = 1e3 * float(np.sqrt(np.mean(best.fun**2)))
        print(f"| {name} | {rmse:.1f} | {qn:.2f} | {x0:.3f} → {x0 - q[-1] / qn:.3f} | "
              f"{qn / MODEL_Qn['111 µm']:.2f} | {qn / MODEL_Qn['131 µm']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
