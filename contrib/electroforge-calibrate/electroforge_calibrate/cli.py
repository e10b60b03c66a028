"""The ``electroforge-calibrate`` command: fit, inspect and try calibrations.

::

    electroforge-calibrate fit run_0p5C.csv run_2C.csv --metrics m.json --cell half --thickness 70um -o cal.json
    electroforge-calibrate fit run.csv --image cathode.tif --voxel-size 0.4um --cell half --thickness 70um -o cal.json
    electroforge-calibrate show cal.json
    electroforge-calibrate synthesize --metrics m.json --cell half --thickness 70um -c 0.5 -c 2 \\
        --tau 1.6 --rc 2e-3 --j0 0.4 --noise-mV 2 -o measured/
    # electrode balance (lithium inventory, capacities) from a cell's pOCV curves
    electroforge-calibrate fit pocv.csv --fit lli,kp --electrode tesla-4680-teardown --cell 4680 \\
        --anode-thickness 111um -o cal.json --plot fit.png
    electroforge-calibrate synthesize -m m.json --cell 4680 --thickness 80um --lli 0.08 --kp 0.95 -o measured/

A campaign then uses the calibrated simulator by name::

    [simulator]
    name = "pybamm-calibrated"
    options = { calibration = "cal.json" }

User mistakes (bad CSV, missing file, bad option) print ``error: <one line>`` and exit 2.
"""
from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import typer

from electroforge.errors import ElectroforgeError, InputFileError, ValidationError

app = typer.Typer(name="electroforge-calibrate", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False,
                  help="Sim-to-real calibration of electroforge's PyBaMM cell simulator.")


