"""``electroforge simulate``: cell performance of an electrode from its metrics.

The metrics file is the JSON ``electroforge characterize --json`` writes (extra keys such as
``status``/``error`` are ignored). One protocol (``--power`` or ``--c-rate``) prints the
performance table (``--json``: the Performance fields by contract name plus ``status`` and
``error``); ``--sweep-power START:STOP:COUNT`` prints a Ragone curve and ``--plot`` draws it.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import typer

from electroforge.cli._common import STATE, console, print_json
from electroforge.errors import EvaluationError, InputFileError, ValidationError

_LABELS = {
    "capacity_Ah": ("capacity", "Ah"),
    "energy_Wh": ("energy", "Wh"),
    "mean_power_W": ("mean power", "W"),
    "duration_s": ("duration", "s"),
    "energy_density_Wh_per_L": ("energy density", "Wh/L"),
    "specific_energy_Wh_per_kg": ("specific energy", "Wh/kg"),
    "capacity_per_g_active_mAh": ("capacity per g active", "mAh/g"),
}


def read_metrics(path: Path):
    """Metrics from a ``characterize --json`` file; errors name the file."""
    from electroforge.model import Metrics

    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InputFileError(f"--metrics {path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(f"--metrics {path}: not a JSON file ({exc})") from None
    if isinstance(data, dict) and isinstance(data.get("metrics"), dict):  # a wrapped record
        data = data["metrics"]
    if isinstance(data, dict) and data.get("status") == "failed":
        raise InputFileError(f"--metrics {path}: the characterization failed ({data.get('error', 'no reason given')})")
    try:
        return Metrics.from_dict(data)
    except ValidationError as exc:
        raise InputFileError(f"--metrics {path}: {exc}") from None


def simulate(
    metrics: Path = typer.Option(..., "--metrics", "-m", help="Metrics JSON (from `electroforge characterize --json`)."),
    cell: str = typer.Option("4680", "--cell", help="Cell format: 4680, 21700 or half (lithium counter electrode)."),
    loading: str = typer.Option(None, "--loading", help="Dry coating mass per side per area, e.g. 20mg/cm2."),
    thickness: str = typer.Option(None, "--thickness", help="Coating thickness per side, e.g. 80um (instead of --loading)."),
    power: str = typer.Option(None, "--power", help="Constant-power discharge, e.g. 10W or 0.2kW."),
    c_rate: float = typer.Option(None, "--c-rate", help="Constant-current discharge at this C-rate (of the design's capacity)."),
    sweep_power: str = typer.Option(None, "--sweep-power", metavar="START:STOP:COUNT",
                                    help="Ragone sweep: COUNT powers log-spaced from START to STOP W, e.g. 5:300:12."),
    cutoff: float = typer.Option(None, "--cutoff", help="Lower cut-off voltage in V (default: the simulator's)."),
    particle_radius: str = typer.Option("5.22um", "--particle-radius", help="Active particle radius."),
    am_mass_fraction: float = typer.Option(None, "--am-mass-fraction",
                                           help="Active share of the dry coating mass (default: from the volume fractions)."),
    simulator: str = typer.Option("pybamm", "--simulator", "-s", help="Cell simulator (see `electroforge plugins`)."),
    model: str = typer.Option(None, "--model", help="Simulator model option, e.g. DFN or SPMe (pybamm)."),
    parameter_set: str = typer.Option(None, "--parameter-set",
                                      help="Simulator parameter set: a name (Chen2020) or a BPX .json file (pybamm)."),
    plot: Path = typer.Option(None, "--plot", help="With --sweep-power: write the Ragone plot (PNG)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Simulate a discharge of a cathode (given by its metrics) in a cell format."""
    from electroforge.cells import cell_from_name
    from electroforge.model import ConstantCurrent, ConstantPower, Electrode
    from electroforge.units import parse_length_m, parse_loading_kg_per_m2, parse_power_W

    chosen = [n for n, v in (("--power", power), ("--c-rate", c_rate), ("--sweep-power", sweep_power)) if v is not None]
    if len(chosen) != 1:
        raise ValidationError(f"give exactly one of --power, --c-rate or --sweep-power (got {', '.join(chosen) or 'none'})")
    if (loading is None) == (thickness is None):
        raise ValidationError("give exactly one of --loading (e.g. 20mg/cm2) or --thickness (e.g. 80um)")
    if c_rate is not None and not (math.isfinite(c_rate) and c_rate > 0):
        raise ValidationError(f"--c-rate {c_rate!r}: must be a number > 0")
    if cutoff is not None and not (math.isfinite(cutoff) and cutoff > 0):
        raise ValidationError(f"--cutoff {cutoff!r}: must be a voltage > 0")
    if plot is not None and sweep_power is None:
        raise ValidationError("--plot draws a Ragone curve: use it with --sweep-power")

    m = read_metrics(metrics)
    electrode = Electrode(
        m,
        thickness_m=None if thickness is None else parse_length_m(thickness),
        mass_loading_kg_per_m2=None if loading is None else parse_loading_kg_per_m2(loading),
        particle_radius_m=parse_length_m(particle_radius),
        am_mass_fraction=am_mass_fraction,
    )
    fmt = cell_from_name(cell)
    options = {} if model is None else {"model": model}
    if parameter_set is not None:
        options["parameter_set"] = parameter_set
    sim = STATE.registry().create("cell_simulator", simulator, **options)

    if sweep_power is not None:
        _sweep(sim, electrode, fmt, sweep_power, cutoff, plot, as_json, cell)
        return
    protocol = (ConstantPower(parse_power_W(power), lower_cutoff_V=cutoff) if power is not None
                else ConstantCurrent(c_rate, lower_cutoff_V=cutoff))
    try:
        with console.status(f"simulating {protocol.label} in {cell} with {simulator} ..."):
            perf = sim.simulate(electrode, fmt, protocol)
    except EvaluationError as exc:
        if as_json:
            from electroforge.model import Performance

            print_json({**{k: float("nan") for k in Performance.SCALARS}, "protocol": protocol.label, "cell": cell,
                        "status": "failed", "error": str(exc), "extras": {}})
            sys.stdout.flush()
            # exit status 1 = the evaluation failed (typer.Exit's code is dropped by the CLI's main)
            raise SystemExit(1) from None
        raise
    if as_json:
        print_json({**perf.to_dict(), "protocol": protocol.label, "cell": cell, "status": "ok", "error": ""})
        return
    _table(perf, f"{protocol.label} discharge, {cell} cell, {simulator}")


