"""Closed-loop benchmark (issue 6): per-iteration wall time by stage, and BO vs Sobol.

    python benchmarks/bench_campaign.py stages [--config quickstart] [--budget 6]
    python benchmarks/bench_campaign.py bo-vs-sobol [--config case-study-2] [--budget 30] [--seeds 0 1 2]

``stages`` runs a short campaign and prints the mean seconds per stage (generate, characterize,
simulate, optimizer ask+tell) per evaluation. ``bo-vs-sobol`` runs the same config with the trieste and
sobol optimizers for each seed and reports, for each, the number of evaluations needed to come within
1% of the best objective seen by either (the baseline ratio, Sobol/BO, in the same run).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from electroforge.campaign import Campaign  # noqa: E402
from electroforge.config import load_config  # noqa: E402


def run(cfg, path: Path):
    t0 = time.perf_counter()
    evs = Campaign(cfg, path, overwrite=True, progress=False).run()
    return evs, time.perf_counter() - t0


def stages(args) -> dict:
    cfg = load_config(args.config).with_overrides(budget=args.budget, shape=args.shape)
    with tempfile.TemporaryDirectory() as tmp:
        evs, wall = run(cfg, Path(tmp) / "c.nc")
    per = {k: statistics.mean(e.timings_s.get(k, 0.0) for e in evs) for k in ("generate", "characterize", "simulate", "total")}
    per["optimizer_and_store"] = wall / len(evs) - per["total"]
    per["iteration"] = wall / len(evs)
    out = {"config": args.config, "shape": cfg.shape, "budget": cfg.budget, "seconds_per_evaluation": per,
           "failed": sum(not e.ok for e in evs)}
    print(json.dumps(out, indent=1))
    return out


def to_within(evs, target: float, tol: float = 0.01) -> float:
    for k, e in enumerate(sorted(evs, key=lambda e: e.index), 1):
        if e.ok and e.objective >= target - tol * abs(target):
            return k
    return math.inf


def bo_vs_sobol(args) -> dict:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            res = {}
            for opt in ("trieste", "sobol"):
                cfg = load_config(args.config).with_overrides(budget=args.budget, seed=seed, optimizer=opt,
                                                              shape=args.shape)
                res[opt], _ = run(cfg, Path(tmp) / f"{opt}{seed}.nc")
            best = max(e.objective for evs in res.values() for e in evs if e.ok)
            row = {"seed": seed, "best": best, **{f"{o}_evals_to_1pct": to_within(res[o], best) for o in res},
                   **{f"{o}_best": max((e.objective for e in res[o] if e.ok), default=math.nan) for o in res}}
            rows.append(row)
            print(json.dumps(row))
    bo = [r["trieste_evals_to_1pct"] for r in rows]
    sb = [r["sobol_evals_to_1pct"] for r in rows]
    summary = {"config": args.config, "budget": args.budget, "seeds": args.seeds, "bo_median": statistics.median(bo),
               "sobol_median": statistics.median(sb), "ratio_sobol_over_bo": statistics.median(sb) / statistics.median(bo),
               "note": "inf = not within 1% of the best within the budget"}
    print(json.dumps(summary, indent=1))
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["stages", "bo-vs-sobol"])
    ap.add_argument("--config", default=None)
    ap.add_argument("--budget", type=int, default=None)
    ap.add_argument("--shape", type=int, default=None)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = ap.parse_args()
    if args.what == "stages":
        args.config = args.config or "quickstart"
        args.budget = args.budget or 6
        stages(args)
    else:
        args.config = args.config or "case-study-2"
        args.budget = args.budget or 30
        bo_vs_sobol(args)


if __name__ == "__main__":
    main()
