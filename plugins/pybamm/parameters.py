"""PyBaMM parameter values for a designed positive electrode (imports pybamm lazily).

Parameter set: **Chen2020** (Chen et al., J. Electrochem. Soc. 167, 080534 (2020); PyBaMM's
``"Chen2020"``), an LG M50 21700 NMC811 / graphite-SiOx cell, 2.5-4.2 V. Its published
stoichiometry windows (Chen 2020, Table VII) define the usable capacities:

* positive NMC811 x in [0.2661, 0.9084] (100% -> 0% state of charge),
* negative graphite x in [0.0279, 0.9014] (0% -> 100%).

**One material.** The positive electrode's maximum concentration is the simulator's material's
``rho / M`` (:mod:`electroforge.materials`; NMC811: 4750 kg/m³ / 0.09728 kg/mol = 48.8 kmol/m³),
not Chen2020's 63104 mol/m³: with a 4.75 g/cm³ density, 63104 mol/m³ would be 356 mAh/g per unit
stoichiometry, 29 % more lithium per gram than LiNi0.8Mn0.1Co0.1O2 can hold (F / M = 275.5 mAh/g).
The stoichiometry window, the density used for the mass and the capacity per gram then describe
the same material: the full-cell window gives 0.642 x 275.5 = 177 mAh/g, a half cell charged to
4.3 V vs Li (x = 0.2613, where Chen2020's OCP is 4.30 V) gives ~200 mAh/g at 0.1C.

**BPX.** ``parameter_set`` may also be the path of a Battery Parameter eXchange JSON file
(https://bpxstandard.com, read by ``pybamm.ParameterValues.create_from_bpx``): its stoichiometry
windows, cut-off voltages and maximum concentrations are used as the file gives them (the
file describes its own material); the geometry is still the design's.

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
the cathode): x_n(100%) = 0.0279 + 0.8735 / (N/P). That is the neutral cell. A cell that lost
lithium in formation (``Cylindrical.lithium_loss_fraction`` > 0, or an anode no larger than the
cathode) is balanced instead by PyBaMM's electrode state-of-health solver
(:func:`balanced_initial_concentrations`): the particles hold (1 - LLI) x the neutral cell's
lithium and the cell starts charged to the set's upper cut-off, so it is anode-limited.
"""
from __future__ import annotations

import json
import os
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

import attrs

from electroforge.errors import InputFileError, PluginError

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
    half_cell_x_p_charged: float | None = None
    """Positive stoichiometry of a half cell charged to ``half_cell_upper_cutoff_V`` at rest;
    None: ``x_p_charged``."""
    material_max_concentration: bool = True
    """Replace the set's positive maximum concentration by the material's rho / M (see the module
    docstring); False keeps the set's own (a BPX file)."""
    bpx_path: str | None = None
    """The BPX file this set was read from; None for a PyBaMM built-in set."""

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
        # x at which Chen2020's positive OCP equals 4.30 V (tests/test_pybamm.py checks it)
        half_cell_x_p_charged=0.2613,
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


def get_parameter_set(name: str, component: str = "pybamm") -> ParameterSet:
    """A supported PyBaMM set by name, or a BPX file by path (``*.json`` or an existing file);
    ``component`` (the simulator's name) prefixes the errors."""
    spec = str(name)
    if spec in PARAMETER_SETS:
        return PARAMETER_SETS[spec]
    if spec.lower().endswith(".json") or Path(spec).is_file():
        return bpx_parameter_set(spec)
    raise PluginError(
        f"cell simulator {component!r}: parameter set {name!r} is not supported; use one of "
        f"{', '.join(PARAMETER_SETS)} or the path of a BPX .json file"
    ) from None


def _bpx_field(loc: tuple) -> str:
    return ".".join(str(part) for part in loc if not str(part).startswith("function-"))


