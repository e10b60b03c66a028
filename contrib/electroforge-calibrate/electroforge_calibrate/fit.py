"""Fit sim-to-real corrections to measured discharge curves (nonlinear least squares).

Contract: :func:`fit_calibration(discharges, electrode, cell, fit=..., ...) -> Calibration`.

* ``discharges``: measured constant-current discharges (:func:`~electroforge_calibrate.measurements.read_discharge_csv`)
  of one built cell, e.g. at two C-rates (two rates separate a series resistance, whose loss grows
  linearly with current, from kinetics and electrolyte transport, which do not);
* ``electrode``: the built electrode's metrics (from ``characterize --json`` or its image) and its
  thickness or mass loading; ``cell``: the cell format it was measured in (``HalfCell()``, ...);
* ``fit``: which corrections to fit (names of :data:`~electroforge_calibrate.simulator.CORRECTIONS`);
  the others stay at ``fixed`` values (default: neutral).

Each discharge is replayed as ``ConstantCurrent(I / nominal capacity)`` with the
``pybamm-calibrated`` simulator; the residual is the simulated minus the measured voltage at
``n_points`` measured times (evenly spaced in time), the simulated curve held at its last value
(the cut-off) where it ends before the measurement does, so a wrong capacity costs residual too.
``scipy.optimize.least_squares`` (trust-region reflective, bounds) works on log k_tau, log k_j0
and R_c in mOhm m², with finite differences of step ``diff_step`` (the solver's tolerance makes
smaller steps noise). The 1-sigma uncertainties come from the Jacobian at the optimum,
cov = s² (JᵀJ)⁻¹ with s² = SSR / (m - n), mapped to the physical parameters.

A design the solver cannot discharge during the fit contributes 1 V residuals (the fit moves
away from it); a fit in which no evaluation succeeds raises :class:`~electroforge.errors.EvaluationError`.
"""
from __future__ import annotations

import datetime as _dt
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from electroforge.errors import EvaluationError, ValidationError
from electroforge.model import ConstantCurrent, Electrode

from electroforge_calibrate.measurements import Discharge
from electroforge_calibrate.simulator import CORRECTIONS, CalibratedPyBaMMSimulator, check_corrections
from electroforge_calibrate.store import Calibration

DEFAULT_FIT = ("tortuosity_multiplier", "contact_resistance_Ohm_m2", "exchange_current_factor")
#: Short names accepted by the CLI.
ALIASES = {"tau": "tortuosity_multiplier", "rc": "contact_resistance_Ohm_m2", "j0": "exchange_current_factor"}
_LOG = {"tortuosity_multiplier", "exchange_current_factor"}
_RC_SCALE = 1e-3  # fit R_c in mOhm m²
FAILED_RESIDUAL_V = 1.0


def resolve_names(names: Sequence[str]) -> tuple[str, ...]:
    """Map short names (tau, rc, j0) to correction names; unknown names raise a one-line error."""
    out = []
    for n in names:
        key = ALIASES.get(n.strip(), n.strip())
        if key not in CORRECTIONS:
            raise ValidationError(f"--fit {n!r}: unknown correction; use {', '.join([*ALIASES, *CORRECTIONS])}")
        if key not in out:
            out.append(key)
    if not out:
        raise ValidationError("--fit: name at least one correction to fit")
    return tuple(out)


def _to_x(name: str, value: float) -> float:
    if name in _LOG:
        return math.log(value)
    return value / _RC_SCALE


def _from_x(name: str, x: float) -> float:
    if name in _LOG:
        return math.exp(x)
    return x * _RC_SCALE


def _bounds_x(name: str) -> tuple[float, float]:
    _, lo, hi = CORRECTIONS[name]
    return _to_x(name, lo), _to_x(name, hi)


def replay(sim: CalibratedPyBaMMSimulator, discharge: Discharge, electrode: Electrode, cell,
           lower_cutoff_V: float | None = None):
    """Simulate one measured discharge (same current) with the simulator's current corrections."""
    layout = sim.layout(electrode, cell)
    c_rate = discharge.current_A / layout.nominal_capacity_Ah
    return sim.simulate(electrode, cell, ConstantCurrent(c_rate, lower_cutoff_V=lower_cutoff_V))


def voltage_residual(perf, discharge: Discharge, times_s: np.ndarray) -> np.ndarray:
    """Simulated minus measured voltage at ``times_s``, the simulation held at its end value."""
    v_sim = np.interp(times_s, perf.time_s, perf.voltage_V, right=float(perf.voltage_V[-1]))
    v_meas = np.interp(times_s, discharge.time_s, discharge.voltage_V)
    return v_sim - v_meas


