"""``electroforge optimize CONFIG -o FILE.nc``: run a closed-loop campaign (resumable)."""
from __future__ import annotations

from pathlib import Path

import typer

from electroforge.cli._common import STATE, console


def optimize(
    config: str = typer.Argument(..., help="A shipped config (case-study-1, case-study-2, case-study-3-energy, "
                                           "case-study-3-power, quickstart) or a TOML file."),
    output: Path = typer.Option(None, "--output", "-o", help="Campaign file (.nc); default <config name>.nc."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted campaign file."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing campaign file."),
    budget: int = typer.Option(None, "--budget", help="Evaluations in total."),
    batch: int = typer.Option(None, "--batch", help="Designs per optimizer step (evaluated in parallel)."),
    shape: int = typer.Option(None, "--shape", help="Cube edge in voxels."),
    n_cubes: int = typer.Option(None, "--n-cubes", help="Cubes characterised per evaluation."),
    seed: int = typer.Option(None, "--seed", help="Campaign seed."),
    optimizer: str = typer.Option(None, "--optimizer", help="Optimizer name (trieste, sobol, grid, ...)."),
    generator: str = typer.Option(None, "--generator", help="Generator name (procedural, gan, ...)."),
    c_rate: float = typer.Option(None, "--c-rate", help="Constant-current protocol at this C-rate (replaces the protocols)."),
    power: str = typer.Option(None, "--power", help="Constant-power protocol, e.g. 10W (replaces the protocols)."),
    workers: int = typer.Option(0, "--workers", help="Evaluate in a pool of N worker processes."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Run the closed loop: optimizer -> generator -> characterizer -> cell simulator, stored after every evaluation."""
    from electroforge.campaign import Campaign, best_evaluation
    from electroforge.config import load_config
    from electroforge.errors import ValidationError
    from electroforge.model import ConstantCurrent, ConstantPower
    from electroforge.units import parse_power_W

    cfg = load_config(config)
    protocols = None
    if c_rate is not None and power is not None:
        raise ValidationError("give --c-rate or --power, not both")
    if c_rate is not None:
        protocols = (ConstantCurrent(c_rate).label,)
    if power is not None:
        protocols = (ConstantPower(parse_power_W(power)).label,)
    cfg = cfg.with_overrides(
        budget=budget, batch=batch, shape=shape, n_cubes=n_cubes, seed=seed, optimizer=optimizer,
        generator=generator, protocols=protocols, objective_protocol="" if protocols else None,
    )
    output = output or Path(f"{cfg.name}.nc")
    campaign = Campaign(cfg, output, resume=resume, overwrite=overwrite, workers=workers,
                        registry=STATE.registry(), progress=not quiet)
    try:
        evaluations = campaign.run()
    except KeyboardInterrupt:
        n = len(campaign.store.evaluations) if campaign.store else 0
        console.print(f"[yellow]interrupted[/]: {n} evaluations saved in {output}; continue with --resume")
        raise typer.Exit(130) from None
    best = best_evaluation(evaluations)
    n_failed = sum(not e.ok for e in evaluations)
    console.print(f"{len(evaluations)} evaluations ({n_failed} failed) in {output}")
    if best is not None:
        params = ", ".join(f"{k}={v:.4g}" for k, v in best.params.items())
        console.print(f"best {cfg.objective} at {cfg.objective_label}: [bold]{best.objective:.4g}[/] ({params})")
    console.print(f"next: electroforge report {output}")


def register(app: typer.Typer) -> None:
    app.command("optimize")(optimize)