def bpx_parameter_set(path: str | Path) -> ParameterSet:
    """Read and validate a BPX file; errors are one line naming the file and the field.

    The windows come from the file's ``Minimum/Maximum stoichiometry`` of each electrode
    (positive: charged at the minimum), the cut-offs from ``Cell`` (the half-cell cut-offs are the
    full cell's plus 0.1 V, the graphite potential at the ends of the window, as an approximation).
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such BPX file")
    try:
        raw = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path}: cannot read the BPX file ({exc})") from None
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    try:
        from bpx import parse_bpx_obj
        from pydantic import ValidationError as PydanticError
    except ImportError:  # pragma: no cover - bpx is a dependency
        raise PluginError("reading BPX files needs the 'bpx' package") from None
    try:
        with warnings.catch_warnings():  # bpx warns about stoichiometry limits vs cut-offs; not our error
            warnings.simplefilter("ignore")
            bpx = parse_bpx_obj(raw)
    except PydanticError as exc:
        first = exc.errors()[0]
        raise InputFileError(
            f"{path}: BPX field {_bpx_field(first['loc'])!r}: {first['msg']}"
            + (f" ({len(exc.errors()) - 1} more problems)" if len(exc.errors()) > 1 else "")) from None
    except Exception as exc:  # the bpx parser raises plain errors for unparsable expressions
        raise InputFileError(f"{path}: invalid BPX file: {' '.join(str(exc).split())[:300]}") from None
    par = bpx.parameterisation
    pos, neg, cell = par.positive_electrode, par.negative_electrode, par.cell
    for side, electrode in (("Positive electrode", pos), ("Negative electrode", neg)):
        if not hasattr(electrode, "minimum_stoichiometry"):
            raise InputFileError(f"{path}: BPX field 'Parameterisation.{side}': blended electrodes are not supported")
    return ParameterSet(
        name=path.stem, x_p_charged=float(pos.minimum_stoichiometry), x_p_discharged=float(pos.maximum_stoichiometry),
        x_n_discharged=float(neg.minimum_stoichiometry), x_n_charged=float(neg.maximum_stoichiometry),
        lower_cutoff_V=float(cell.lower_voltage_cutoff), upper_cutoff_V=float(cell.upper_voltage_cutoff),
        half_cell_lower_cutoff_V=float(cell.lower_voltage_cutoff) + 0.1,
        half_cell_upper_cutoff_V=float(cell.upper_voltage_cutoff) + 0.1,
        citation=f"BPX file {path} ({bpx.header.title})", material_max_concentration=False,
        bpx_path=str(path.resolve()),
    )


@lru_cache(maxsize=8)
def _base_values(name: str, bpx_path: str | None):
    pb = pybamm()
    if bpx_path is None:
        return pb.ParameterValues(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pv = pb.ParameterValues.create_from_bpx(bpx_path)
    # optional BPX fields arrive as None; the isothermal model still evaluates the entropic terms
    for side in ("Positive", "Negative"):
        key = f"{side} electrode OCP entropic change [V.K-1]"
        if key in pv.keys() and pv[key] is None:
            pv.update({key: 0.0})
    return pv


def base_parameter_values(pset: ParameterSet):
    """A fresh copy of the set's PyBaMM ``ParameterValues`` (built-in by name, or from its BPX file)."""
    return _base_values(pset.name, pset.bpx_path).copy()


def positive_max_concentration(pset: ParameterSet, materials: Any = None) -> float:
    """The positive maximum concentration used (mol/m³): the material's rho / M where the set asks
    for it and the material knows its molar mass, else the set's own value."""
    own = float(base_parameter_values(pset)["Maximum concentration in positive electrode [mol.m-3]"])
    c = getattr(materials, "max_concentration_mol_per_m3", None) if pset.material_max_concentration else None
    return own if c is None else float(c)


def capacities_Ah_per_m3(pset: ParameterSet, materials: Any = None) -> tuple[float, float]:
    """Usable capacity per m³ of active material over the set's windows: (positive, negative)."""
    pv = base_parameter_values(pset)
    dxp, dxn = pset.window()
    c_p = positive_max_concentration(pset, materials)
    c_n = float(pv["Maximum concentration in negative electrode [mol.m-3]"])
    return c_p * FARADAY_C_per_mol * dxp / 3600.0, c_n * FARADAY_C_per_mol * dxn / 3600.0


