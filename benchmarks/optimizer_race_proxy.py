"""Screen settings of the shipped Bayesian optimiser on a cheap stand-in of a race study.

The stand-in is a smoothing thin-plate-spline fit (scipy's ``RBFInterpolator``) to every
observation the race made on the study (``benchmarks/results/optimizer_race/<study>``: all
optimisers, all seeds), plus Gaussian noise of the size the study's ``reference.json`` measured
(``optimizer_race.py reference``). One 40-evaluation run costs seconds instead of minutes, so a
setting can be tried at 8 seeds before it is raced on the real pipeline. A run is scored by the
*noise-free* stand-in value of the best design it has evaluated: evaluations until that is within
1 % of the stand-in's maximum. The stand-in is smoother than the real objective (its peak is a
little lower and wider), so it ranks settings; it does not replace the race.

Variants: ``shipped``; ``matern32``; ``learn-noise``; ``noise-1e-3`` (fixed GP noise 1e-3 instead
of 1e-5); ``n5`` (5 initial points); output warpings applied before standardising:
``log-regret`` (``-log(best - y + 0.05 range)``), ``log-regret-learn`` (the same, noise fitted),
``copula`` (normal scores of the ranks), ``truncate`` (values below the median raised to it).

    optimizer_race_proxy.py cs3-power [--seeds 8] [--variants shipped matern32 ...]
"""
from __future__ import annotations

import electroforge  # noqa: F401,I001  (before torch: passive OpenMP waiting, see electroforge/__init__.py)
import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import optimizer_race as race  # noqa: E402

LOG_REGRET_OFFSET = 0.05


def warp(y: np.ndarray, failed: np.ndarray, method: str) -> np.ndarray:
    """A monotone transform of the successful objectives (the maximiser is unchanged)."""
    from scipy.stats import norm, rankdata

    y = np.asarray(y, dtype=float).copy()
    bad = np.asarray(failed, dtype=bool) | ~np.isfinite(y)
    ok = y[~bad]
    if ok.size < 2:
        return y
    if method.startswith("log-regret"):
        y[~bad] = -np.log(ok.max() - ok + LOG_REGRET_OFFSET * max(float(ok.max() - ok.min()), 1e-9))
    elif method == "copula":
        y[~bad] = norm.ppf((rankdata(ok) - 0.5) / ok.size)
    elif method == "truncate":
        y[~bad] = np.maximum(ok, np.median(ok))
    return y


def make_optimizer(variant: str, space, seed: int):
    from electroforge.plugins.trieste.optimizer import TriesteOptimizer
    from electroforge.plugins.trieste.targets import standardise_with_imputation

    options = {"matern32": {"kernel": "matern32"}, "learn-noise": {"learn_noise": True},
               "noise-1e-3": {"noise_variance": 1e-3}, "n5": {"n_initial": 5},
               "log-regret-learn": {"learn_noise": True}}.get(variant, {})
    if variant in ("log-regret", "log-regret-learn", "copula", "truncate"):

        class Warped(TriesteOptimizer):
            def _targets_for_minimisation(self):
                h = self.history
                z, _, _ = standardise_with_imputation(warp(h.objectives, h.failed, variant), h.failed, self.impute_margin)
                return -z, self.noise_variance

        return Warped(space, seed=seed, **options)
    if variant not in ("shipped", "matern32", "learn-noise", "noise-1e-3", "n5"):
        raise SystemExit(f"optimizer_race_proxy: unknown variant {variant!r}")
    return TriesteOptimizer(space, seed=seed, **options)


def main() -> None:
    from scipy.interpolate import RBFInterpolator

    from electroforge.design import DesignSpace

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("study", choices=list(race.STUDIES))
    ap.add_argument("--results", default=str(race.DEFAULT_RESULTS))
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--budget", type=int, default=race.BUDGET)
    ap.add_argument("--noise-sd", type=float, default=None, help="default: the study's reference.json")
    ap.add_argument("--variants", nargs="+", default=["shipped", "matern32", "learn-noise", "log-regret"])
    args = ap.parse_args()
    results = Path(args.results)
    runs = [r for r in race.load_runs(results) if r["study"] == args.study]
    if not runs:
        raise SystemExit(f"optimizer_race_proxy: no finished runs of {args.study} under {results}")
    ref = race.load_reference(results, args.study)
    noise_sd = args.noise_sd if args.noise_sd is not None else (ref["sd"] if ref else None)
    if noise_sd is None:
        raise SystemExit(f"optimizer_race_proxy: give --noise-sd or run `optimizer_race.py reference --studies {args.study}`")
    cfg, _ = race.study_config(args.study, "sobol", 0, results, race.BUDGET, race.SHAPE)
    space: DesignSpace = cfg.space
    obs = [(p, y) for r in runs for p, y in zip(r["params"], r["objectives"]) if y is not None]
    x = space.to_unit([p for p, _ in obs])
    y = np.array([v for _, v in obs])
    x, keep = np.unique(np.round(x, 9), axis=0, return_index=True)
    y = y[keep]
    f = RBFInterpolator(x, y, kernel="thin_plate_spline", smoothing=1.0, neighbors=60, degree=1)
    grid = np.vstack([np.random.default_rng(0).random((200_000, space.dim)), x])
    top = float(f(grid).max())
    target = 0.99 * top
    print(f"{args.study}: stand-in from {len(y)} observations; its maximum {top:.2f} (observed {y.max():.2f}); "
          f"noise sd {noise_sd:.2f}; load {race.loadavg()}")
    for variant in args.variants:
        counts, finals, c0 = [], [], time.process_time()
        for seed in range(args.seeds):
            opt = make_optimizer(variant, space, seed)
            rng = np.random.default_rng(1000 + seed)
            best, hit = -math.inf, None
            for i in range(args.budget):
                p = opt.ask(1)[0]
                true = float(f(space.to_unit([p]))[0])
                opt.tell([p], [true + noise_sd * rng.standard_normal()], [False])
                best = max(best, true)
                if hit is None and best >= target:
                    hit = i + 1
            counts.append(hit if hit is not None else args.budget + 1)
            finals.append(best)
        med = statistics.median(counts)
        shown = ", ".join(str(c) if c <= args.budget else f">{args.budget}" for c in counts)
        print(json.dumps({"variant": variant, "median_evals_to_1pc": med if med <= args.budget else f">{args.budget}",
                          "per_seed": shown, "median_best": round(statistics.median(finals), 2),
                          "cpu_s": round(time.process_time() - c0, 1), "load": race.loadavg()}), flush=True)


if __name__ == "__main__":
    main()
