"""Fidelity of the ``gan`` generator against the ``procedural`` generator it was trained on.

At held-out interior points of the parameter cube (none of the 15 training points: corners, face
centres, centre), both generators make ``--seeds`` volumes of ``--size``³; the ``taufactor``
characterizer measures volume fractions, active-pore specific surface area, binder coverage,
pore tortuosity factor and solid effective conductivity. Errors: absolute for volume fractions
(target 0.02), relative to the procedural mean for surface area and tortuosity (target 10%).
Also reports each generator's porosity error against the request.

Usage: python benchmarks/generator_fidelity.py [--size 64] [--seeds 3] [--markdown out.md]
"""
from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np
import torch

NAMES = ("am_mass_fraction", "porosity", "binder_adhesion")
BOUNDS = {"am_mass_fraction": (0.85, 0.97), "porosity": (0.25, 0.50), "binder_adhesion": (0.0, 1.0)}
#: held-out points in unit-cube coordinates (training used only 0, 0.5 and 1)
UNIT_POINTS = [(0.25, 0.25, 0.75), (0.75, 0.25, 0.25), (0.25, 0.75, 0.25), (0.75, 0.75, 0.75), (0.6, 0.4, 0.3)]


def point(u):
    return {n: round(BOUNDS[n][0] + ui * (BOUNDS[n][1] - BOUNDS[n][0]), 4) for n, ui in zip(NAMES, u)}


def measure(char, ms) -> dict[str, float]:
    m = char.characterize(ms)
    return {
        "pore": m.volume_fractions["pore"],
        "active": m.volume_fractions["active"],
        "binder": m.volume_fractions["binder"],
        "surface_area_per_um": m.specific_surface_area_per_m * 1e-6,
        "binder_coverage": m.binder_coverage,
        "tortuosity": m.tortuosity_factor,
        "sigma_S_per_m": m.effective_conductivity_S_per_m,
    }


def mean(rows, key):
    vals = [r[key] for r in rows]
    finite = [v for v in vals if math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.inf


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--markdown", default=None, help="also write the tables to this file")
    args = ap.parse_args()
    torch.set_num_threads(1)
    from electroforge.plugins.gan.generator import GanGenerator
    from electroforge.plugins.procedural import ProceduralGenerator
    from electroforge.registry import get_registry

    char = get_registry().create("characterizer", "taufactor", device="cpu", threads=1)
    gens = {"procedural": ProceduralGenerator(), "gan": GanGenerator(device="cpu")}
    n = args.size
    t0 = time.perf_counter()
    lines = [f"GAN weights: {gens['gan'].weights.name}, {gens['gan'].steps} training steps; "
             f"{n}³ voxels at 0.4 µm, {args.seeds} seeds per point and generator; load avg {os.getloadavg()[0]:.1f}", ""]
    lines += ["| point (am, ε, adhesion) | gen | pore | active | binder | a (1/µm) | coverage | τ | σ_eff (S/m) |",
              "|---|---|---|---|---|---|---|---|---|"]
    errs = {k: [] for k in ("pore", "active", "binder", "surface_area_per_um", "tortuosity", "porosity_vs_request")}
    for u in UNIT_POINTS:
        p = point(u)
        res = {}
        for gname, gen in gens.items():
            rows = [measure(char, gen.generate(p, (n, n, n), seed=s)) for s in range(args.seeds)]
            res[gname] = {k: mean(rows, k) for k in rows[0]}
            nonperc = sum(not math.isfinite(r["tortuosity"]) for r in rows)
            r = res[gname]
            tau = f"{r['tortuosity']:.2f}" + (f" ({nonperc} blocked)" if nonperc else "")
            lines.append(f"| {p['am_mass_fraction']:.3f}, {p['porosity']:.3f}, {p['binder_adhesion']:.2f} | {gname} | "
                         f"{r['pore']:.3f} | {r['active']:.3f} | {r['binder']:.3f} | {r['surface_area_per_um']:.3f} | "
                         f"{r['binder_coverage']:.2f} | {tau} | {r['sigma_S_per_m']:.4f} |")
        g, q = res["gan"], res["procedural"]
        for k in ("pore", "active", "binder"):
            errs[k].append(abs(g[k] - q[k]))
        errs["surface_area_per_um"].append(abs(g["surface_area_per_um"] / q["surface_area_per_um"] - 1))
        errs["tortuosity"].append(abs(g["tortuosity"] / q["tortuosity"] - 1))
        errs["porosity_vs_request"].append(abs(g["pore"] - p["porosity"]))
    lines += ["", "| error of gan vs procedural (mean over seeds, per point) | max | mean | target |", "|---|---|---|---|"]
    targets = {"pore": "≤ 0.02 abs", "active": "≤ 0.02 abs", "binder": "≤ 0.02 abs",
               "surface_area_per_um": "≤ 10% rel", "tortuosity": "≤ 10% rel", "porosity_vs_request": "≤ 0.02 abs"}
    for k, v in errs.items():
        rel = k in ("surface_area_per_um", "tortuosity")
        fmt = (lambda x: f"{100 * x:.1f}%") if rel else (lambda x: f"{x:.3f}")
        lines.append(f"| {k} | {fmt(max(v))} | {fmt(float(np.mean(v)))} | {targets[k]} |")
    lines += ["", f"(fidelity run took {time.perf_counter() - t0:.0f} s)"]
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
