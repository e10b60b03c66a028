"""``electroforge characterize``: the four metrics of a labelled image (table, or JSON with ``--json``).

JSON output (``--json``, or ``--output M.json``) holds :meth:`electroforge.Metrics.to_dict` by the
contract names (an infinite tortuosity factor is the string ``"inf"``), plus ``status``
(``"ok"``/``"failed"``), ``error`` (``""`` or e.g. ``"pore network does not percolate"``), ``shape``
and ``voxel_size_m``. It is the input of ``electroforge simulate --metrics M.json``.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from electroforge.cli._common import STATE, _finite, console, print_json
from electroforge.errors import ValidationError


def parse_phases(text: str | None) -> tuple[list[str] | None, dict[int, str] | None]:
    """``"pore,active,binder"`` -> (names, None); ``"0=pore,128=active,255=binder"`` -> (None, label map)."""
    if text is None or not str(text).strip():
        return None, None
    items = [s.strip() for s in str(text).split(",") if s.strip()]
    with_values = [("=" in s) for s in items]
    if any(with_values) and not all(with_values):
        raise ValidationError(f"--phases {text!r}: use either names (pore,active,binder) or VALUE=NAME pairs, not both")
    if not all(with_values):
        if len(set(items)) != len(items):
            raise ValidationError(f"--phases {text!r}: phase names must be unique")
        return items, None
    label_map: dict[int, str] = {}
    for item in items:
        value, _, name = item.partition("=")
        try:
            key = int(value)
        except ValueError:
            raise ValidationError(f"--phases {text!r}: {value!r} in {item!r} is not an integer label value") from None
        if not name.strip():
            raise ValidationError(f"--phases {text!r}: {item!r} has no phase name")
        if key in label_map:
            raise ValidationError(f"--phases {text!r}: label value {key} given twice")
        label_map[key] = name.strip()
    return None, label_map


def parse_options(items: Iterable[str], what: str = "--option") -> dict[str, Any]:
    """``["iter_limit=5000", "device=cpu", "conv_crit=0.005"]`` -> typed keyword options."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = str(item).partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key or not raw:
            raise ValidationError(f"{what} {item!r}: expected NAME=VALUE")
        value: Any = raw
        try:
            value = int(raw)
        except ValueError:
            try:
                value = float(raw)
            except ValueError:
                low = raw.lower()
                value = {"true": True, "false": False}.get(low, raw)
        out[key] = value
    return out


def load_image(image: Path, voxel_size: str | None, phases: str | None):
    """Read a microstructure file with the CLI's --voxel-size and --phases conventions."""
    from electroforge.imageio import read_microstructure
    from electroforge.units import parse_length_m

    voxel_m = parse_length_m(voxel_size) if voxel_size else None
    names, label_map = parse_phases(phases)
    return read_microstructure(image, voxel_size_m=voxel_m, phases=names, label_map=label_map)


def metrics_record(ms, metrics) -> dict[str, Any]:
    """The JSON-ready record: ``Metrics.to_dict()`` + status, error, shape, voxel size."""
    from electroforge.characterization import status_of

    status, error = status_of(metrics)
    out = metrics.to_dict()
    out.update({"status": status, "error": error, "shape": list(ms.shape), "voxel_size_m": ms.voxel_size_m})
    return out


def characterize(
    image: Path = typer.Argument(..., help="Labelled 3D stack (.tif/.tiff, .nc, .npy); x (first axis) through the thickness."),
    voxel_size: str = typer.Option(None, "--voxel-size", help="Voxel edge, e.g. 0.4um (required unless the file records it)."),
    phases: str = typer.Option(None, "--phases", help="Phase names for the sorted label values (pore,active,binder) "
                               "or explicit VALUE=NAME pairs (0=pore,128=active,255=binder)."),
    characterizer: str = typer.Option("taufactor", "--characterizer", "-c", help="Characterizer name (see `electroforge plugins`)."),
    option: list[str] = typer.Option([], "--option", metavar="NAME=VALUE",
                                     help="Characterizer option, e.g. threads=1, device=cpu, binder_conductivity_S_per_m=50 (repeatable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON (contract names; infinite tortuosity as \"inf\")."),
    output: Path = typer.Option(None, "--output", "-o", help="Also write the JSON record to this file."),
) -> None:
    """Compute volume fractions, surface area and binder coverage, tortuosity factor and effective conductivity."""
    ms = load_image(image, voxel_size, phases)
    comp = STATE.registry().create("characterizer", characterizer, **parse_options(option))
    if as_json:
        metrics = comp.characterize(ms)
    else:
        with console.status(f"characterizing {image} ({'x'.join(map(str, ms.shape))} voxels) with {characterizer} ..."):
            metrics = comp.characterize(ms)
    record = metrics_record(ms, metrics)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(_finite(record), indent=2) + "\n")
    if as_json:
        print_json(record)
        return
    _print_table(image, ms, metrics, record)
    if output is not None:
        console.print(f"wrote {output}")


def _print_table(image, ms, metrics, record) -> None:
    table = Table(title=f"{image.name}: {'x'.join(map(str, ms.shape))} voxels at {ms.voxel_size_m * 1e6:g} µm")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("unit")
    for phase, frac in metrics.volume_fractions.items():
        table.add_row(f"volume fraction {phase}", f"{frac:.4f}", "-")
    table.add_row("specific surface area (active-pore)", f"{metrics.specific_surface_area_per_m:.4g}", "1/m")
    table.add_row("binder coverage of active surface", f"{metrics.binder_coverage:.4f}", "-")
    tau = metrics.tortuosity_factor
    table.add_row("tortuosity factor (pore, through x)", "inf" if math.isinf(tau) else f"{tau:.4f}", "-")
    table.add_row("effective diffusivity ratio D_eff/D", f"{metrics.effective_diffusivity_ratio:.4f}", "-")
    table.add_row("effective electronic conductivity", f"{metrics.effective_conductivity_S_per_m:.4g}", "S/m")
    total = metrics.extras.get("total_active_surface_area_per_m")
    if total is not None:
        table.add_row("total active surface area", f"{total:.4g}", "1/m")
    console.print(table)
    if record["status"] == "ok":
        console.print("status: [green]ok[/]")
    else:
        console.print(f"status: [red]failed[/]: {record['error']}")


def register(app: typer.Typer) -> None:
    app.command("characterize")(characterize)
