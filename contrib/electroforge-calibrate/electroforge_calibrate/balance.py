"""Fit the electrode balance (lithium inventory, cathode and anode capacities) to pOCV curves.

Contract: :func:`fit_balance(pocv, electrode, cell, fit=BALANCE, ...) -> BalanceFit` (its
``calibration`` is a :class:`~electroforge_calibrate.store.Calibration` the ``pybamm-calibrated``
simulator reads; :func:`plot_balance` draws measured against fitted curves).

**Why an open-circuit fit, not DFN solves.** A pOCV step (C/20 or slower) is near equilibrium:
the voltage is the difference of the two electrodes' open-circuit potentials to within a few mV,
U_p(y) - U_n(x), and each electrode's stoichiometry moves linearly with the charge passed q,

    y(q) = y_start ± q / Q_p,      x(q) = x_start ∓ q / Q_n      (upper sign: discharge),

so the curves depend on four numbers only: the capacities per unit stoichiometry Q_p and Q_n and
the starting state (y_start and, through the cyclable lithium Q_Li = y Q_p + x Q_n, x_start).
Evaluating the parameter set's OCP functions (tabulated once, 2001 points) costs microseconds,
a DFN solve of a C/40 discharge seconds; the transport and kinetic parameters a DFN adds are
invisible at this rate (they are what :mod:`electroforge_calibrate.fit` fits to rate tests).

**The corrections** (names of :data:`~electroforge_calibrate.simulator.CORRECTIONS`):

* ``cathode_capacity_factor`` k_p = Q_p / Q_p,model, with Q_p,model = c_max,p F eps_am L_p A;
* ``anode_capacity_factor`` k_n = Q_n / Q_n,model, Q_n,model from the cell format's anode
  (its thickness, fixed or N/P-sized, and graphite fraction) and the set's c_max,n;
* ``lithium_loss_fraction`` LLI = 1 - Q_Li / Q_Li,0, Q_Li,0 = Q_p x_p(0 %) + Q_n x_n(0 %) with
  the set's window ends (the neutral cell of the built-in simulator, with the corrected
  capacities), PyBaMM's definition of the loss of lithium inventory.

**Anchoring the voltage limits** (``anchor_weight``, default 1): the residual also holds the
full-cell voltage at the step's first and last sample, each weighted like the whole curve
(x sqrt(n_points)). The simulator charges a cell to its upper cut-off and discharges it to its
lower one, with the parameter set's OCPs; where those misfit the measured electrodes near the
ends (Chen2020's NMC811 reads ~50 mV low at the 4680 cathode's top of charge), a fit to the
curve's shape alone puts the ends at other stoichiometries than the simulator will, and the
calibrated simulator then delivers another capacity than the measured cell (+7 % on the 4680
T-cell with ``anchor_weight=0``; +1 % anchored, at the price of a 47 instead of 31 mV full-cell
RMSE). Anchored, the calibration reproduces the measured capacity between the measured voltage
limits, which is what it is for.

``y_start`` (the cathode's state at the step's start) is always fitted too; it is a nuisance
parameter (the simulator starts from the state charged to its upper cut-off) and is reported in
the provenance. The residual stacks, at ``n_points`` charges evenly spaced over the step, the
cathode and anode potentials against the reference (when the file has them) and the full-cell
voltage. ``scipy.optimize.least_squares`` (trust-region reflective, bounds) fits; 1-sigma errors
come from cov = s² (JᵀJ)⁻¹ at the optimum, ``nan`` when JᵀJ is singular (a full-cell curve
alone may not separate the capacities from the inventory). The residual of a real cell is
dominated by the OCP functions' misfit, which is correlated along the curve, so these errors
are a lower bound; compare the fitted values' spread over charge and discharge steps.
"""
from __future__ import annotations

import datetime as _dt
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
from scipy.optimize import least_squares

from electroforge.cells import Cylindrical
from electroforge.errors import ValidationError
from electroforge.model import Electrode

from electroforge_calibrate.pocv import PseudoOCV
from electroforge_calibrate.simulator import BALANCE, CORRECTIONS, check_corrections
from electroforge_calibrate.store import Calibration

FARADAY_Ah_per_mol = 96485.33212 / 3600.0
#: Short names accepted by the CLI's ``--fit`` and ``synthesize``.
ALIASES = {"lli": "lithium_loss_fraction", "kp": "cathode_capacity_factor", "kn": "anode_capacity_factor"}
_GRID = np.linspace(5e-4, 1.0 - 5e-4, 2001)
OUT_OF_RANGE_V = 10.0


