"""PyBaMM parameter values for a designed positive electrode (imports pybamm lazily).

Parameter set: **Chen2020** (Chen et al., J. Electrochem. Soc. 167, 080534 (2020); PyBaMM's
``"Chen2020"``), an LG M50 21700 NMC811 / graphite-SiOx cell, 2.5-4.2 V. Its published
stoichiometry windows (Chen 2020, Table VII) define the usable capacities:

* positive NMC811 x in [0.2661, 0.9084] (100% -> 0% state of charge),
* negative graphite x in [0.0279, 0.9014] (0% -> 100%).

What comes from the design (PyBaMM ``[input]`` parameters, no rebuild needed):

* ``Positive electrode porosity`` and ``active material volume fraction`` <- metrics;
* ``Positive electrode tortuosity factor (electrolyte)`` <- metrics' tortuosity factor
  (model option ``"transport efficiency": "tortuosity factor"``: B = eps / tau instead of Bruggeman);
* ``Positive electrode conductivity`` <- metrics' effective solid conductivity sigma_eff, with the
  electrode tortuosity factor set to (1 - eps) so that PyBaMM's (1 - eps)/tau_s is 1 and the
  measured sigma_eff is used as is;
* the reactive area: PyBaMM fixes a = 3 eps_am / R for spheres, so a measured area enters as a
  factor on the positive exchange-current density, ``a_target / (3 eps_am / R)`` with
  ``a_target = a x (1 - binder coverage)`` (CBD-covered surface is taken as inactive). The particle
  radius R still sets the solid-diffusion length, so solid diffusion is not changed by the area;
* current or power, and the cut-off voltages.

Geometry (thicknesses, particle radius, electrode area) sets the mesh and cannot be an input:
it is fixed per build. The full cell's graphite anode gets its thickness from the cell layout (N/P)
and starts charged to hold exactly the cathode's window capacity (all cyclable lithium comes from
the cathode): x_n(100%) = 0.0279 + 0.8735 / (N/P).
"""
from __future__ import annotations

import os
from typing import Any

import attrs

from electroforge.errors import PluginError

P = "Positive electrode "
FARADAY_C_per_mol = 96485.33212


@attrs.frozen
class ParameterSet:
    """The facts the plugin needs about a PyBaMM parameter set."""

    name: str
    x_p_charged: float
    """Positive stoichiometry at 100% SOC."""
    x_p_discharged: float
    x_n_discharged: float
    x_n_charged: float
    lower_cutoff_V: float
    upper_cutoff_V: float
    half_cell_lower_cutoff_V: float
    """Default discharge cut-off vs Li/Li+ of a half cell."""
    half_cell_upper_cutoff_V: float
    citation: str

    def window(self) -> tuple[float, float]:
        return self.x_p_discharged - self.x_p_charged, self.x_n_charged - self.x_n_discharged


#: Supported parameter sets (PyBaMM name -> facts). Others lack published stoichiometry windows here.
PARAMETER_SETS: dict[str, ParameterSet] = {
    "Chen2020": ParameterSet(
        name="Chen2020", x_p_charged=0.2661, x_p_discharged=0.9084, x_n_discharged=0.0279, x_n_charged=0.9014,
        lower_cutoff_V=2.5, upper_cutoff_V=4.2,
        # NMC811 coin cells are commonly cycled 3.0-4.3 V vs Li (e.g. Noh et al., J. Power Sources
        # 233 (2013) 121); the full cell's 4.2 V top of charge is ~4.28 V vs Li with Chen2020's OCPs.
        half_cell_lower_cutoff_V=3.0, half_cell_upper_cutoff_V=4.3,
        citation="Chen et al., J. Electrochem. Soc. 167, 080534 (2020), LG M50 NMC811/graphite-SiOx",
    ),
}

INPUT_NAMES = (
    P + "porosity",
    P + "active material volume fraction",
    P + "tortuosity factor (electrolyte)",
    P + "tortuosity factor (electrode)",
    P + "conductivity [S.m-1]",
    P + "target surface area to volume ratio [m-1]",
    "Lower voltage cut-off [V]",
    "Upper voltage cut-off [V]",
)


def pybamm():
    """Import pybamm on first use (it takes seconds) with telemetry off and quiet logging."""
    os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")
    import pybamm as _pybamm

    _pybamm.set_logging_level("ERROR")
    return _pybamm


def get_parameter_set(name: str) -> ParameterSet:
    try:
        return PARAMETER_SETS[name]
    except KeyError:
        raise PluginError(
            f"cell simulator 'pybamm': parameter set {name!r} is not supported; use one of {', '.join(PARAMETER_SETS)}"
        ) from None


