"""``electroforge ragone A.nc B.nc -o ragone.png``: Wh/L vs W of each campaign's best design."""
from __future__ import annotations

from pathlib import Path

import typer

from electroforge.cli._common import STATE, console, print_json


def ragone(
    campaigns: list[Path] = typer.Argument(..., help="Campaign files; the best design of each is swept."),
    output: Path = typer.Option(Path("ragone.png"), "--output", "-o", help="PNG to write."),
    sweep_power: str = typer.Option("5:300:12", "--sweep-power", help="START:STOP:N powers in W (log-spaced)."),
    as_json: bool = typer.Option(False, "--json", help="Print the curves and crossover as JSON."),
) -> None:
    """Re-simulate the best design of each campaign over a power sweep; mark where the curves cross."""
    from electroforge.ragone import best_design_curve, crossover_power_W, parse_sweep, plot_ragone
    from electroforge.store import CampaignStore

    powers = parse_sweep(sweep_power)
    curves = {}
    for path in campaigns:
        store = CampaignStore.open(path)
        label = f"{store.attributes.get('campaign_name', path.stem)} ({path.name})"
        with console.status(f"sweeping {len(powers)} powers for the best design of {path.name} ..."):
            curves[label] = best_design_curve(store, powers, registry=STATE.registry())
    crossover = None
    labels = list(curves)
    if len(labels) == 2:
        crossover = crossover_power_W(curves[labels[0]], curves[labels[1]])
    plot_ragone(curves, output, crossover=crossover)
    if as_json:
        print_json({
            "curves": {k: [{"power_W": p.mean_power_W, "energy_density_Wh_per_L": p.energy_density_Wh_per_L,
                            "specific_energy_Wh_per_kg": p.specific_energy_Wh_per_kg, "duration_s": p.duration_s}
                           for p in v] for k, v in curves.items()},
            "crossover_power_W": crossover,
            "plot": str(output),
        })
        return
    for label, curve in curves.items():
        if curve:
            console.print(f"{label}: {curve[0].energy_density_Wh_per_L:.0f} Wh/L at {curve[0].mean_power_W:.3g} W, "
                          f"{curve[-1].energy_density_Wh_per_L:.0f} Wh/L at {curve[-1].mean_power_W:.3g} W")
    if len(labels) == 2:
        console.print(f"crossover power: {crossover:.3g} W" if crossover else "the curves do not cross in the sweep")
    console.print(f"wrote {output}")


def register(app: typer.Typer) -> None:
    app.command("ragone")(ragone)
