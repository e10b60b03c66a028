"""Cube-size boundary bias of the tortuosity factor on generated electrodes, as a campaign sees it.

A campaign characterises cubes generated at ``[generator] shape`` voxels. For each edge L this
script generates ``--count`` independent cubes (seeds 0..count-1) at one parameter point with the
named generator, characterises them (taufactor plugin, default multigrid solver, 1 thread) and
prints the mean tortuosity factor, its relative 95 % CI, the bias against the largest edge (with
the 95 % CI of that difference) and the seconds per cube, plus the machine's load average. Usage::

    .venv/bin/python benchmarks/bench_rve_bias.py [--generator procedural] [--sizes 64,96,128,160]
        [--count 16,12,8,4] [-p porosity=0.40 -p am_mass_fraction=0.9 -p binder_adhesion=0.5] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--generator", default="procedural")
    ap.add_argument("--sizes", default="64,96,128,160")
    ap.add_argument("--count", default="16,12,8,4", help="cubes per size (one value or one per size)")
    ap.add_argument("-p", "--param", action="append", default=[])
    ap.add_argument("--voxel", type=float, default=4e-7, help="voxel edge in m (procedural ignores it)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", default="")
    args = ap.parse_args()

    import numpy as np

    from electroforge.pipeline import parse_assignments
    from electroforge.registry import get_registry
    from electroforge.rve import relative_ci95

    params = parse_assignments(args.param or ["am_mass_fraction=0.9", "porosity=0.40", "binder_adhesion=0.5"])
    sizes = [int(s) for s in args.sizes.split(",")]
    counts = [int(c) for c in args.count.split(",")]
    counts = counts * len(sizes) if len(counts) == 1 else counts
    reg = get_registry()
    gen = reg.create("generator", args.generator)
    char = reg.create("characterizer", "taufactor", threads=args.threads)
    char.characterize(gen.generate(params, (24, 24, 24), 999))  # warm-up
    print(f"# bench_rve_bias: {args.generator} {params}, threads={args.threads}, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    rows = []
    for n, count in zip(sizes, counts):
        taus, secs = [], []
        for seed in range(count):
            ms = gen.generate(params, (n, n, n), seed)
            t0 = time.perf_counter()
            m = char.characterize(ms)
            secs.append(time.perf_counter() - t0)
            if math.isfinite(m.tortuosity_factor):
                taus.append(m.tortuosity_factor)
        arr = np.asarray(taus)
        rows.append({"edge": n, "count": count, "ok": len(taus), "mean_tau": float(arr.mean()),
                     "rel_ci95": relative_ci95(arr), "seconds_per_cube": float(np.mean(secs)),
                     "load1": os.getloadavg()[0], "taus": [float(x) for x in arr]})
        r = rows[-1]
        print(f"{n:>4} {r['ok']:>3}/{count:<3} tau {r['mean_tau']:.4f} ± {r['rel_ci95']:.2%}  "
              f"{r['seconds_per_cube']:.2f} s/cube  load {r['load1']:.2f}", flush=True)
    ref = rows[-1]
    print(f"# bias vs {ref['edge']}³ (mean tau at L / mean at {ref['edge']}³ - 1; ± 95 % CI of the difference)")
    for r in rows:
        bias = r["mean_tau"] / ref["mean_tau"] - 1
        ci = math.hypot(r["rel_ci95"], ref["rel_ci95"]) if r is not ref else 0.0
        r["bias"], r["bias_ci95"] = bias, ci
        print(f"{r['edge']:>4} bias {bias:+.2%} ± {ci:.2%}")
    print(f"# load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"params": params, "generator": args.generator, "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
