"""The race objective around a study's optimum: one-parameter sweeps, mean and noise per point.

From the best design the race found (or ``--at name=value ...``), each ``--sweep name=v1,v2,...``
changes one parameter and evaluates the design at ``--repeats`` fresh evaluation seeds (indices
1000 onwards, the race's ``reference`` seeds) through the real pipeline (48³ cubes, one torch
thread): the mean and the cube-to-cube standard deviation of the objective at every value. This
is what says whether "within 1 % of the best" is a question of finding the optimum or of noise.

    optimizer_race_landscape.py cs3-power --sweep binder_adhesion=0,0.25,0.5,0.75,1 \\
        --sweep mass_loading_mg_per_cm2=14,15,16,16.75,17.5,18,18.5,19,20 --json out.json
"""
from __future__ import annotations

import electroforge  # noqa: F401,I001  (before torch: passive OpenMP waiting, see electroforge/__init__.py)
import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import optimizer_race as race  # noqa: E402


def _assignment(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"{text!r}: expected name=value")
    return name, value


def main() -> None:
    import torch

    from electroforge.pipeline import Components, evaluate_design

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("study", choices=list(race.STUDIES))
    ap.add_argument("--results", default=str(race.DEFAULT_RESULTS))
    ap.add_argument("--at", type=_assignment, action="append", default=[], help="centre override name=value")
    ap.add_argument("--sweep", type=_assignment, action="append", default=[], help="name=v1,v2,...")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    results = Path(args.results)
    found = race.best_observation(race.load_runs(results), args.study)
    if found is None and not args.at:
        raise SystemExit(f"optimizer_race_landscape: no finished runs of {args.study}; give --at")
    cfg, _ = race.study_config(args.study, "sobol", 0, results, race.BUDGET, race.SHAPE, 1)
    centre = dict(found[1]) if found else {}
    centre.update({k: float(v) for k, v in args.at})
    for name, _ in args.sweep + args.at:
        if name not in cfg.space.names:
            raise SystemExit(f"optimizer_race_landscape: {name!r} is not a parameter of {args.study} ({', '.join(cfg.space.names)})")
    components = Components.from_config(cfg)
    print(f"{args.study} around {json.dumps({k: round(v, 4) for k, v in centre.items()})}; load {race.loadavg()}")
    rows = []
    for name, values in args.sweep:
        for v in (float(x) for x in values.split(",")):
            design = {**centre, name: v}
            ys = [evaluate_design(design, components, cfg, index=1000 + i).objective for i in range(args.repeats)]
            row = {"parameter": name, "value": v, "mean": statistics.mean(ys), "sd": statistics.stdev(ys), "values": ys}
            rows.append(row)
            print(f"  {name} = {v:g}: mean {row['mean']:.2f}, sd {row['sd']:.2f} ({100 * row['sd'] / row['mean']:.2f} %)", flush=True)
    print(f"load {race.loadavg()}")
    if args.json:
        Path(args.json).write_text(json.dumps({"study": args.study, "centre": centre, "repeats": args.repeats, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
