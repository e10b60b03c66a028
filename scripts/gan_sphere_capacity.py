"""Ablation of the spheres design's cell size and slots by what they can represent.

    python scripts/gan_sphere_capacity.py [--size 128] [--seeds 2] [--cells 12 16 20] [--slots 2 3 4]
                                          [--markdown runs/sphere_capacity.md]

At each held-out point of ``benchmarks/generator_fidelity.py`` the procedural generator packs
``--seeds`` volumes; :func:`electroforge.plugins.gan.capacity.slot_capacity` keeps in every cell
the spheres a design can hold and reports the active phase's intersection over union with the
full packing (after the same fraction matching the GAN uses), the share of particles without a
slot and the share whose radius exceeds the design's maximum. A design below ~0.95 cannot draw
the simulator's packings however long it trains (see docs/generators.md, "Tenth round").
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generator_fidelity import UNIT_POINTS  # noqa: E402

from electroforge.plugins.gan import fidelity as fd  # noqa: E402
from electroforge.plugins.gan.capacity import slot_capacity  # noqa: E402
from electroforge.plugins.procedural.generator import PARAMETERS, ProceduralGenerator  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--cells", type=int, nargs="+", default=[12, 16, 20])
    ap.add_argument("--slots", type=int, nargs="+", default=[2, 3, 4])
    ap.add_argument("--markdown", type=Path)
    args = ap.parse_args(argv)
    t0, load0 = time.time(), os.getloadavg()[0]
    gen = ProceduralGenerator()
    shape = (args.size,) * 3
    volumes = []
    for u in UNIT_POINTS:
        p = fd.unit_to_params(u, PARAMETERS)
        for seed in range(args.seeds):
            active = gen.generate(p, shape, seed).labels == 1
            volumes.append((gen.particle_packing(p, shape, seed), active))
    per_cell = np.mean([[len(s) * c ** 3 / args.size ** 3 for c in args.cells] for s, _ in volumes], axis=0)
    lines = [f"procedural packings: {len(UNIT_POINTS)} held-out points × {args.seeds} seeds at {args.size}³; "
             f"mean particles per cell: " + ", ".join(f"{c}³ {n:.2f}" for c, n in zip(args.cells, per_cell)), "",
             "| cell (voxels) | slots | radius max (voxels) | IoU active (mean, worst) | particles without a slot | radii clipped |",
             "|---|---|---|---|---|---|"]
    for cell in args.cells:
        for slots in args.slots:
            rows = [slot_capacity(s, a, cell, slots) for s, a in volumes]
            iou = [r["iou"] for r in rows]
            lines.append(f"| {cell} | {slots} | {cell - 4} | {np.mean(iou):.3f} ({min(iou):.3f}) | "
                         f"{np.mean([r['dropped'] for r in rows]):.1%} | {np.mean([r['clipped'] for r in rows]):.1%} |")
    lines += ["", f"({time.time() - t0:.0f} s; load average {load0:.1f} at start, {os.getloadavg()[0]:.1f} at end)"]
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
