"""``electroforge ragone A.nc B.nc -o ragone.png``: Wh/L vs W of each campaign's best design."""

from __future__ import annotations

from pathlib import Path

import typer

from electroforge.cli._common import STATE, console, print_json


def ragone(
    campaigns: list[Path] = typer.Argument(..., help="Campaign files; the best design of each is swept."),
    output: Path = typer.Option(Path("ragone.png"), "--output", "-o", help="PNG to write."),
    sweep_power: str = typer.Option("5:300:12", "--sweep-power", help="START:STOP:N powers in W (log-spaced)."),
    baseline: Path = typer.Option(
        None,
        "--baseline",
        help="A campaign whose best design is put into the first campaign's cell and cell "
        "simulator (e.g. the case-study-1 half-cell optimum in the 4680) and compared.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the curves and crossover as JSON."),
) -> None:
    """Re-simulate the best design of each campaign over a power sweep; mark where the curves cross.

    With ``--baseline``, each campaign's gain in Wh/L over the baseline design at its own objective
    power is reported, in %.
    """

    from electroforge.ragone import (
        best_design_curve,
        crossover_power_W,
        gain_percent,
        parse_sweep,
        plot_ragone,
        stored_config,
        value_at_power,
    )
    from electroforge.store import CampaignStore
    from electroforge.units import parse_power_W

    powers = parse_sweep(sweep_power)
    curves, own_power, stores = {}, {}, {}
    for path in campaigns:
        store = CampaignStore.open(path)
        label = f"{store.attributes.get('campaign_name', path.stem)} ({path.name})"
        stores[label] = store
        with console.status(f"sweeping {len(powers)} powers for the best design of {path.name} ..."):
            curves[label] = best_design_curve(store, powers, registry=STATE.registry())
        protocol = store.objective_protocol
        own_power[label] = parse_power_W(protocol) if protocol.endswith("W") else None
    labels = list(curves)
    baseline_label = None
    if baseline is not None:
        base_store = CampaignStore.open(baseline)
        fmt = stored_config(stores[labels[0]]).cell_format if labels else "4680"
        baseline_label = f"baseline: {base_store.attributes.get('campaign_name', baseline.stem)} optimum in {fmt}"
        with console.status(f"sweeping {len(powers)} powers for the baseline design of {baseline.name} ..."):
            curves[baseline_label] = best_design_curve(
                base_store,
                powers,
                registry=STATE.registry(),
                cell_format=fmt,
                simulator_from=stores[labels[0]] if labels else None,
            )
    crossover = crossover_power_W(curves[labels[0]], curves[labels[1]]) if len(labels) == 2 else None
    crossover_h = None
    if crossover is not None:
        at_crossover = [value_at_power(curves[lab], crossover, "duration_s") for lab in labels]
        durations = [d for d in at_crossover if d is not None]
        crossover_h = sum(durations) / len(durations) / 3600.0 if durations else None
    gains = {}
    if baseline_label is not None:
        for lab in labels:
            p = own_power[lab]
            gains[lab] = {
                "power_W": p,
                "gain_percent": None if p is None else gain_percent(curves[lab], curves[baseline_label], p),
            }
    plot_ragone(curves, output, crossover=crossover, dashed=[baseline_label] if baseline_label else [])
    if as_json:
        print_json(
            {
                "curves": {
                    k: [
                        {
                            "power_W": p.mean_power_W,
                            "energy_density_Wh_per_L": p.energy_density_Wh_per_L,
                            "specific_energy_Wh_per_kg": p.specific_energy_Wh_per_kg,
                            "duration_s": p.duration_s,
                        }
                        for p in v
                    ]
                    for k, v in curves.items()
                },
                "crossover_power_W": crossover,
                "crossover_discharge_h": crossover_h,
                "gains_over_baseline": gains,
                "plot": str(output),
            }
        )
        return
    for label, curve in curves.items():
        if curve:
            console.print(
                f"{label}: {curve[0].energy_density_Wh_per_L:.0f} Wh/L at {curve[0].mean_power_W:.3g} W, "
                f"{curve[-1].energy_density_Wh_per_L:.0f} Wh/L at {curve[-1].mean_power_W:.3g} W"
            )
    if len(labels) == 2:
        console.print(
            f"crossover power: {crossover:.3g} W (a {crossover_h:.2g} h discharge)"
            if crossover
            else "the curves do not cross in the sweep"
        )
    for lab, g in gains.items():
        if g["gain_percent"] is None:
            console.print(f"{lab}: no comparison with the baseline at {g['power_W']} W (outside a curve)")
        else:
            console.print(f"{lab}: {g['gain_percent']:+.1f} % Wh/L over the baseline at {g['power_W']:.3g} W")
    console.print(f"wrote {output}")


def register(app: typer.Typer) -> None:
    app.command("ragone")(ragone)