@attrs.frozen(eq=False)
class BalanceFit:
    """A balance fit: the calibration, and the measured and fitted curves of the step (for plots)."""

    calibration: Calibration
    charge_Ah: np.ndarray
    measured: Mapping[str, np.ndarray]
    """``voltage_V`` and, with a reference electrode, ``cathode_potential_V``, ``anode_potential_V``."""
    fitted: Mapping[str, np.ndarray]
    electrode_area_m2: float


def resolve_balance_names(names: Sequence[str]) -> tuple[str, ...]:
    """Map short names (lli, kp, kn) to balance corrections; one-line errors for others."""
    out = []
    for n in names:
        key = ALIASES.get(n.strip(), n.strip())
        if key not in BALANCE:
            raise ValidationError(f"--fit {n!r}: not a balance correction; use {', '.join([*ALIASES, *BALANCE])}")
        if key not in out:
            out.append(key)
    if not out:
        raise ValidationError("--fit: name at least one correction to fit")
    return tuple(out)


def ocp_tables(simulator) -> tuple[np.ndarray, np.ndarray]:
    """The parameter set's positive and negative OCPs (V) on :data:`_GRID` (at the reference temperature)."""
    from electroforge.plugins.pybamm import parameters as params

    pb = params.pybamm()
    pv = params.base_parameter_values(simulator.parameter_set_facts)
    lp = pb.LithiumIonParameters()
    T = pb.Scalar(float(pv["Reference temperature [K]"]))
    x = pb.Array(_GRID)
    up = np.asarray(pv.process_symbol(lp.p.prim.U(x, T)).evaluate(), dtype=float).ravel()
    un = np.asarray(pv.process_symbol(lp.n.prim.U(x, T)).evaluate(), dtype=float).ravel()
    return up, un


def model_capacities_Ah_per_m2(simulator, electrode: Electrode, cell: Cylindrical) -> tuple[float, float]:
    """(Q_p, Q_n) per electrode area and unit stoichiometry (Ah/m²) of the uncorrected model."""
    from electroforge.plugins.pybamm import parameters as params

    pset = simulator.parameter_set_facts
    layout = simulator.layout(electrode, cell)
    eps_am = float(electrode.metrics.volume_fractions["active"])
    c_p = params.positive_max_concentration(pset, simulator.materials)
    c_n = float(params.base_parameter_values(pset)["Maximum concentration in negative electrode [mol.m-3]"])
    q_p = c_p * FARADAY_Ah_per_mol * eps_am * layout.cathode_thickness_m
    q_n = c_n * FARADAY_Ah_per_mol * float(cell.anode.active_volume_fraction) * layout.anode_thickness_m
    return q_p, q_n


def _interp_ocp(table: np.ndarray, sto: np.ndarray) -> np.ndarray:
    return np.interp(sto, _GRID, table)


def _invert_ocp(table: np.ndarray, potential: float) -> float:
    """Stoichiometry at which a (decreasing) OCP equals ``potential``."""
    return float(np.interp(-potential, -table, _GRID))