def fit_calibration(discharges: Sequence[Discharge], electrode: Electrode, cell, *,
                    fit: Sequence[str] = DEFAULT_FIT, fixed: Mapping[str, float] | None = None,
                    initial: Mapping[str, float] | None = None, simulator_options: Mapping[str, Any] | None = None,
                    lower_cutoff_V: float | None = None, n_points: int = 80, diff_step: float = 0.05,
                    max_nfev: int = 40, provenance: Mapping[str, Any] | None = None) -> Calibration:
    """Fit the corrections named in ``fit`` to ``discharges``; see the module docstring."""
    if not discharges:
        raise ValidationError("calibration: give at least one measured discharge")
    names = resolve_names(fit)
    if not 5 <= n_points <= 5000:
        raise ValidationError(f"calibration: n_points={n_points} must be 5..5000")
    fixed_values = check_corrections(dict(fixed or {}))
    clash = sorted(set(fixed_values) & set(names))
    if clash:
        raise ValidationError(f"calibration: {clash} are both fitted and fixed")
    start = {n: CORRECTIONS[n][0] for n in names}
    start.update(check_corrections({k: v for k, v in (initial or {}).items() if k in names}))
    if "contact_resistance_Ohm_m2" in start and start["contact_resistance_Ohm_m2"] == 0.0:
        start["contact_resistance_Ohm_m2"] = 1e-4  # off the bound so the first difference is two-sided
    options = {"rtol": 1e-6, "atol": 1e-8, **dict(simulator_options or {})}
    sim = CalibratedPyBaMMSimulator(**options, **fixed_values)
    grids = [np.linspace(0.0, d.duration_s, n_points) for d in discharges]
    stats = {"evaluations": 0, "failed": 0}

    def residuals(x: np.ndarray) -> np.ndarray:
        sim.with_corrections(**{n: float(np.clip(_from_x(n, xi), CORRECTIONS[n][1], CORRECTIONS[n][2]))
                                for n, xi in zip(names, x)})
        parts = []
        for d, grid in zip(discharges, grids):
            stats["evaluations"] += 1
            try:
                perf = replay(sim, d, electrode, cell, lower_cutoff_V)
                parts.append(voltage_residual(perf, d, grid))
            except EvaluationError:
                stats["failed"] += 1
                parts.append(np.full(grid.shape, FAILED_RESIDUAL_V))
        return np.concatenate(parts)

    x0 = np.array([_to_x(n, start[n]) for n in names])
    lo, hi = zip(*(_bounds_x(n) for n in names))
    t0 = time.perf_counter()
    result = least_squares(residuals, x0, bounds=(np.array(lo), np.array(hi)), method="trf",
                           diff_step=diff_step, x_scale=1.0, max_nfev=max_nfev, xtol=1e-4, ftol=1e-6)
    wall = time.perf_counter() - t0
    if stats["failed"] == stats["evaluations"]:
        raise EvaluationError("calibration: the simulator failed for every trial correction; check the "
                              "electrode, cell and cut-off against the measurement")
    r = residuals(result.x)  # leaves the simulator at the optimum
    m, n = r.size, len(names)
    rmse = float(np.sqrt(np.mean(r**2)))
    values = {nm: float(sim.corrections[nm]) for nm in names}
    uncertainty = _uncertainty(result.jac, r, names, values, m, n)
    params = {**{k: v for k, v in sim.corrections.items()}}
    prov = {
        "fitted": list(names), "fixed": dict(fixed_values), "initial": start,
        "measurements": [{"path": d.source, "sha256": d.sha256, "current_A": d.current_A,
                          "duration_s": d.duration_s} for d in discharges],
        "electrode": {"thickness_m": electrode.thickness_m, "mass_loading_kg_per_m2": electrode.mass_loading_kg_per_m2,
                      "particle_radius_m": electrode.particle_radius_m, "am_mass_fraction": electrode.am_mass_fraction,
                      "metrics": electrode.metrics.to_dict()},
        "cell": getattr(cell, "name", type(cell).__name__),
        "lower_cutoff_V": lower_cutoff_V,
        "optimizer": {"method": "scipy.optimize.least_squares (trf)", "nfev": int(result.nfev),
                      "status": int(result.status), "message": str(result.message), "wall_s": round(wall, 2),
                      "simulations": stats["evaluations"], "failed_simulations": stats["failed"]},
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": _versions(),
        **dict(provenance or {}),
    }
    return Calibration(parameters=params, uncertainty=uncertainty, rmse_V=rmse, n_points=m,
                       simulator={"model": sim.model, "parameter_set": sim.parameter_set}, provenance=prov)


def _uncertainty(jac: np.ndarray, r: np.ndarray, names: Sequence[str], values: Mapping[str, float],
                 m: int, n: int) -> dict[str, float]:
    """1-sigma errors of the physical parameters from the Jacobian in fit coordinates."""
    if m <= n:
        return {nm: float("nan") for nm in names}
    s2 = float(r @ r) / (m - n)
    try:
        jtj = jac.T @ jac
        if np.linalg.cond(jtj) > 1e12:
            raise np.linalg.LinAlgError("singular")
        cov = np.linalg.inv(jtj) * s2
    except np.linalg.LinAlgError:
        return {nm: float("nan") for nm in names}
    out = {}
    for k, nm in enumerate(names):
        sx = math.sqrt(max(cov[k, k], 0.0))
        out[nm] = values[nm] * sx if nm in _LOG else sx * _RC_SCALE  # d exp(x) = exp(x) dx
    return out


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("electroforge", "electroforge-calibrate", "pybamm"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "unknown"
    return out
