"""The ``pybamm`` cell simulator: DFN (or SPMe) discharges of a designed cathode in a cell format.

Contract: ``PyBaMMSimulator(**options).simulate(electrode, cell, protocol) -> Performance``.

* ``electrode`` (:class:`~electroforge.model.Electrode`): metrics feed the positive electrode's
  porosity, active volume fraction, tortuosity factor, reactive area (a x (1 - binder coverage))
  and solid conductivity; thickness or mass loading feeds the geometry (see
  :mod:`electroforge.plugins.pybamm.parameters`).
* ``cell`` (:mod:`electroforge.cells`): ``HalfCell`` (lithium counter electrode) or ``Cylindrical``
  (graphite anode sized by N/P); the cell layout gives the area, the anode thickness, the nominal
  capacity (1C) and the volume and mass used for Wh/L and Wh/kg.
* ``protocol``: ``ConstantCurrent(c_rate)`` (current = c_rate x the *design's* nominal capacity) or
  ``ConstantPower(power_W)``, discharging from full charge to the lower cut-off (default: the
  parameter set's; 3.0 V vs Li for a half cell).

Speed: one PyBaMM model object per (model, cell kind, drive); one built ``Simulation`` per
geometry (thicknesses, particle radius, area) in an LRU cache; every further evaluation of the same
geometry is a re-solve with new input parameters (~0.1 s for the DFN).

Failures: inputs outside their physical range, a solver error, an empty solution or a discharge
that ends at t = 0 raise :class:`~electroforge.errors.EvaluationError` with a one-line reason;
nothing else escapes. Inputs are validated before solving (a negative tortuosity factor makes
IDAKLU hang).
"""
from __future__ import annotations

import math
import time
import warnings
from collections import OrderedDict
from typing import Any

import attrs
import numpy as np
from scipy.integrate import trapezoid

from electroforge.cells import CellLayout, Cylindrical, HalfCell
from electroforge.errors import EvaluationError, PluginError
from electroforge.materials import NMC811
from electroforge.model import ConstantCurrent, ConstantPower, Electrode, Performance
from electroforge.plugins.pybamm import parameters as params
from electroforge.plugins.pybamm.parameters import P

MODELS = ("DFN", "SPMe")

#: Voltage-loss variables reported in ``Performance.extras`` (time-averaged magnitudes, V).
LOSS_VARIABLES = {
    "eta_reaction_V": "X-averaged battery reaction overpotential [V]",
    "eta_electrolyte_concentration_V": "X-averaged battery concentration overpotential [V]",
    "eta_electrolyte_ohmic_V": "X-averaged battery electrolyte ohmic losses [V]",
    "eta_solid_conduction_V": "X-averaged battery solid phase ohmic losses [V]",
    "eta_solid_diffusion_V": "Battery particle concentration overpotential [V]",
}
BASE_VARIABLES = ["Time [s]", "Voltage [V]", "Current [A]", "Discharge capacity [A.h]",
                  "Discharge energy [W.h]", "Battery open-circuit voltage [V]"]


#: Smallest anode/cathode capacity ratio (over the set's windows) a full cell may have. Above 1
#: with no lithium loss the neutral state is used (the anode holds the cathode's window); at or
#: below 1, or with a lithium loss, PyBaMM's electrode state-of-health solver balances the cell.
MIN_NP_RATIO = 0.5

#: Discharge ends when the positive particles' surface reaches this stoichiometry (see ``_model``).
SATURATION_STOICHIOMETRY = 0.999
SATURATION_EVENT = "Maximum positive particle surface stoichiometry"


