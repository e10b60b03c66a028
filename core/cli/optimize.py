"""``electroforge optimize CONFIG -o FILE.nc``: run a closed-loop campaign (resumable).

Where evaluations run: in this process (default), ``--workers N`` local processes, or Dask
(``--scheduler tcp://HOST:PORT`` or ``--dask-local N``); see docs/scaling.md. Ctrl-C stops at once
(workers are killed, the evaluations in flight are lost), prints one line
``interrupted: N evaluations saved in FILE; continue with --resume`` and exits with status 130.
"""
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
    target_ci: float = typer.Option(None, "--target-ci", metavar="REL",
                                    help="Characterise cubes until the 95 % CI of the mean tortuosity is within "
                                         "REL (e.g. 0.01), up to --max-cubes; stored as n_cubes and <metric>_ci95."),
    max_cubes: int = typer.Option(None, "--max-cubes", help="Cap on the cubes per evaluation with --target-ci."),
    seed: int = typer.Option(None, "--seed", help="Campaign seed."),
    optimizer: str = typer.Option(None, "--optimizer", help="Optimizer name (trieste, sobol, grid, ...)."),
    generator: str = typer.Option(None, "--generator", help="Generator name (procedural, gan, ...)."),
    c_rate: float = typer.Option(None, "--c-rate", help="Constant-current protocol at this C-rate (replaces the protocols)."),
    power: str = typer.Option(None, "--power", help="Constant-power protocol, e.g. 10W (replaces the protocols)."),
    workers: int = typer.Option(0, "--workers", help="Evaluate in a pool of N worker processes."),
    scheduler: str = typer.Option(None, "--scheduler", metavar="tcp://HOST:PORT",
                                  help="Evaluate on a running Dask scheduler (see docs/scaling.md)."),
    dask_local: int = typer.Option(None, "--dask-local", metavar="N",
                                   help="Evaluate on a Dask LocalCluster of N worker processes."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Run the closed loop: optimizer -> generator -> characterizer -> cell simulator, stored after every evaluation."""
    from electroforge.campaign import Campaign, best_evaluation
    from electroforge.config import load_config
    from electroforge.errors import ValidationError
    from electroforge.model import ConstantCurrent, ConstantPower
    from electroforge.units import parse_power_W

    if workers is not None and workers < 0:
        raise ValidationError(f"--workers {workers}: must be >= 0")
    if dask_local is not None and dask_local < 1:
        raise ValidationError(f"--dask-local {dask_local}: need at least 1 worker")
    if scheduler is not None and "://" not in scheduler:
        raise ValidationError(f"--scheduler {scheduler!r}: expected an address like tcp://HOST:8786")
    if sum(bool(x) for x in (workers and workers > 1, scheduler, dask_local)) > 1:
        raise ValidationError("give only one of --workers, --scheduler, --dask-local")
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
        target_ci=target_ci, max_cubes=max_cubes,
        generator=generator, protocols=protocols, objective_protocol="" if protocols else None,
    )
    output = output or Path(f"{cfg.name}.nc")
    from electroforge.cli.progress import ProgressBar

    campaign = Campaign(cfg, output, resume=resume, overwrite=overwrite, workers=workers or 0,
                        registry=STATE.registry(), progress=None if quiet else ProgressBar(cfg), scheduler=scheduler,
                        dask_local=dask_local or 0)
    try:
        evaluations = campaign.run()
    except KeyboardInterrupt:
        typer.echo(f"interrupted: {_saved(output)} evaluations saved in {output}; continue with --resume", err=True)
        raise typer.Exit(130) from None
    best = best_evaluation(evaluations)
    n_failed = sum(not e.ok for e in evaluations)
    console.print(f"{len(evaluations)} evaluations ({n_failed} failed) in {output}")
    if best is not None:
        params = ", ".join(f"{k}={v:.4g}" for k, v in best.params.items())
        console.print(f"best {cfg.objective} at {cfg.objective_label}: [bold]{best.objective:.4g}[/] ({params})")
    console.print(f"next: electroforge report {output}")


def _saved(path: Path) -> int:
    """Evaluations in the campaign file on disk (what a --resume will find)."""
    import signal

    from electroforge.store import CampaignStore

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the summary
    try:
        return len(CampaignStore.open(path).evaluations) if Path(path).exists() else 0
    except Exception:
        return 0
    finally:
        signal.signal(signal.SIGINT, previous)


def register(app: typer.Typer) -> None:
    app.command("optimize")(optimize)
