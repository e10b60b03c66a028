"""Ragone curves: energy density against power for one electrode in one cell format.

* :func:`ragone_curve` runs a cell simulator at constant power over a list of powers and returns
  the :class:`~electroforge.model.Performance` of every point that did not fail (a design that
  cannot deliver a power simply has no point there).
* :func:`crossover_power_W` finds the power where two curves' energy densities (Wh/L) cross, by
  linear interpolation in log(power).
* :func:`value_at_power` interpolates a curve's Wh/L (or discharge time) at a power, and
  :func:`gain_percent` compares a bespoke design with a baseline at a power (the paper's
  comparison of each case-study-3 design with the case-study-1 optimum put into the same cell).
* :func:`plot_ragone` draws Wh/L against mean power on a log power axis, with the crossover marked.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from electroforge.errors import EvaluationError, ValidationError
from electroforge.model import ConstantPower, Electrode, Performance


def parse_sweep(text: str) -> list[float]:
    """``"5:300:12"`` -> 12 powers (W) spaced evenly in log between 5 W and 300 W."""
    from electroforge.units import parse_power_W

    parts = str(text).split(":")
    if len(parts) != 3:
        raise ValidationError(f"--sweep-power {text!r}: expected START:STOP:COUNT, e.g. 5:300:12")
    lo, hi = parse_power_W(parts[0]), parse_power_W(parts[1])
    try:
        n = int(parts[2])
    except ValueError:
        raise ValidationError(f"--sweep-power {text!r}: COUNT {parts[2]!r} is not an integer") from None
    if not 2 <= n <= 200 or not hi > lo:
        raise ValidationError(f"--sweep-power {text!r}: need STOP > START and 2 <= COUNT <= 200")
    return [float(p) for p in np.geomspace(lo, hi, n)]


def ragone_curve(
    simulator: Any, electrode: Electrode, cell: Any, powers_W: Iterable[float], lower_cutoff_V: float | None = None
) -> list[Performance]:
    """Constant-power discharges at each power; failed points (EvaluationError) are skipped.

    Returns the successful performances in the order of ``powers_W``.
    """
    curve: list[Performance] = []
    for p in powers_W:
        try:
            curve.append(simulator.simulate(electrode, cell, ConstantPower(float(p), lower_cutoff_V=lower_cutoff_V)))
        except EvaluationError:
            continue
    return curve


def _points(curve: Sequence[Performance]) -> tuple[np.ndarray, np.ndarray]:
    pts = sorted(
        (p.mean_power_W, p.energy_density_Wh_per_L)
        for p in curve
        if p.mean_power_W > 0 and math.isfinite(p.energy_density_Wh_per_L)
    )
    return np.log([x for x, _ in pts]), np.array([y for _, y in pts])


def value_at_power(
    curve: Sequence[Performance], power_W: float, field: str = "energy_density_Wh_per_L"
) -> float | None:
    """``field`` of a curve at ``power_W``, interpolated linearly in log(mean power); None outside it."""
    pts = sorted(
        (p.mean_power_W, getattr(p, field)) for p in curve if p.mean_power_W > 0 and math.isfinite(getattr(p, field))
    )
    if len(pts) < 2 or not pts[0][0] <= power_W <= pts[-1][0]:
        return None
    return float(np.interp(math.log(power_W), np.log([x for x, _ in pts]), [y for _, y in pts]))


def gain_percent(curve: Sequence[Performance], baseline: Sequence[Performance], power_W: float) -> float | None:
    """How much more Wh/L ``curve`` delivers than ``baseline`` at ``power_W``, in %.

    None when either curve does not reach that power; +inf where the baseline cannot deliver the
    power at all but the curve can is reported as None too (no ratio to take)."""
    a, b = value_at_power(curve, power_W), value_at_power(baseline, power_W)
    if a is None or b is None or b <= 0:
        return None
    return 100.0 * (a / b - 1.0)


def crossover_power_W(curve_a: Sequence[Performance], curve_b: Sequence[Performance]) -> float | None:
    """Lowest power (W) where the Wh/L of ``curve_a`` and ``curve_b`` cross, or None if they do not.

    Both curves are interpolated linearly in log(mean power) on the powers they share; the sign
    change of their difference is located by linear interpolation.
    """
    xa, ya = _points(curve_a)
    xb, yb = _points(curve_b)
    if len(xa) < 2 or len(xb) < 2:
        return None
    lo, hi = max(xa[0], xb[0]), min(xa[-1], xb[-1])
    if not hi > lo:
        return None
    grid = np.unique(np.concatenate([xa[(xa >= lo) & (xa <= hi)], xb[(xb >= lo) & (xb <= hi)], [lo, hi]]))
    diff = np.interp(grid, xa, ya) - np.interp(grid, xb, yb)
    for i in range(len(grid) - 1):
        d0, d1 = diff[i], diff[i + 1]
        if d0 == 0.0:
            return float(np.exp(grid[i]))
        if d0 * d1 < 0:
            x = grid[i] + (grid[i + 1] - grid[i]) * d0 / (d0 - d1)
            return float(np.exp(x))
    if diff[-1] == 0.0:
        return float(np.exp(grid[-1]))
    return None


def plot_ragone(
    curves: Mapping[str, Sequence[Performance]],
    path: str | Path,
    crossover: float | None = None,
    title: str | None = None,
    dashed: Iterable[str] = (),
) -> Path:
    """Wh/L against mean power (log axis), one line per label; the crossover power marked.

    Labels in ``dashed`` (e.g. a baseline) are drawn dashed."""
    dashed = set(dashed)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    for label, curve in curves.items():
        pts = sorted((p.mean_power_W, p.energy_density_Wh_per_L) for p in curve)
        if pts:
            ax.plot(
                [x for x, _ in pts],
                [y for _, y in pts],
                marker="o",
                ms=4,
                label=label,
                ls="--" if label in dashed else "-",
            )
    if crossover is not None and math.isfinite(crossover):
        ax.axvline(crossover, color="grey", ls="--", lw=1)
        ax.annotate(
            f"crossover {crossover:.3g} W",
            xy=(crossover, 0.97),
            xycoords=("data", "axes fraction"),
            xytext=(4, 0),
            textcoords="offset points",
            color="grey",
            fontsize=9,
            va="top",
        )
    ax.set_xscale("log")
    ax.set_xlabel("mean discharge power (W)")
    ax.set_ylabel("energy density (Wh/L)")
    ax.set_title(title or "Ragone: constant-power discharges")
    ax.grid(True, which="both", alpha=0.3)
    if curves:
        ax.legend()
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def stored_config(store: Any) -> Any:
    """The campaign config kept in a campaign file, or a one-line InputFileError naming the file."""
    from electroforge.config import config_from_dict
    from electroforge.errors import InputFileError

    try:
        return config_from_dict(tomllib.loads(store.attributes.get("config", "")), source=str(store.path))
    except (tomllib.TOMLDecodeError, InputFileError) as exc:
        raise InputFileError(f"{store.path}: the stored config cannot be read back ({exc})") from None


def best_design_curve(
    store: Any,
    powers_W: Iterable[float],
    registry: Any = None,
    cell_format: str | None = None,
    simulator_from: Any = None,
) -> list[Performance]:
    """Ragone curve of a campaign's best design, rebuilt from the campaign file alone.

    The design's stored metrics, its cell-stage parameters and the campaign's cell format and
    simulator (from the config text kept in the file) define the electrode; nothing is regenerated.
    ``cell_format`` puts the design into another cell instead (e.g. a half-cell optimum into a
    ``"4680"``; the campaign's cell options are then not used), and ``simulator_from`` (another
    campaign file's store) simulates it with that campaign's cell simulator and options, so that a
    baseline design is judged by the same cell model (a calibration included) as the designs it
    is compared with.
    """
    from electroforge.campaign import best_evaluation
    from electroforge.cells import cell_from_name
    from electroforge.errors import InputFileError
    from electroforge.pipeline import electrode_from_params
    from electroforge.registry import get_registry

    best = best_evaluation(store.evaluations)
    if best is None or best.metrics is None:
        raise InputFileError(f"{store.path}: no successful evaluation to sweep")
    cfg = stored_config(store)
    sim_cfg = cfg.simulator if simulator_from is None else stored_config(simulator_from).simulator
    registry = registry or get_registry()
    simulator = registry.create("cell_simulator", sim_cfg.name, **sim_cfg.options)
    cell = cell_from_name(cfg.cell_format, **cfg.cell_options) if cell_format is None else cell_from_name(cell_format)
    # the particle radius the campaign simulated with (the generator's, reported by the simulator)
    radius = next(
        (p.extras["particle_radius_m"] for p in best.performances.values() if "particle_radius_m" in p.extras), None
    )
    electrode = electrode_from_params(
        best.metrics, cfg.cell_params(best.params), cfg.generator_params(best.params), particle_radius_m=radius
    )
    return ragone_curve(simulator, electrode, cell, powers_W)