def fit_balance(pocv: PseudoOCV, electrode: Electrode, cell, *, fit: Sequence[str] = BALANCE,
                fixed: Mapping[str, float] | None = None, step: str = "discharge",
                electrode_area_m2: float | None = None, simulator_options: Mapping[str, Any] | None = None,
                n_points: int = 200, anchor_weight: float = 1.0,
                provenance: Mapping[str, Any] | None = None) -> BalanceFit:
    """Fit the balance corrections named in ``fit`` to one step of ``pocv``; see the module docstring.

    ``cell``: the full-cell format whose anode the measured cell holds (e.g. the 4680 preset with
    the teardown's ``anode_thickness_m`` for a T-cell built from a 4680's electrodes);
    ``electrode_area_m2``: the measured cell's cathode area (default: the file's metadata).
    """
    from electroforge.plugins.pybamm.simulator import PyBaMMSimulator

    if not isinstance(cell, Cylindrical):
        raise ValidationError("balance fit: the cell must be a full cell with a graphite anode (e.g. --cell 4680), "
                              f"not {getattr(cell, 'name', type(cell).__name__)!r}")
    names = resolve_balance_names(fit)
    fixed_values = check_corrections(dict(fixed or {}))
    clash = sorted(set(fixed_values) & set(names))
    if clash:
        raise ValidationError(f"balance fit: {clash} are both fitted and fixed")
    if not 10 <= n_points <= 5000:
        raise ValidationError(f"balance fit: n_points={n_points} must be 10..5000")
    area = electrode_area_m2 if electrode_area_m2 is not None else pocv.electrode_area_m2
    if area is None or not (math.isfinite(area) and area > 0):
        raise ValidationError(f"{pocv.source}: no electrode area (add '# electrode_area_m2: <m²>' to the file "
                              "or pass --area)")
    s = pocv.step(step)
    sign = 1.0 if step == "discharge" else -1.0
    simulator = PyBaMMSimulator(**dict(simulator_options or {}))
    pset = simulator.parameter_set_facts
    up_tab, un_tab = ocp_tables(simulator)
    qp_m, qn_m = (q * area for q in model_capacities_Ah_per_m2(simulator, electrode, cell))

    q_all = s.charge_passed_Ah
    q = np.linspace(0.0, q_all[-1], n_points)
    measured = {"voltage_V": np.interp(q, q_all, s.voltage_V)}
    if s.has_electrodes:
        measured["cathode_potential_V"] = np.interp(q, q_all, s.cathode_potential_V)
        measured["anode_potential_V"] = np.interp(q, q_all, s.anode_potential_V)

    anchor = anchor_weight * math.sqrt(n_points)
    values = {k: CORRECTIONS[k][0] for k in BALANCE}
    values.update(fixed_values)

    def curves(vals: Mapping[str, float], y_start: float) -> dict[str, np.ndarray]:
        Qp, Qn = vals["cathode_capacity_factor"] * qp_m, vals["anode_capacity_factor"] * qn_m
        q_li = (1.0 - vals["lithium_loss_fraction"]) * (Qp * pset.x_p_discharged + Qn * pset.x_n_discharged)
        y = y_start + sign * q / Qp
        x = (q_li - y_start * Qp) / Qn - sign * q / Qn
        u_p, u_n = _interp_ocp(up_tab, y), _interp_ocp(un_tab, x)
        out = {"voltage_V": u_p - u_n, "cathode_potential_V": u_p, "anode_potential_V": u_n,
               "y": y, "x": x, "Q_p_Ah": np.asarray(Qp), "Q_n_Ah": np.asarray(Qn), "Q_Li_Ah": np.asarray(q_li)}
        return out

    def unpack(p: np.ndarray) -> tuple[dict[str, float], float]:
        vals = dict(values)
        vals.update({n: float(v) for n, v in zip(names, p[:-1])})
        return vals, float(p[-1])

    def residuals(p: np.ndarray) -> np.ndarray:
        c = curves(*unpack(p))
        # a stoichiometry outside [0, 1] costs OUT_OF_RANGE_V per unit (the tables clamp there, so
        # a flat plateau could otherwise be stretched past a full or empty electrode)
        out = [np.maximum(c[k] - 1.0, 0.0) + np.maximum(-c[k], 0.0) for k in ("x", "y")]
        # the step's two ends: the cell's voltage limits, anchored (see the module docstring)
        ends = anchor * (c["voltage_V"][[0, -1]] - measured["voltage_V"][[0, -1]])
        return np.concatenate([*(c[k] - measured[k] for k in measured), ends, *(OUT_OF_RANGE_V * o for o in out)])

    if s.has_electrodes:
        y0 = _invert_ocp(up_tab, float(s.cathode_potential_V[0]))
    else:
        y0 = pset.x_p_charged if step == "discharge" else pset.x_p_discharged
    start = {n: (0.05 if n == "lithium_loss_fraction" else CORRECTIONS[n][0]) for n in names}
    x0 = np.array([*(start[n] for n in names), y0])
    lo = np.array([*(CORRECTIONS[n][1] for n in names), 0.0])
    hi = np.array([*(CORRECTIONS[n][2] for n in names), 1.0])
    t0 = time.perf_counter()
    result = least_squares(residuals, np.clip(x0, lo + 1e-9, hi - 1e-9), bounds=(lo, hi), method="trf",
                           x_scale="jac", xtol=1e-10, ftol=1e-10, gtol=1e-10, max_nfev=2000)
    wall = time.perf_counter() - t0
    vals, y_start = unpack(result.x)
    best = curves(vals, y_start)
    r = residuals(result.x)[: len(measured) * n_points]  # the voltage residuals (the range penalty is 0 here)
    m, n = r.size, result.x.size
    sd = _uncertainty(result.jac[: m], r, m, n)
    uncertainty = {nm: sd[k] for k, nm in enumerate(names)}
    rmse = {k: float(np.sqrt(np.mean((best[k] - measured[k]) ** 2))) for k in measured}
    Qp, Qn, q_li = float(best["Q_p_Ah"]), float(best["Q_n_Ah"]), float(best["Q_Li_Ah"])
    cm2 = area * 1e4
    prov = {
        "kind": "pocv-balance", "fitted": list(names), "fixed": dict(fixed_values), "step": step,
        "measurements": [{"path": pocv.source, "sha256": pocv.sha256, "current_A": s.current_A,
                          "capacity_Ah": s.capacity_Ah}],
        "electrode_area_m2": area,
        "rmse_mV": {k: round(v * 1e3, 3) for k, v in rmse.items()},
        "measured_capacity_mAh_per_cm2": round(s.capacity_Ah * 1e3 / cm2, 4),
        "cathode_capacity_mAh_per_cm2_per_stoichiometry": round(Qp * 1e3 / cm2, 4),
        "anode_capacity_mAh_per_cm2_per_stoichiometry": round(Qn * 1e3 / cm2, 4),
        "model_capacities_mAh_per_cm2_per_stoichiometry": {"cathode": round(qp_m * 1e3 / cm2, 4),
                                                           "anode": round(qn_m * 1e3 / cm2, 4)},
        "cyclable_lithium_mAh_per_cm2": round(q_li * 1e3 / cm2, 4),
        "stoichiometry": {"cathode_start": round(y_start, 5), "cathode_end": round(float(best["y"][-1]), 5),
                          "anode_start": round(float(best["x"][0]), 5), "anode_end": round(float(best["x"][-1]), 5),
                          "start_uncertainty": sd[-1]},
        "np_ratio_full_window": round(Qn * (pset.x_n_charged - pset.x_n_discharged)
                                      / (Qp * (pset.x_p_discharged - pset.x_p_charged)), 4),
        "electrode": {"thickness_m": electrode.thickness_m, "mass_loading_kg_per_m2": electrode.mass_loading_kg_per_m2,
                      "am_mass_fraction": electrode.am_mass_fraction, "metrics": electrode.metrics.to_dict()},
        "cell": getattr(cell, "name", type(cell).__name__),
        "anode_thickness_m": simulator.layout(electrode, cell).anode_thickness_m,
        "optimizer": {"method": "scipy.optimize.least_squares (trf) on the OCP balance", "nfev": int(result.nfev),
                      "status": int(result.status), "message": str(result.message), "wall_s": round(wall, 3)},
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
        **dict(provenance or {}),
    }
    params = {k: float(vals[k]) for k in BALANCE}
    cal = Calibration(parameters=params, uncertainty=uncertainty, rmse_V=float(np.sqrt(np.mean(r**2))), n_points=m,
                      simulator={"model": simulator.model, "parameter_set": simulator.parameter_set}, provenance=prov)
    fitted = {k: best[k] for k in measured}
    return BalanceFit(calibration=cal, charge_Ah=q, measured=measured, fitted=fitted, electrode_area_m2=area)