class PyBaMMSimulator:
    """PyBaMM cell simulator (options are stored unchanged; see the module docstring).

    Options:
        model: ``"DFN"`` (default) or ``"SPMe"``.
        parameter_set: PyBaMM parameter set name (``"Chen2020"``).
        rtol, atol: IDAKLU tolerances (1e-4 / 1e-6: PyBaMM's default; energies within 0.03% of 1e-6).
        npts: mesh points per domain (x and r), ``None`` = PyBaMM's defaults (20).
        cache_size: built simulations kept (LRU), one per geometry and drive.
        area_correction: apply a x (1 - binder coverage) through the exchange current (True).
        positive_window, negative_window: ``(low, high)`` stoichiometry windows that replace the
            parameter set's (positive: charged -> discharged, e.g. Chen2020's (0.2661, 0.9084);
            negative: discharged -> charged, (0.0279, 0.9014)); ``None`` keeps the set's. They
            set the design's nominal capacity, the charged state and the neutral lithium
            inventory (docs/cell-simulator.md, "Lithium inventory and electrode balance").

    The cell's lithium inventory is a field of the cell format
    (``Cylindrical.lithium_loss_fraction``); with a loss > 0 the initial state comes from
    PyBaMM's electrode state-of-health solver (:func:`~electroforge.plugins.pybamm.parameters.balanced_initial_concentrations`).
    """

    name = "pybamm"
    #: Densities for loading <-> thickness and the layout's masses; a subclass for another
    #: chemistry (e.g. contrib ``electroforge-lfp``) overrides it.
    materials = NMC811

    def __init__(self, model: str = "DFN", parameter_set: str = "Chen2020", rtol: float = 1e-4,
                 atol: float = 1e-6, npts: int | None = None, cache_size: int = 16,
                 area_correction: bool = True, positive_window: tuple[float, float] | None = None,
                 negative_window: tuple[float, float] | None = None):
        if model not in MODELS:
            raise PluginError(f"cell simulator {self.name!r}: model {model!r} is not one of {', '.join(MODELS)}")
        if npts is not None and not (isinstance(npts, int) and 3 <= npts <= 200):
            raise PluginError(f"cell simulator {self.name!r}: npts={npts!r} must be an integer in 3..200")
        self.model = model
        # a subclass for another chemistry may pass a ParameterSet object instead of a name
        self.parameter_set = getattr(parameter_set, "name", parameter_set)
        self.rtol = float(rtol)
        self.atol = float(atol)
        self.npts = npts
        self.cache_size = int(cache_size)
        self.area_correction = bool(area_correction)
        self._pset = (parameter_set if isinstance(parameter_set, params.ParameterSet)
                      else params.get_parameter_set(parameter_set, self.name))
        windows = {}
        for label, window, keys in (("positive_window", positive_window, ("x_p_charged", "x_p_discharged")),
                                    ("negative_window", negative_window, ("x_n_discharged", "x_n_charged"))):
            if window is None:
                continue
            try:
                lo, hi = (float(v) for v in window)
            except (TypeError, ValueError):
                raise PluginError(f"cell simulator {self.name!r}: {label}={window!r} must be two numbers "
                                  f"(low, high)") from None
            if not (math.isfinite(lo) and math.isfinite(hi) and 0.0 <= lo < hi <= 1.0):
                raise PluginError(f"cell simulator {self.name!r}: {label}=({lo:g}, {hi:g}) must satisfy "
                                  f"0 <= low < high <= 1")
            windows.update(zip(keys, (lo, hi)))
        if windows:
            self._pset = attrs.evolve(self._pset, **windows)
        self.positive_window = None if positive_window is None else tuple(float(v) for v in positive_window)
        self.negative_window = None if negative_window is None else tuple(float(v) for v in negative_window)
        self._capacities: tuple[float, float] | None = None
        self._models: dict[tuple, Any] = {}
        self._sims: OrderedDict[tuple, Any] = OrderedDict()
        self.stats = {"builds": 0, "solves": 0, "build_s": 0.0, "solve_s": 0.0}
        """Counters for benchmarks: number and seconds of builds and solves."""

    def _fail(self, reason: str) -> EvaluationError:
        """A one-line EvaluationError prefixed with this component's own name (a subclass's too)."""
        return EvaluationError(f"cell simulator {self.name!r}: {' '.join(str(reason).split())}")

    # ---------------------------------------------------------------- public
    @property
    def parameter_set_facts(self) -> params.ParameterSet:
        """The parameter set this simulator uses, with any window overrides applied."""
        return self._pset

    def layout(self, electrode: Electrode, cell: HalfCell | Cylindrical) -> CellLayout:
        """The cell layout with this parameter set's usable capacities (1C = its nominal capacity)."""
        if self._capacities is None:
            self._capacities = params.capacities_Ah_per_m3(self._pset, self.materials)
        cap_p, cap_n = self._capacities
        if isinstance(cell, Cylindrical):
            return cell.layout(electrode, self.materials, cathode_capacity_Ah_per_m3=cap_p,
                               anode_capacity_Ah_per_m3=cap_n)
        return cell.layout(electrode, self.materials, cathode_capacity_Ah_per_m3=cap_p)

    def simulate(self, electrode: Electrode, cell: HalfCell | Cylindrical,
                 protocol: ConstantCurrent | ConstantPower) -> Performance:
        """Discharge ``electrode`` in ``cell`` under ``protocol``; see the module docstring."""
        layout, sol = self.solve(electrode, cell, protocol)
        return self._performance(sol, layout, protocol, electrode)

    def solve(self, electrode: Electrode, cell: HalfCell | Cylindrical, protocol: ConstantCurrent | ConstantPower):
        """``(layout, pybamm.Solution)`` of one discharge (what :meth:`simulate` summarises); the
        solution holds :meth:`output_variables`. Same validation and failures as :meth:`simulate`."""
        if not isinstance(cell, (HalfCell, Cylindrical)):
            raise self._fail(f"unsupported cell format {type(cell).__name__}")
        half = isinstance(cell, HalfCell)
        layout = self.layout(electrode, cell)
        inputs = self.inputs(electrode, layout, protocol, half)
        drive = "current" if isinstance(protocol, ConstantCurrent) else "power"
        if drive == "current":
            current = protocol.c_rate * layout.nominal_capacity_Ah
            inputs["Current function [A]"] = current
            t_end = 3600.0 / protocol.c_rate * 2.0
        else:
            inputs["Power function [W]"] = protocol.power_W
            t_end = 3600.0 * 2.0 * layout.nominal_capacity_Ah * 4.3 / protocol.power_W
        sim = self._simulation(layout, cell, electrode, half, drive, inputs)
        return layout, self._solve(sim, inputs, t_end)

    # ---------------------------------------------------------------- inputs
    def inputs(self, electrode: Electrode, layout: CellLayout, protocol, half: bool) -> dict[str, float]:
        """PyBaMM input parameters of one design, validated for physical range."""
        m = electrode.metrics
        vf = m.volume_fractions
        eps = float(vf.get("pore", float("nan")))
        eps_am = float(vf.get("active", float("nan")))
        tau = float(m.tortuosity_factor)
        sigma = float(m.effective_conductivity_S_per_m)
        coverage = float(m.binder_coverage) if self.area_correction else 0.0
        a = float(m.specific_surface_area_per_m) * (1.0 - coverage)
        radius = float(electrode.particle_radius_m)
        checks = [
            (0.02 <= eps <= 0.95, f"porosity {eps:.4g} is outside [0.02, 0.95]"),
            (0.02 <= eps_am <= 0.98, f"active volume fraction {eps_am:.4g} is outside [0.02, 0.98]"),
            (eps + eps_am <= 1.0 + 1e-6, f"porosity + active fraction = {eps + eps_am:.4g} > 1"),
            (math.isfinite(tau), "the pores do not percolate through the thickness (tortuosity factor inf)"),
            (1.0 - 1e-3 <= tau <= 1e3, f"tortuosity factor {tau:.4g} is outside [1, 1000]"),
            (math.isfinite(sigma) and sigma > 1e-6, f"effective solid conductivity {sigma:.4g} S/m: the solid does not conduct"),
            (sigma <= 1e5, f"effective solid conductivity {sigma:.4g} S/m is not physical"),
            (math.isfinite(a) and 1e3 <= a <= 1e8,
             f"reactive surface area {a:.4g} 1/m (specific area x (1 - binder coverage)) is outside [1e3, 1e8]"),
            (0.05e-6 <= radius <= 50e-6, f"particle radius {radius * 1e6:.4g} µm is outside [0.05, 50] µm"),
            (1e-6 <= layout.cathode_thickness_m <= 2e-3,
             f"cathode thickness {layout.cathode_thickness_m * 1e6:.4g} µm is outside [1, 2000] µm"),
            (layout.nominal_capacity_Ah > 0, "the design holds no capacity"),
        ]
        for ok, why in checks:
            if not ok:
                raise self._fail(why)
        lo = protocol.lower_cutoff_V
        hi = protocol.upper_cutoff_V
        if lo is None:
            lo = self._pset.half_cell_lower_cutoff_V if half else self._pset.lower_cutoff_V
        if hi is None:
            hi = self._pset.half_cell_upper_cutoff_V if half else self._pset.upper_cutoff_V
        if not (0.0 < lo < hi <= 6.0):
            raise self._fail(f"cut-off voltages {lo:g} V .. {hi:g} V must satisfy 0 < lower < upper <= 6")
        return {
            P + "porosity": eps,
            P + "active material volume fraction": eps_am,
            P + "tortuosity factor (electrolyte)": max(tau, 1.0),
            P + "tortuosity factor (electrode)": 1.0 - eps,  # (1-eps)/tau_s = 1: conductivity is sigma_eff
            P + "conductivity [S.m-1]": sigma,
            P + "target surface area to volume ratio [m-1]": a,
            "Lower voltage cut-off [V]": float(lo),
            "Upper voltage cut-off [V]": float(hi),
        }

    # ---------------------------------------------------------------- build (cached)
    def _model(self, half: bool, drive: str):
        key = (self.model, half, drive)
        if key not in self._models:
            pb = params.pybamm()
            cls = getattr(pb.lithium_ion, self.model)
            model = cls(options=self.model_options(half, drive))
            # End of discharge when the cathode's surface fills up. Chen2020's NMC OCP stays at
            # ~3.5 V up to x = 1, so a 3.0 V cut-off is only reached through the exchange current
            # vanishing at c_s -> c_max, where IDA fails to converge; the event ends the discharge
            # at nearly the same point (within ~1 % of capacity), cleanly.
            surface = model.variables.get("Maximum positive particle surface stoichiometry")
            if surface is not None:
                model.events.append(pb.Event(SATURATION_EVENT, SATURATION_STOICHIOMETRY - surface))
            self._models[key] = model
        return self._models[key]

    # Extension points for subclasses (e.g. contrib ``electroforge-calibrate`` adds a contact
    # resistance): the model options and the parameter values of one build.
    def model_options(self, half: bool, drive: str) -> dict[str, str]:
        """PyBaMM model options of one build (public extension point: a subclass may add some)."""
        return params.model_options(half_cell=half, drive=drive)

    def output_variables(self, half: bool) -> list[str]:
        """PyBaMM variables the solver keeps (public extension point: a subclass may add some)."""
        return [*BASE_VARIABLES, *LOSS_VARIABLES.values()]

    def parameter_values(self, **geometry: Any):
        """``pybamm.ParameterValues`` of one build (public extension point: a subclass may change
        or add parameters, e.g. turn one into an input)."""
        return params.parameter_values(self._pset, **geometry)

    def _simulation(self, layout: CellLayout, cell, electrode: Electrode, half: bool, drive: str, inputs):
        stack = cell.stack
        anode = getattr(cell, "anode", None)
        np_ratio = 1.0
        if not half:  # the anode the layout built (N/P-sized or fixed): its capacity over the cathode's
            cap_n = self._capacities[1]
            np_ratio = (layout.anode_thickness_m * anode.active_volume_fraction * cap_n
                        / layout.cathode_areal_capacity_Ah_per_m2)
            if not np_ratio > MIN_NP_RATIO:
                raise self._fail(f"the anode's capacity is {np_ratio:.3f} x the cathode's (N/P); at least "
                                 f"{MIN_NP_RATIO:g} is needed")
        # geometry (and the few cell constants baked into the parameter values) -> one build
        key = (self.model, half, drive, round(layout.cathode_thickness_m * 1e10), round(layout.anode_thickness_m * 1e10),
               round(electrode.particle_radius_m * 1e11), round(layout.electrode_area_m2 * 1e9), round(np_ratio, 9),
               stack.separator_thickness_m, stack.separator_porosity,
               None if anode is None else (anode.porosity, anode.active_volume_fraction),
               0.0 if half else float(layout.lithium_loss_fraction))
        sim = self._sims.get(key)
        if sim is not None:
            self._sims.move_to_end(key)
            return sim
        pb = params.pybamm()
        t0 = time.perf_counter()
        lli = 0.0 if half else float(layout.lithium_loss_fraction)
        try:
            pv = self.parameter_values(
                half_cell=half, drive=drive, cathode_thickness_m=layout.cathode_thickness_m,
                particle_radius_m=electrode.particle_radius_m, area_m2=layout.electrode_area_m2,
                nominal_capacity_Ah=layout.nominal_capacity_Ah, anode_thickness_m=layout.anode_thickness_m,
                np_ratio=np_ratio, separator=stack, materials=self.materials, anode=None if half else anode,
                **({"lithium_loss_fraction": lli, "esoh_inputs": inputs} if lli > 0.0 or np_ratio <= 1.0 else {}),
            )
        except PluginError as exc:
            raise self._fail(str(exc)) from None
        model = self._model(half, drive)
        var_pts = None
        if self.npts is not None:
            var_pts = {k: self.npts for k in ("x_n", "x_s", "x_p", "r_n", "r_p")}
        output = self.output_variables(half)
        solver = pb.IDAKLUSolver(rtol=self.rtol, atol=self.atol, output_variables=output,
                                 options={"silence_sundials_errors": True})
        sim = pb.Simulation(model, parameter_values=pv, solver=solver, var_pts=var_pts)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sim.build(inputs={**inputs, "Current function [A]": 1.0, "Power function [W]": 1.0})
        except Exception as exc:  # a geometry PyBaMM cannot mesh or process
            raise self._fail(f"could not build the {self.model} model: {type(exc).__name__}: {exc}") from None
        self.stats["builds"] += 1
        self.stats["build_s"] += time.perf_counter() - t0
        self._sims[key] = sim
        while len(self._sims) > self.cache_size:
            self._sims.popitem(last=False)
        return sim

    # ---------------------------------------------------------------- solve
    def _solve(self, sim, inputs: dict[str, float], t_end: float):
        pb = params.pybamm()
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sol = sim.solve([0.0, t_end], inputs=inputs)
        except pb.SolverError as exc:
            text = (str(exc).splitlines() or [type(exc).__name__])[0].split(" with inputs")[0]
            if "initial conditions" in text:
                raise self._fail(f"infeasible: a cut-off voltage is reached at t=0 ({text})") from None
            raise self._fail(f"solver failed: {text}") from None
        except Exception as exc:  # anything PyBaMM raises on a bad design is a failed evaluation
            raise self._fail(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
        finally:
            self.stats["solves"] += 1
            self.stats["solve_s"] += time.perf_counter() - t0
        if isinstance(sol, pb.EmptySolution) or sol is None or len(sol.t) < 2:
            term = getattr(sol, "termination", "empty solution")
            raise self._fail(f"infeasible: the discharge ends at t=0 ({term})")
        return sol

    def _performance(self, sol, layout: CellLayout, protocol, electrode: Electrode | None = None) -> Performance:
        t = np.asarray(sol["Time [s]"].entries, dtype=float)
        v = np.asarray(sol["Voltage [V]"].entries, dtype=float)
        duration = float(t[-1] - t[0])
        if duration <= 0.0 or not np.all(np.isfinite(v)):
            raise self._fail("infeasible: no discharge (cut-off reached at t=0)")
        capacity = float(sol["Discharge capacity [A.h]"].entries[-1])
        energy = float(sol["Discharge energy [W.h]"].entries[-1])
        if not (capacity > 1e-3 * layout.nominal_capacity_Ah and energy > 0):
            raise self._fail(f"infeasible: no charge delivered before the cut-off ({sol.termination})")
        current = np.asarray(sol["Current [A]"].entries, dtype=float)
        extras: dict[str, float] = {
            "nominal_capacity_Ah": layout.nominal_capacity_Ah,
            "mean_current_A": float(trapezoid(current, t) / duration),
            "end_voltage_V": float(v[-1]),
            "cell_volume_L": layout.volume_L,
            "cell_mass_kg": layout.mass_kg,
            "cathode_thickness_m": layout.cathode_thickness_m,
            "electrode_area_m2": layout.electrode_area_m2,
            "active_mass_kg": layout.active_mass_kg,
            **({} if electrode is None else {"particle_radius_m": float(electrode.particle_radius_m)}),
            "mass_loading_kg_per_m2": layout.mass_loading_kg_per_m2,
            "anode_thickness_m": layout.anode_thickness_m,
            **{f"mass_{part}_kg": kg for part, kg in layout.mass_breakdown_kg.items()},
            "reached_cutoff": float(any(w in str(sol.termination).lower() for w in ("voltage", "stoichiometry"))),
        }
        ocv = np.asarray(sol["Battery open-circuit voltage [V]"].entries, dtype=float)
        extras["eta_total_V"] = float(trapezoid(np.abs(ocv - v), t) / duration)
        for key, var in LOSS_VARIABLES.items():
            try:
                vals = np.asarray(sol[var].entries, dtype=float)
            except Exception:  # a variable the model (e.g. SPMe or half cell) does not have
                continue
            extras[key] = float(trapezoid(np.abs(vals), t) / duration)
            extras[key.replace("_V", "_end_V")] = float(abs(vals[-1]))
        if "eta_electrolyte_concentration_V" in extras and "eta_electrolyte_ohmic_V" in extras:
            extras["eta_electrolyte_V"] = extras["eta_electrolyte_concentration_V"] + extras["eta_electrolyte_ohmic_V"]
        norm = layout.normalise(energy, capacity)
        return Performance(
            capacity_Ah=capacity, energy_Wh=energy, mean_power_W=energy * 3600.0 / duration, duration_s=duration,
            time_s=t - t[0], voltage_V=v, extras=extras, **norm,
        )
