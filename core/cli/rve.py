"""``electroforge rve``: representativity of an image, or of a generator at given parameters.

Cuts the volume into disjoint sub-cubes at several edges, characterises up to ``--count`` per edge
with any registered characterizer, prints mean / std / 95 % CI per metric and edge, the small-cube
tortuosity bias, and the cheapest (edge, count) meeting ``--target-ci``; writes a PNG of CI vs
compute time. See :mod:`electroforge.rve`.
"""
from __future__ import annotations

import math
from pathlib import Path

import typer
from rich.table import Table

from electroforge.cli._common import STATE, console, err_console, print_json
from electroforge.errors import ValidationError


def _parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in str(text).replace(" ", "").split(",") if s]
    except ValueError:
        raise ValidationError(f"--sizes {text!r}: expected comma-separated integers, e.g. 32,48,64,96,128") from None
    if not sizes or min(sizes) < 4:
        raise ValidationError(f"--sizes {text!r}: each edge must be at least 4 voxels")
    return sizes


def rve(
    image: Path = typer.Argument(None, help="Labelled 3D stack (.tif/.nc/.npy); omit with --generator."),
    voxel_size: str = typer.Option(None, "--voxel-size", help="Voxel edge, e.g. 0.4um (unless the file records it)."),
    phases: str = typer.Option(None, "--phases", help="pore,active,binder or VALUE=NAME pairs (see characterize)."),
    generator: str = typer.Option(None, "--generator", "-g", help="Generate the volume with this generator instead of reading IMAGE."),
    param: list[str] = typer.Option([], "--param", "-p", metavar="NAME=VALUE", help="Generator parameter (repeatable)."),
    shape: str = typer.Option("128", "--shape", help="Generated volume: N or NXxNYxNZ voxels."),
    seed: int = typer.Option(0, "--seed", help="Generator seed; also seeds the choice of sub-cubes."),
    characterizer: str = typer.Option("taufactor", "--characterizer", "-c", help="Characterizer name."),
    option: list[str] = typer.Option([], "--option", metavar="NAME=VALUE", help="Characterizer option (repeatable)."),
    sizes: str = typer.Option("32,48,64,96,128", "--sizes", help="Cube edges in voxels (edges larger than the volume are skipped)."),
    count: int = typer.Option(8, "--count", "-n", help="Cubes per edge at most (disjoint; fewer if fewer fit)."),
    target_ci: float = typer.Option(0.01, "--target-ci", help="Target 95 % CI half-width relative to the mean (0.01 = 1 %)."),
    metric: list[str] = typer.Option([], "--metric", help="Metric(s) the recommendation must satisfy (default: tortuosity, "
                                     "conductivity, surface area)."),
    plot: Path = typer.Option(None, "--plot", help="PNG of CI vs compute time (default: <image>_rve.png, or rve.png)."),
    as_json: bool = typer.Option(False, "--json", help="Print the full result as JSON instead of tables."),
) -> None:
    """Representativity: metrics on sub-cubes of several sizes, CI per size, recommended cube size and count."""
    from electroforge.cli.characterize import load_image, parse_options
    from electroforge.plots_rve import plot_rve
    from electroforge.rve import DEFAULT_TARGET_METRICS, analyse

    if (image is None) == (generator is None):
        raise ValidationError("rve: give either an IMAGE or --generator NAME (not both)")
    edges = _parse_sizes(sizes)
    if image is not None:
        ms = load_image(image, voxel_size, phases)
        default_plot = image.with_name(image.stem + "_rve.png")
    else:
        from electroforge.cli.generate import parse_shape
        from electroforge.pipeline import check_generator_params, parse_assignments

        params = parse_assignments(param, what="--param")
        gen = STATE.registry().create("generator", generator)
        check_generator_params(gen, params)
        dims = parse_shape(shape)
        with console.status(f"generating {'x'.join(map(str, dims))} with {generator} ..."):
            ms = gen.generate(params, dims, seed)
        default_plot = Path("rve.png")
    comp = STATE.registry().create("characterizer", characterizer, **parse_options(option))
    status = None if as_json else console.status("characterizing ...")

    def progress(edge, i, n):
        if status is not None:
            status.update(f"characterizing {edge}³ cube {i + 1}/{n} with {characterizer} ...")

    if status is not None:
        status.start()
    try:
        result = analyse(ms, comp.characterize, sizes=edges, count=count, target_ci=target_ci,
                         target_metrics=tuple(metric) or DEFAULT_TARGET_METRICS, seed=seed,
                         characterizer_name=characterizer, progress=progress)
    finally:
        if status is not None:
            status.stop()
    skipped = [e for e in edges if e > min(ms.shape)]
    plot_path = plot_rve(result, plot or default_plot)
    if as_json:
        out = result.to_dict()
        out["plot"] = str(plot_path)
        out["skipped_sizes"] = skipped
        print_json(out)
        return
    if skipped:
        err_console.print(f"note: edges {skipped} do not fit in the {'x'.join(map(str, ms.shape))} volume; skipped")
    _print_tables(result)
    console.print(f"wrote {plot_path}")


def _fmt(v: float, rel: bool = False) -> str:
    if not math.isfinite(v):
        return "-"
    return f"{100 * v:.2f}%" if rel else f"{v:.4g}"


def _print_tables(result) -> None:
    bias = result.tortuosity_bias()
    names = list(result.target_metrics) + [n for n in ("volume_fraction_pore", "binder_coverage")
                                          if n not in result.target_metrics]
    sizes = Table(title=f"sub-cubes ({result.characterizer}, {result.voxel_size_m * 1e6:g} µm voxels)")
    for col in ("edge (voxels)", "edge (µm)", "cubes ok/run", "disjoint cubes that fit", "s per cube", "τ bias vs largest"):
        sizes.add_column(col, justify="right")
    for s in result.sizes:
        sizes.add_row(f"{s.edge_vox}", f"{s.edge_vox * result.voxel_size_m * 1e6:.1f}", f"{s.ok}/{s.count}",
                      f"{s.available}", f"{s.seconds_per_cube:.2f}", _fmt(bias[s.edge_vox], True))
    console.print(sizes)
    table = Table(title=f"metrics per edge (95% CI half-width as % of the mean; cubes needed for {result.target_ci:.1%})")
    for col in ("metric", "edge", "mean", "std", "95% CI", "cubes needed"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for n in names:
        for k, s in enumerate(result.sizes):
            st = s.stats.get(n)
            if st is None:
                continue
            need = st.cubes_needed(result.target_ci)
            table.add_row(n if k == 0 else "", f"{s.edge_vox}", _fmt(st.mean), _fmt(st.std),
                          _fmt(st.relative_ci95, True), "-" if need is None else str(need),
                          end_section=k == len(result.sizes) - 1)
    console.print(table)
    rec = result.recommendation
    if rec is None:
        console.print(f"recommendation: none — {result.note}")
    else:
        console.print(
            f"recommendation: {rec.count} cubes of {rec.edge_vox}³ voxels reach a 95% CI within "
            f"{result.target_ci:.1%} of the mean for {', '.join(result.target_metrics)} (~{rec.seconds:.0f} s of characterization)"
        )
    for w in result.warnings:
        console.print(f"[yellow]warning:[/] {w}")


def register(app: typer.Typer) -> None:
    app.command("rve")(rve)
