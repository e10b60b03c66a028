"""How far each uncertain input of the 4680 preset moves the teardown validation.

The validation (docs/cell-simulator.md, "Validation against the Tesla 4680 teardown") puts the
teardown's own cathode into ``Cylindrical.preset("4680")`` with the anode the measured roll holds
at the measured electrode area (111 µm per side) and the lithium loss fitted to the teardown's
T-cell (7.06 %). Several inputs of that preset are assumptions or single-source numbers (can
wall and ends, foil thicknesses, the anode thickness, the lithium loss, the electrolyte fill and
density, the separator). This script changes one of them at
a time, within the range public teardown reports and common cell practice span, and reports
winding length, electrode area, capacity, energy, mass and Wh/kg at C/20 next to the teardown's
figures, so a reader sees which unknown could close which gap, and by how much.

    python scripts/cell_sensitivity.py [--rate 0.05] [--markdown docs/_cell_sensitivity.md]

Takes ~60 s (one PyBaMM solve per row).
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

import attrs

from electroforge.cells import (TESLA_4680_ANODE_THICKNESS_IN_CAN_M, TESLA_4680_ANODE_THICKNESS_M,
                                TESLA_4680_LITHIUM_LOSS_FRACTION, TESLA_4680_STACK, Cylindrical,
                                tesla_4680_teardown_cathode)
from electroforge.model import ConstantCurrent
from electroforge.plugins.pybamm.simulator import PyBaMMSimulator

#: Ank et al., J. Electrochem. Soc. 170, 120536 (2023), abstract: 355 g, 622.4 Wh/L, 232.5 Wh/kg.
TEARDOWN_MASS_g = 355.0
TEARDOWN_Wh_per_kg = 232.5
TEARDOWN_Wh = 622.4 * 0.13295


def _stack(**changes) -> Callable[[], dict]:
    return lambda: {"stack": attrs.evolve(TESLA_4680_STACK, **changes)}


#: (label, overrides of the preset). The first row is the preset as the validation uses it.
VARIANTS: list[tuple[str, Callable[[], dict]]] = [
    ("preset (validation)", lambda: {}),
    ("can wall 0.5 mm (ends 0.6 mm)", lambda: {"can_wall_m": 0.0005, "can_end_m": 0.0006}),
    ("can ends 0.4 mm", lambda: {"can_end_m": 0.0004}),
    ("can ends 1.0 mm", lambda: {"can_end_m": 0.0010}),
    ("Cu foil 8 µm", _stack(cu_foil_thickness_m=8e-6)),
    ("Al foil 12 µm", _stack(al_foil_thickness_m=12e-6)),
    ("anode 131 µm per side (published)", lambda: {"anode_thickness_m": TESLA_4680_ANODE_THICKNESS_M}),
    ("anode 117 µm per side", lambda: {"anode_thickness_m": 117e-6}),
    ("no lithium loss (the neutral cell)", lambda: {"lithium_loss_fraction": 0.0}),
    ("lithium loss 6.1 % (fit − 2σ)", lambda: {"lithium_loss_fraction": TESLA_4680_LITHIUM_LOSS_FRACTION - 0.0097}),
    ("lithium loss 8.0 % (fit + 2σ)", lambda: {"lithium_loss_fraction": TESLA_4680_LITHIUM_LOSS_FRACTION + 0.0097}),
    ("separator 12 µm", _stack(separator_thickness_m=12e-6, separator_areal_mass_kg_per_m2=0.0054 * 1.2)),
    ("electrolyte 1.20 g/cm³", _stack(electrolyte_density_kg_per_m3=1200.0)),
    ("electrolyte 10 % beyond the pores", lambda: {"electrolyte_excess_fraction": 0.10}),
    ("plates + hardware 5 g lighter", lambda: {"collector_plates_mass_kg": 0.004, "hardware_mass_kg": 0.002}),
]


def run(rate_C: float) -> list[dict]:
    sim = PyBaMMSimulator()
    cathode = tesla_4680_teardown_cathode()
    rows = []
    for label, make in VARIANTS:
        overrides = {"anode_thickness_m": TESLA_4680_ANODE_THICKNESS_IN_CAN_M,
                     "lithium_loss_fraction": TESLA_4680_LITHIUM_LOSS_FRACTION, **make()}
        cell = Cylindrical.preset("4680", **overrides)
        layout = sim.layout(cathode, cell)
        perf = sim.simulate(cathode, cell, ConstantCurrent(rate_C))
        rows.append({"label": label, "winding_m": layout.winding_length_m, "area_m2": layout.electrode_area_m2,
                     "capacity_Ah": perf.capacity_Ah, "energy_Wh": perf.energy_Wh, "mass_g": layout.mass_kg * 1e3,
                     "Wh_per_kg": perf.specific_energy_Wh_per_kg})
    return rows


def to_markdown(rows: list[dict], rate_C: float) -> str:
    base = rows[0]
    lines = [f"| input changed (C/{1 / rate_C:.0f}) | winding (m) | area (m²) | Ah | Wh | mass (g) | Δ mass | "
             f"Wh/kg | vs teardown |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        d_mass = "" if r is base else f"{r['mass_g'] - base['mass_g']:+.1f} g"
        lines.append(f"| {r['label']} | {r['winding_m']:.2f} | {r['area_m2']:.3f} | {r['capacity_Ah']:.2f} | "
                     f"{r['energy_Wh']:.1f} | {r['mass_g']:.1f} | {d_mass} | {r['Wh_per_kg']:.1f} | "
                     f"{100 * (r['Wh_per_kg'] / TEARDOWN_Wh_per_kg - 1):+.1f} % |")
    lines.append(f"| teardown (Ank 2023) | | | | {TEARDOWN_Wh:.1f} | {TEARDOWN_MASS_g:.0f} | | "
                 f"{TEARDOWN_Wh_per_kg} | |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=float, default=0.05, help="C-rate of the discharge (default C/20)")
    ap.add_argument("--markdown", type=Path, default=None, help="also write the table to this file")
    args = ap.parse_args(argv)
    if not args.rate > 0:
        print(f"error: --rate {args.rate}: must be > 0", file=sys.stderr)
        return 2
    table = to_markdown(run(args.rate), args.rate)
    print(table, end="")
    print(f"(load average {' '.join(f'{x:.2f}' for x in os.getloadavg())})")
    if args.markdown:
        args.markdown.write_text(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
