"""``electroforge generate``: a microstructure from any registered generator."""
from __future__ import annotations

from pathlib import Path

import typer

from electroforge.cli._common import STATE, console
from electroforge.errors import ValidationError
from electroforge.pipeline import check_generator_params, parse_assignments


def generate(
    generator: str = typer.Option("procedural", "--generator", "-g", help="Generator name (see `electroforge plugins`)."),
    param: list[str] = typer.Option([], "--param", "-p", metavar="NAME=VALUE", help="A generator parameter (repeatable)."),
    shape: str = typer.Option("64", "--shape", help="Cube edge N, or NXxNYxNZ (voxels; x through the thickness)."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same volume)."),
    output: Path = typer.Option(..., "--output", "-o", help="Output file: .tif, .nc or .npy."),
    preview: Path = typer.Option(None, "--preview", help="Also write a PNG of three orthogonal slices."),
    allow_extrapolation: bool = typer.Option(False, "--allow-extrapolation",
                                             help="Warn instead of failing on parameters outside the generator's bounds."),
) -> None:
    """Generate a 3D three-phase microstructure and write it to a file."""
    from electroforge.imageio import write_microstructure

    params = parse_assignments(param, what="--param")
    dims = parse_shape(shape)
    gen = STATE.registry().create("generator", generator)
    check_generator_params(gen, params, allow_extrapolation=allow_extrapolation)
    if allow_extrapolation and hasattr(gen, "allow_extrapolation"):
        gen.allow_extrapolation = True  # a generator that checks its own envelope (e.g. gan) may go on
    with console.status(f"generating {dims[0]}x{dims[1]}x{dims[2]} with {generator} ..."):
        ms = gen.generate(params, dims, seed)
    write_microstructure(ms, output)
    vf = ", ".join(f"{k} {v:.3f}" for k, v in ms.volume_fractions().items())
    console.print(f"wrote {output} ({dims[0]}x{dims[1]}x{dims[2]} voxels at {ms.voxel_size_m * 1e6:g} µm; {vf})")
    if preview is not None:
        from electroforge.plots import plot_microstructure_slices

        plot_microstructure_slices(ms, preview)
        console.print(f"wrote {preview}")


def parse_shape(text: str) -> tuple[int, int, int]:
    """``"64"`` -> (64, 64, 64); ``"96x64x64"`` -> (96, 64, 64)."""
    parts = str(text).lower().replace("*", "x").split("x")
    try:
        dims = [int(p) for p in parts]
    except ValueError:
        raise ValidationError(f"--shape {text!r}: expected N or NXxNYxNZ with integers") from None
    if len(dims) == 1:
        dims = dims * 3
    if len(dims) != 3 or min(dims) < 4 or max(dims) > 1024:
        raise ValidationError(f"--shape {text!r}: each edge must be 4..1024 voxels, three edges at most")
    return tuple(dims)  # type: ignore[return-value]


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)