def _table(perf, title: str) -> None:
    from rich.table import Table

    table = Table(title=title)
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for key, (label, unit) in _LABELS.items():
        table.add_row(label, f"{getattr(perf, key):.4g}", unit)
    for key, value in perf.extras.items():
        if key.startswith("eta_") and not key.endswith("_end_V"):
            table.add_row(f"mean loss: {key[4:-2].replace('_', ' ')}", f"{value * 1e3:.1f}", "mV")
    if "nominal_capacity_Ah" in perf.extras:
        table.add_row("design nominal capacity (1C)", f"{perf.extras['nominal_capacity_Ah']:.4g}", "Ah")
    for key, label, scale, unit in (("cell_volume_L", "cell volume", 1.0, "L"),
                                    ("active_mass_kg", "active material", 1e3, "g")):
        if key in perf.extras:
            table.add_row(label, f"{perf.extras[key] * scale:.4g}", unit)
    console.print(table)
    from electroforge.cells import mass_breakdown_kg

    parts = {k: v * 1e3 for k, v in mass_breakdown_kg(perf.extras).items()}
    if parts:
        total = sum(parts.values())
        mass = Table(title=f"cell mass {total:.4g} g")
        for col in ("part", "g", "%"):
            mass.add_column(col, justify="left" if col == "part" else "right")
        for part, grams in parts.items():
            mass.add_row(part.replace("_", " "), f"{grams:.4g}", f"{100 * grams / total:.1f}")
        console.print(mass)


def _sweep(sim, electrode, fmt, text, cutoff, plot, as_json, cell_name) -> None:
    from electroforge.ragone import parse_sweep, plot_ragone, ragone_curve

    powers = parse_sweep(text)
    with console.status(f"Ragone sweep: {len(powers)} powers ..."):
        curve = ragone_curve(sim, electrode, fmt, powers, lower_cutoff_V=cutoff)
    done = {round(p.mean_power_W, 6) for p in curve}
    failed = [p for p in powers if not any(abs(p - q) <= 1e-6 * p for q in done)]
    if as_json:
        print_json({"cell": cell_name, "points": [{**p.to_dict(), "status": "ok"} for p in curve],
                    "failed_powers_W": failed})
    else:
        from rich.table import Table

        table = Table(title=f"Ragone curve, {cell_name} cell (constant power)")
        for col in ("power (W)", "energy (Wh)", "Wh/L", "Wh/kg", "duration (min)"):
            table.add_column(col, justify="right")
        for p in curve:
            table.add_row(f"{p.mean_power_W:.4g}", f"{p.energy_Wh:.4g}", f"{p.energy_density_Wh_per_L:.4g}",
                          f"{p.specific_energy_Wh_per_kg:.4g}", f"{p.duration_s / 60:.4g}")
        console.print(table)
        if failed:
            console.print(f"no discharge possible at: {', '.join(f'{p:.4g} W' for p in failed)}")
    if plot is not None:
        plot_ragone({f"{cell_name} cell": curve}, plot)
        if not as_json:
            console.print(f"wrote {plot}")


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