def parameter_values(pset: ParameterSet, *, half_cell: bool, drive: str, cathode_thickness_m: float,
                     particle_radius_m: float, area_m2: float, nominal_capacity_Ah: float,
                     anode_thickness_m: float = 0.0, np_ratio: float = 1.1,
                     separator: Any = None, materials: Any = None, anode: Any = None,
                     lithium_loss_fraction: float = 0.0, esoh_inputs: dict[str, float] | None = None):
    """ParameterValues for one geometry; design quantities are ``[input]`` (see module doc).

    ``lithium_loss_fraction`` (full cell): the loss of lithium inventory; > 0 (or an anode no
    larger than the cathode, ``np_ratio <= 1``) sets the initial state with
    :func:`balanced_initial_concentrations` (needs ``esoh_inputs``, the design's input values,
    since the electrodes' capacities depend on them); 0 with N/P > 1 keeps the neutral state
    exactly (the anode holds the cathode's window).

    ``drive``: ``"current"`` (input ``Current function [A]``) or ``"power"`` (input ``Power function [W]``).
    ``materials``: the cathode material (its rho / M sets the positive maximum concentration, see
    the module docstring); ``anode``: the cell's anode coating (its porosity and graphite fraction
    replace the set's, so the anode PyBaMM simulates is the one the cell layout sized and weighed).
    """
    pb = pybamm()
    pv = base_parameter_values(pset)
    c_p_max = positive_max_concentration(pset, materials)
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
        "Maximum concentration in positive electrode [mol.m-3]": c_p_max,
        "Initial concentration in positive electrode [mol.m-3]":
            (pset.half_cell_x_p_charged if half_cell and pset.half_cell_x_p_charged is not None
             else pset.x_p_charged) * c_p_max,
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
        if anode is not None:
            update["Negative electrode porosity"] = float(anode.porosity)
            update["Negative electrode active material volume fraction"] = float(anode.active_volume_fraction)
            update["Negative electrode tortuosity factor (electrolyte)"] = float(anode.porosity) ** -0.5
            update["Negative electrode tortuosity factor (electrode)"] = 1.0 - float(anode.porosity)
        update["Initial concentration in negative electrode [mol.m-3]"] = (pset.x_n_discharged + dxn / np_ratio) * c_n
    update.update({k: "[input]" for k in INPUT_NAMES})
    update["Current function [A]" if drive == "current" else "Power function [W]"] = "[input]"
    pv.update(update, check_already_exists=False)
    if not half_cell and (lithium_loss_fraction > 0.0 or np_ratio <= 1.0):
        c_p0, c_n0 = balanced_initial_concentrations(pv, pset, lithium_loss_fraction, esoh_inputs or {})
        pv.update({"Initial concentration in positive electrode [mol.m-3]": c_p0,
                   "Initial concentration in negative electrode [mol.m-3]": c_n0})
    return pv


def balanced_initial_concentrations(pv, pset: ParameterSet, lithium_loss_fraction: float,
                                    inputs: dict[str, float]) -> tuple[float, float]:
    """Initial (charged) concentrations of a full cell that lost ``lithium_loss_fraction`` of its lithium.

    ``pv`` holds the neutral state (the anode at full charge holds exactly the cathode's window,
    all its lithium from the cathode), whose particles hold Q_Li,0 = Q_p x_p(0 %) + Q_n x_n(0 %).
    The cell keeps Q_Li = (1 - LLI) Q_Li,0 (PyBaMM's definition of the loss of lithium inventory,
    1 - Q_Li / Q_Li,0). PyBaMM's electrode state-of-health solver
    (:func:`pybamm.lithium_ion.get_initial_stoichiometries`, "cyclable lithium capacity" known)
    then finds the stoichiometries x_0, x_100, y_100, y_0 at which the open-circuit voltage is the
    parameter set's lower and upper cut-off with this inventory; the cell starts at 100 % SOC
    (x_100, y_100), i.e. charged to the upper cut-off. Raises :class:`PluginError` when no
    balanced state exists (too much lithium lost for the voltage window).
    """
    pb = pybamm()
    scale = 1.0 - float(lithium_loss_fraction)
    c_p_max = float(pv["Maximum concentration in positive electrode [mol.m-3]"])
    c_n_max = float(pv["Maximum concentration in negative electrode [mol.m-3]"])
    trial = pv.copy()
    trial.update({
        "Initial concentration in positive electrode [mol.m-3]": pset.x_p_discharged * c_p_max * scale,
        "Initial concentration in negative electrode [mol.m-3]": pset.x_n_discharged * c_n_max * scale,
    })
    esoh_in = {**inputs, "Lower voltage cut-off [V]": pset.lower_cutoff_V,
               "Upper voltage cut-off [V]": pset.upper_cutoff_V}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x, y = pb.lithium_ion.get_initial_stoichiometries(1.0, trial, inputs=esoh_in)
    except Exception as exc:  # the ESOH solver raises ValueError / SolverError when infeasible
        text = " ".join(str(exc).split())[:200]
        raise PluginError(f"lithium_loss_fraction={lithium_loss_fraction:g}: no balanced state of the electrodes "
                          f"between {pset.lower_cutoff_V:g} V and {pset.upper_cutoff_V:g} V ({text})") from None
    return float(y) * c_p_max, float(x) * c_n_max


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