def _uncertainty(jac: np.ndarray, r: np.ndarray, m: int, n: int) -> list[float]:
    """1-sigma errors of the fit parameters, cov = s² (JᵀJ)⁻¹; all nan when JᵀJ is singular."""
    if m <= n:
        return [float("nan")] * n
    s2 = float(r @ r) / (m - n)
    jtj = jac.T @ jac
    if not np.all(np.isfinite(jtj)) or np.linalg.cond(jtj) > 1e12:
        return [float("nan")] * n
    cov = np.linalg.inv(jtj) * s2
    return [float(math.sqrt(max(cov[k, k], 0.0))) for k in range(n)]


def plot_balance(result: BalanceFit, path, title: str | None = None) -> None:
    """Measured (points) against fitted (lines) curves over the capacity per area, and the residuals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cap = result.charge_Ah * 1e3 / (result.electrode_area_m2 * 1e4)
    fig, (ax, axr) = plt.subplots(2, 1, figsize=(7, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    labels = {"voltage_V": "full cell", "cathode_potential_V": "cathode vs Li/Li+", "anode_potential_V": "anode vs Li/Li+"}
    rmse = result.calibration.provenance.get("rmse_mV", {})
    for k, colour in zip(labels, ("k", "tab:red", "tab:blue")):
        if k not in result.measured:
            continue
        ax.plot(cap[::4], result.measured[k][::4], "o", ms=3, color=colour, alpha=0.5, label=f"{labels[k]}, measured")
        ax.plot(cap, result.fitted[k], "-", color=colour, label=f"{labels[k]}, fitted ({rmse.get(k, float('nan')):.1f} mV)")
        axr.plot(cap, 1e3 * (result.fitted[k] - result.measured[k]), "-", color=colour)
    ax.set_ylabel("potential (V)")
    ax.legend(fontsize=8, loc="center left")
    ax.set_title(title or "pOCV: measured vs fitted electrode balance")
    axr.axhline(0.0, color="0.5", lw=0.5)
    axr.set_ylabel("fit - measured (mV)")
    axr.set_xlabel("charge passed (mAh/cm²)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _versions() -> dict[str, str]:
    from electroforge_calibrate.fit import _versions as versions

    return versions()