# ------------------------------------------------------------------ inputs shared by fit and synthesize
def read_metrics_json(path: Path):
    """Metrics from ``electroforge characterize --json`` output (a wrapped ``{"metrics": ...}`` too)."""
    from electroforge.model import Metrics

    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InputFileError(f"--metrics {path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(f"--metrics {path}: not a JSON file ({type(exc).__name__})") from None
    if isinstance(data, dict) and isinstance(data.get("metrics"), dict):
        data = data["metrics"]
    try:
        return Metrics.from_dict(data)
    except ValidationError as exc:
        raise InputFileError(f"--metrics {path}: {exc}") from None


def metrics_from_image(path: Path, voxel_size: str | None, characterizer: str):
    """Characterize a TIFF (or any image electroforge reads) with a registered characterizer."""
    from electroforge.model import Microstructure
    from electroforge.registry import get_registry
    from electroforge.units import parse_length_m

    voxel = parse_length_m(voxel_size) if voxel_size else None
    ms = Microstructure.from_file(path, voxel_size_m=voxel)
    return get_registry().create("characterizer", characterizer).characterize(ms)


def build_electrode(metrics, thickness: str | None, loading: str | None, particle_radius: str,
                    am_mass_fraction: float | None):
    from electroforge.model import Electrode
    from electroforge.units import parse_length_m, parse_loading_kg_per_m2

    if (thickness is None) == (loading is None):
        raise ValidationError("give exactly one of --thickness (e.g. 70um) or --loading (e.g. 20mg/cm2)")
    return Electrode(metrics,
                     thickness_m=None if thickness is None else parse_length_m(thickness),
                     mass_loading_kg_per_m2=None if loading is None else parse_loading_kg_per_m2(loading),
                     particle_radius_m=parse_length_m(particle_radius), am_mass_fraction=am_mass_fraction)


def _metrics(metrics: Path | None, image: Path | None, voxel_size: str | None, characterizer: str):
    if (metrics is None) == (image is None):
        raise ValidationError("give exactly one of --metrics (characterize --json output) or --image (a TIFF)")
    return read_metrics_json(metrics) if metrics is not None else metrics_from_image(image, voxel_size, characterizer)


# ------------------------------------------------------------------ commands
#: ``--electrode`` presets: an electrode whose design is published, instead of --metrics/--image.
ELECTRODES = ("tesla-4680-teardown",)


def _electrode(electrode: str | None, metrics, image, voxel_size, characterizer, thickness, loading,
               particle_radius, am_mass_fraction):
    if electrode is not None:
        if electrode not in ELECTRODES:
            raise ValidationError(f"--electrode {electrode!r}: unknown; known: {', '.join(ELECTRODES)}")
        if metrics is not None or image is not None or thickness is not None or loading is not None:
            raise ValidationError("--electrode names a whole electrode: give it without --metrics, --image, "
                                  "--thickness or --loading")
        from electroforge.cells import tesla_4680_teardown_cathode

        return tesla_4680_teardown_cathode()
    return build_electrode(_metrics(metrics, image, voxel_size, characterizer), thickness, loading,
                           particle_radius, am_mass_fraction)


def _split_names(fit_names: str) -> tuple[str, tuple[str, ...]]:
    """("discharge" | "balance", correction names): the balance corrections are fitted to pOCV
    curves, the others to constant-current discharges; one fit cannot mix them."""
    from electroforge_calibrate.balance import ALIASES as BALANCE_ALIASES
    from electroforge_calibrate.balance import resolve_balance_names
    from electroforge_calibrate.fit import resolve_names
    from electroforge_calibrate.simulator import BALANCE

    raw = [n.strip() for n in fit_names.split(",") if n.strip()]
    is_balance = [BALANCE_ALIASES.get(n, n) in BALANCE for n in raw]
    if raw and all(is_balance):
        return "balance", resolve_balance_names(raw)
    if any(is_balance):
        raise ValidationError(f"--fit {fit_names!r}: the balance corrections (lli, kp, kn) are fitted to pOCV "
                              "curves and the others (tau, rc, j0) to rate tests; fit them in two runs")
    return "discharge", resolve_names(raw)


@app.command()
def fit(
    measurements: list[Path] = typer.Argument(..., help="CSV files: constant-current discharges (time_s, voltage_V, current_A), or with --fit lli,kp,kn one pOCV file."),
    output: Path = typer.Option(..., "--output", "-o", help="Calibration JSON to write."),
    metrics: Path = typer.Option(None, "--metrics", "-m", help="Metrics JSON of the built electrode."),
    image: Path = typer.Option(None, "--image", help="Imaged microstructure (TIFF) of the built electrode, instead of --metrics."),
    electrode: str = typer.Option(None, "--electrode", help="A published electrode instead of --metrics/--image: tesla-4680-teardown."),
    voxel_size: str = typer.Option(None, "--voxel-size", help="With --image: voxel edge, e.g. 0.4um."),
    characterizer: str = typer.Option("taufactor", "--characterizer", help="With --image: characterizer to use."),
    cell: str = typer.Option("half", "--cell", help="Cell format the measurement was made in: half, 4680, 21700 (a balance fit: the full cell whose anode the measured cell holds)."),
    thickness: str = typer.Option(None, "--thickness", help="Coating thickness per side, e.g. 70um."),
    loading: str = typer.Option(None, "--loading", help="Dry coating mass per side, e.g. 20mg/cm2 (instead of --thickness)."),
    particle_radius: str = typer.Option("5.22um", "--particle-radius", help="Active particle radius."),
    am_mass_fraction: float = typer.Option(None, "--am-mass-fraction", help="Active share of the dry coating mass."),
    anode_thickness: str = typer.Option(None, "--anode-thickness", help="Anode coating per side of the cell, e.g. 111um (default: the format's N/P sizing)."),
    fit_names: str = typer.Option("tau,rc,j0", "--fit", help="Corrections to fit: tau, rc, j0 (rate tests) or lli, kp, kn (a pOCV file)."),
    model: str = typer.Option("DFN", "--model", help="PyBaMM model: DFN or SPMe."),
    cutoff: float = typer.Option(None, "--cutoff", help="Lower cut-off voltage of the measurement (V; default: the simulator's)."),
    max_nfev: int = typer.Option(40, "--max-nfev", help="Most least-squares iterations (rate tests)."),
    step: str = typer.Option("discharge", "--step", help="pOCV step to fit: discharge or charge."),
    area: str = typer.Option(None, "--area", help="pOCV: cathode area of the measured cell, e.g. 0.942cm2 (default: the file's electrode_area_m2)."),
    plot: Path = typer.Option(None, "--plot", help="pOCV: write measured vs fitted curves to this image (PNG)."),
    anchor_weight: float = typer.Option(1.0, "--anchor-weight", help="pOCV: weight of the step's end voltages (1: the simulator reproduces the measured capacity; 0: best curve shape)."),
) -> None:
    """Fit corrections so the simulator reproduces measured curves; write a calibration JSON."""
    from electroforge.cells import cell_from_name
    from electroforge.units import parse_length_m

    kind, names = _split_names(fit_names)
    if cutoff is not None and not (math.isfinite(cutoff) and cutoff > 0):
        raise ValidationError(f"--cutoff {cutoff!r}: must be a voltage > 0")
    the_electrode = _electrode(electrode, metrics, image, voxel_size, characterizer, thickness, loading,
                               particle_radius, am_mass_fraction)
    overrides = {} if anode_thickness is None else {"anode_thickness_m": parse_length_m(anode_thickness)}
    fmt = cell_from_name(cell, **overrides)
    prov = {"image": str(image) if image else None, "metrics_file": str(metrics) if metrics else None,
            "electrode_preset": electrode}
    if kind == "balance":
        from electroforge_calibrate.balance import fit_balance, plot_balance
        from electroforge_calibrate.pocv import read_pocv_csv

        if len(measurements) != 1:
            raise ValidationError(f"--fit {fit_names}: give one pOCV file, not {len(measurements)}")
        if step not in ("discharge", "charge"):
            raise ValidationError(f"--step {step!r}: use discharge or charge")
        area_m2 = None if area is None else _parse_area_m2(area)
        pocv = read_pocv_csv(measurements[0])
        typer.echo(f"fitting {', '.join(names)} to the {step} of {measurements[0]} ...", err=True)
        if not (math.isfinite(anchor_weight) and anchor_weight >= 0):
            raise ValidationError(f"--anchor-weight {anchor_weight!r}: must be >= 0")
        result = fit_balance(pocv, the_electrode, fmt, fit=names, step=step, electrode_area_m2=area_m2,
                             simulator_options={"model": model}, anchor_weight=anchor_weight, provenance=prov)
        cal = result.calibration
        if plot is not None:
            plot_balance(result, plot)
            typer.echo(f"wrote {plot}")
    else:
        from electroforge_calibrate.fit import fit_calibration
        from electroforge_calibrate.measurements import read_discharge_csv

        discharges = [read_discharge_csv(p) for p in measurements]
        typer.echo(f"fitting {', '.join(names)} to {len(discharges)} discharge(s) ...", err=True)
        cal = fit_calibration(discharges, the_electrode, fmt, fit=names, simulator_options={"model": model},
                              lower_cutoff_V=cutoff, max_nfev=max_nfev, provenance=prov)
    cal.save(output)
    _print(cal)
    typer.echo(f"wrote {output}")


def _parse_area_m2(text: str) -> float:
    """``0.942cm2``, ``9.42e-5m2``, ``94.2mm2`` -> m²."""
    t = text.strip().lower().replace("²", "2")
    for unit, scale in (("mm2", 1e-6), ("cm2", 1e-4), ("m2", 1.0)):
        if t.endswith(unit):
            try:
                value = float(t[: -len(unit)]) * scale
            except ValueError:
                break
            if math.isfinite(value) and value > 0:
                return value
            break
    raise ValidationError(f"--area {text!r}: give an area > 0 with its unit, e.g. 0.942cm2")


@app.command()
def show(calibration: Path = typer.Argument(..., help="Calibration JSON.")) -> None:
    """Print a calibration's corrections, their 1-sigma uncertainty and the fit's RMSE."""
    from electroforge_calibrate.store import load_calibration

    _print(load_calibration(calibration))


@app.command()
def synthesize(
    output: Path = typer.Option(..., "--output", "-o", help="Folder for the CSV files (created)."),
    metrics: Path = typer.Option(..., "--metrics", "-m", help="Metrics JSON of the electrode."),
    cell: str = typer.Option("half", "--cell"),
    thickness: str = typer.Option(None, "--thickness"),
    loading: str = typer.Option(None, "--loading"),
    particle_radius: str = typer.Option("5.22um", "--particle-radius"),
    c_rates: list[float] = typer.Option([0.5, 2.0], "--c-rate", "-c", help="C-rates (repeatable)."),
    tau: float = typer.Option(1.0, "--tau", help="Hidden tortuosity multiplier."),
    rc: float = typer.Option(0.0, "--rc", help="Hidden contact resistance (Ohm m²)."),
    j0: float = typer.Option(1.0, "--j0", help="Hidden exchange-current factor."),
    lli: float = typer.Option(0.0, "--lli", help="Hidden loss of lithium inventory (fraction); writes a pOCV file."),
    kp: float = typer.Option(1.0, "--kp", help="Hidden cathode capacity factor; writes a pOCV file."),
    kn: float = typer.Option(1.0, "--kn", help="Hidden anode capacity factor; writes a pOCV file."),
    anode_thickness: str = typer.Option(None, "--anode-thickness", help="Anode coating per side (full cells)."),
    pocv_rate: float = typer.Option(0.01, "--pocv-rate", help="C-rate of the synthetic pOCV discharge."),
    noise_mV: float = typer.Option(2.0, "--noise-mV", help="Gaussian voltage noise (mV, 1 sigma)."),
    seed: int = typer.Option(0, "--seed"),
    model: str = typer.Option("DFN", "--model"),
) -> None:
    """Write synthetic measurements: discharges simulated with known hidden corrections plus noise."""
    from electroforge.cells import cell_from_name

    from electroforge_calibrate.measurements import write_discharge_csv
    from electroforge_calibrate.synthetic import synthetic_discharges

    if not (math.isfinite(noise_mV) and noise_mV >= 0):
        raise ValidationError(f"--noise-mV {noise_mV!r}: must be >= 0")
    electrode = build_electrode(read_metrics_json(metrics), thickness, loading, particle_radius, None)
    hidden = {"tortuosity_multiplier": tau, "contact_resistance_Ohm_m2": rc, "exchange_current_factor": j0}
    balance = {"lithium_loss_fraction": lli, "cathode_capacity_factor": kp, "anode_capacity_factor": kn}
    from electroforge.units import parse_length_m

    overrides = {} if anode_thickness is None else {"anode_thickness_m": parse_length_m(anode_thickness)}
    fmt = cell_from_name(cell, **overrides)
    output.mkdir(parents=True, exist_ok=True)
    if balance != {"lithium_loss_fraction": 0.0, "cathode_capacity_factor": 1.0, "anode_capacity_factor": 1.0}:
        from electroforge_calibrate.pocv import write_pocv_csv
        from electroforge_calibrate.synthetic import synthetic_pocv

        if not (math.isfinite(pocv_rate) and 0 < pocv_rate <= 0.2):
            raise ValidationError(f"--pocv-rate {pocv_rate!r}: a pOCV is slow; use a C-rate in (0, 0.2]")
        pocv = synthetic_pocv(electrode, fmt, {**hidden, **balance}, c_rate=pocv_rate, noise_V=noise_mV * 1e-3,
                              seed=seed, simulator_options={"model": model})
        path = output / "pocv.csv"
        write_pocv_csv(path, pocv.steps, pocv.electrode_area_m2,
                       comments=(f"synthetic pOCV (electroforge-calibrate synthesize): hidden {balance}",))
        typer.echo(f"wrote {path} ({pocv.steps[0].capacity_Ah:.4g} Ah at {pocv.steps[0].current_A * 1e3:.4g} mA)")
        return
    ds = synthetic_discharges(electrode, fmt, c_rates, hidden, noise_V=noise_mV * 1e-3, seed=seed,
                              simulator_options={"model": model})
    for c, d in zip(c_rates, ds):
        path = output / f"discharge_{c:g}C.csv"
        write_discharge_csv(path, d.time_s, d.voltage_V, d.current_A)
        typer.echo(f"wrote {path} ({d.duration_s / 3600:.3g} h at {d.current_A * 1e3:.4g} mA)")


def _print(cal) -> None:
    for name, value in cal.parameters.items():
        sd = cal.uncertainty.get(name)
        err = f" ± {sd:.3g}" if sd is not None and math.isfinite(sd) else ""
        typer.echo(f"{name:28s} {value:.5g}{err}")
    typer.echo(f"{'rmse_V':28s} {cal.rmse_V:.4g} ({cal.n_points} points)")


def run() -> None:
    """Console-script entry: one-line errors (exit 2) instead of tracebacks for user mistakes.

    Usage errors (unknown option, missing argument) are typer's own, also exit 2.
    """
    os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")
    try:
        app()
    except ElectroforgeError as exc:
        typer.echo(f"error: {' '.join(str(exc).split())}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    run()
