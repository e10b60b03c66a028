"""``electroforge report CAMPAIGN.nc``: best designs, convergence, parameter effects, voltage losses."""
from __future__ import annotations

from pathlib import Path

import typer

from electroforge.cli._common import console, print_json


def report(
    campaign: Path = typer.Argument(..., help="Campaign file written by `electroforge optimize`."),
    output_dir: Path = typer.Option(None, "--output-dir", "-o", help="Folder for report.md and PNGs (default <campaign>_report/)."),
    compare: list[Path] = typer.Option([], "--compare", help="Another campaign (e.g. the Sobol baseline) for the convergence plot."),
    as_json: bool = typer.Option(False, "--json", help="Print n_evaluations, n_failed, best, objective_name as JSON."),
    no_gp: bool = typer.Option(False, "--no-gp", help="Skip the GP parameter-effect fit (faster)."),
) -> None:
    """Summarise a campaign: best designs, plots and a Markdown report."""
    from electroforge.report import write_report
    from electroforge.store import CampaignStore

    store = CampaignStore.open(campaign)
    others = [CampaignStore.open(p) for p in compare]
    out = output_dir or campaign.with_name(campaign.stem + "_report")
    info = write_report(store, out, compare=others, with_gp=not no_gp)
    if as_json:
        print_json(info)
        return
    console.print(f"{info['n_evaluations']} evaluations, {info['n_failed']} failed; objective {info['objective_name']}")
    if info["best"]:
        b = info["best"]
        params = ", ".join(f"{k}={v:.4g}" for k, v in b["params"].items())
        console.print(f"best: [bold]{b['objective']:.4g}[/] at {params}")
    for f in info["files"].values():
        console.print(f"wrote {f}")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