def capacities_Ah_per_m3(pset: ParameterSet) -> tuple[float, float]:
    """Usable capacity per m³ of active material over the set's windows: (positive, negative)."""
    pv = pybamm().ParameterValues(pset.name)
    dxp, dxn = pset.window()
    c_p = float(pv["Maximum concentration in positive electrode [mol.m-3]"])
    c_n = float(pv["Maximum concentration in negative electrode [mol.m-3]"])
    return c_p * FARADAY_C_per_mol * dxp / 3600.0, c_n * FARADAY_C_per_mol * dxn / 3600.0


def parameter_values(pset: ParameterSet, *, half_cell: bool, drive: str, cathode_thickness_m: float,
                     particle_radius_m: float, area_m2: float, nominal_capacity_Ah: float,
                     anode_thickness_m: float = 0.0, np_ratio: float = 1.1,
                     separator: Any = None):
    """ParameterValues for one geometry; design quantities are ``[input]`` (see module doc).

    ``drive``: ``"current"`` (input ``Current function [A]``) or ``"power"`` (input ``Power function [W]``).
    """
    pb = pybamm()
    pv = pb.ParameterValues(pset.name)
    j0_original = pv[P + "exchange-current density [A.m-2]"]

    def j0_scaled(c_e, c_s_surf, c_s_max, T):
        a_target = pb.Parameter(P + "target surface area to volume ratio [m-1]")
        eps_am = pb.Parameter(P + "active material volume fraction")
        radius = pb.Parameter("Positive particle radius [m]")
        return j0_original(c_e, c_s_surf, c_s_max, T) * a_target / (3.0 * eps_am / radius)

    eps_sep = float(pv["Separator porosity"])
    eps_neg = float(pv["Negative electrode porosity"])
    update: dict[str, Any] = {
        # Bruggeman-equivalent tortuosity factors (tau = eps^-0.5) for the parts we do not design
        "Negative electrode tortuosity factor (electrolyte)": eps_neg**-0.5,
        "Negative electrode tortuosity factor (electrode)": 1.0 - eps_neg,  # B_s = 1 as in Chen2020 (b_s = 0)
        "Separator tortuosity factor (electrolyte)": eps_sep**-0.5,
        P + "exchange-current density [A.m-2]": j0_scaled,
        P + "thickness [m]": cathode_thickness_m,
        "Positive particle radius [m]": particle_radius_m,
        # 1D model: the current density is I / (height x width)
        "Electrode height [m]": 1.0,
        "Electrode width [m]": area_m2,
        "Nominal cell capacity [A.h]": nominal_capacity_Ah,
        "Initial concentration in positive electrode [mol.m-3]":
            pset.x_p_charged * float(pv["Maximum concentration in positive electrode [mol.m-3]"]),
    }
    if separator is not None:
        update["Separator thickness [m]"] = separator.separator_thickness_m
        update["Separator porosity"] = separator.separator_porosity
        update["Separator tortuosity factor (electrolyte)"] = separator.separator_porosity**-0.5
    if half_cell:
        # Lithium-metal counter electrode (PyBaMM "working electrode": "positive")
        update.update({
            "Exchange-current density for lithium metal electrode [A.m-2]": _li_metal_j0,
            "Lithium counter electrode conductivity [S.m-1]": 1.0776e7,  # lithium metal
            "Lithium counter electrode thickness [m]": 250e-6,
            "Lithium metal partial molar volume [m3.mol-1]": 1.3e-5,  # 6.94 g/mol / 0.534 g/cm³
        })
    else:
        dxp, dxn = pset.window()
        c_n = float(pv["Maximum concentration in negative electrode [mol.m-3]"])
        update["Negative electrode thickness [m]"] = anode_thickness_m
        update["Initial concentration in negative electrode [mol.m-3]"] = (pset.x_n_discharged + dxn / np_ratio) * c_n
    update.update({k: "[input]" for k in INPUT_NAMES})
    update["Current function [A]" if drive == "current" else "Power function [W]"] = "[input]"
    pv.update(update, check_already_exists=False)
    return pv


def _li_metal_j0(c_e, c_Li, T):
    """Exchange-current density of lithium metal in LiPF6/carbonate: 12.6 A/m² at 1 M, ~ sqrt(c_e).

    (Xu et al., PyBaMM ``Xu2019``/Marquis et al. use j0 ~ 3-13 A/m²; a fast counter electrode.)
    """
    return 12.6 * (c_e / 1000.0) ** 0.5


def model_options(*, half_cell: bool, drive: str) -> dict[str, str]:
    opts = {"transport efficiency": "tortuosity factor", "calculate discharge energy": "true"}
    if half_cell:
        opts["working electrode"] = "positive"
    if drive == "power":
        opts["operating mode"] = "power"
    return opts


