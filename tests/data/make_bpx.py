"""A small, valid BPX (Battery Parameter eXchange, https://bpxstandard.com) file for the tests.

An NMC811 / graphite DFN parameterisation written from the published Chen et al. 2020 values
(J. Electrochem. Soc. 167, 080534: LG M50; OCP fits of its Table IX, constant electrolyte
properties at 1 M), so that a BPX-defined cell can be checked against the built-in ``Chen2020``.
``python tests/data/make_bpx.py OUT.json`` writes it; the tests call :func:`bpx_dict`.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

POSITIVE_OCP = ("-0.809 * x + 4.4875 - 0.0428 * tanh(18.5138 * (x - 0.5542)) "
                "- 17.7326 * tanh(15.789 * (x - 0.3117)) + 17.5842 * tanh(15.9308 * (x - 0.312))")
NEGATIVE_OCP = ("1.9793 * exp(-39.3631 * x) + 0.2482 - 0.0909 * tanh(29.8538 * (x - 0.1234)) "
                "- 0.04478 * tanh(14.9159 * (x - 0.2769)) - 0.0205 * tanh(30.4444 * (x - 0.6103))")


def _k_norm(m_ref: float, c_max: float, c_e0: float = 1000.0) -> float:
    """BPX's normalised rate constant from Chen2020's j0 = m_ref sqrt(c_e c_s (c_max - c_s)):
    BPX writes j0 = F k sqrt((c_e / c_e0)(c_s / c_max)(1 - c_s / c_max)), so k = m_ref c_max sqrt(c_e0) / F."""
    return m_ref * c_max * c_e0**0.5 / 96485.33212


def bpx_dict() -> dict:
    return {
        "Header": {"BPX": "1.0.0", "Title": "electroforge test cell (Chen2020 values)", "Model": "DFN"},
        "Parameterisation": {
            "Cell": {
                "Electrode area [m2]": 0.1027, "Number of electrode pairs connected in parallel to make a cell": 1,
                "Lower voltage cut-off [V]": 2.5, "Upper voltage cut-off [V]": 4.2,
                "Nominal cell capacity [A.h]": 5.0, "Reference temperature [K]": 298.15,
                "Volume [m3]": 2.42e-5, "External surface area [m2]": 5.31e-3,
            },
            "Electrolyte": {
                "Cation transference number": 0.2594,
                "Diffusivity [m2.s-1]": 1.77e-10, "Conductivity [S.m-1]": 0.95,
            },
            "Negative electrode": {
                "Particle radius [m]": 5.86e-6, "Thickness [m]": 85.2e-6, "Diffusivity [m2.s-1]": 3.3e-14,
                "OCP [V]": NEGATIVE_OCP, "Conductivity [S.m-1]": 215.0,
                "Surface area per unit volume [m-1]": 3 * 0.75 / 5.86e-6, "Porosity": 0.25,
                "Transport efficiency": 0.125, "Reaction rate constant [mol.m-2.s-1]": _k_norm(6.48e-7, 33133.0),
                "Minimum stoichiometry": 0.0279, "Maximum stoichiometry": 0.9014,
                "Maximum concentration [mol.m-3]": 33133.0,
            },
            "Positive electrode": {
                "Particle radius [m]": 5.22e-6, "Thickness [m]": 75.6e-6, "Diffusivity [m2.s-1]": 4.0e-15,
                "OCP [V]": POSITIVE_OCP, "Conductivity [S.m-1]": 0.18,
                "Surface area per unit volume [m-1]": 3 * 0.665 / 5.22e-6, "Porosity": 0.335,
                "Transport efficiency": 0.194, "Reaction rate constant [mol.m-2.s-1]": _k_norm(3.42e-6, 63104.0),
                "Minimum stoichiometry": 0.2661, "Maximum stoichiometry": 0.9084,
                "Maximum concentration [mol.m-3]": 63104.0,
            },
            "Separator": {"Thickness [m]": 12e-6, "Porosity": 0.47, "Transport efficiency": 0.3222},
        },
        "State": {
            "Initial conditions": {"Initial temperature [K]": 298.15, "Initial electrolyte concentration [mol.m-3]": 1000.0},
            "Thermal environment": {"Ambient temperature [K]": 298.15, "Heat transfer coefficient [W.m-2.K-1]": 10.0},
        },
    }


def write_bpx(path: str | Path, data: dict | None = None) -> Path:
    path = Path(path)
    path.write_text(json.dumps(bpx_dict() if data is None else data, indent=2))
    return path


if __name__ == "__main__":
    print(write_bpx(sys.argv[1] if len(sys.argv) > 1 else "test_cell.bpx.json"))
