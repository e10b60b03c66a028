"""Benchmark of the `trieste` optimizer against the `sobol` baseline (budget: docs/benchmarks.md).

1. ask time (wall and CPU seconds) at 10 / 30 / 60 observations in 2-D and 4-D (budget: < 2 s at 60);
2. evaluations needed to get within 1% of the optimum of analytic objectives, BO vs Sobol, over
   several seeds, reported as the ratio Sobol / BO (budget: Sobol >= 3x BO).

Run:  .venv/bin/python benchmarks/bench_optimizer.py [--seeds 0 1 2] [--skip-timing] [--skip-race]
Prints plain text; the machine load is printed too, because asks are CPU-bound.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

from electroforge import DesignSpace
from electroforge.plugins.baselines import SobolOptimizer
from electroforge.plugins.baselines.history import sobol_unit_points
from electroforge.plugins.trieste import TriesteOptimizer


def space(dim: int) -> DesignSpace:
    return DesignSpace.from_bounds({f"x{i}": (0.0, 1.0) for i in range(dim)})


def bump2(u: np.ndarray) -> np.ndarray:
    """2-D anisotropic Gaussian, max 1 at (0.62, 0.31)."""
    u = np.atleast_2d(u)
    return np.exp(-0.5 * (((u[:, 0] - 0.62) / 0.15) ** 2 + ((u[:, 1] - 0.31) / 0.2) ** 2))


def bump4(u: np.ndarray) -> np.ndarray:
    """4-D isotropic Gaussian, max 1 at (0.3, 0.6, 0.45, 0.7)."""
    u = np.atleast_2d(u)
    return np.exp(-4.0 * np.sum((u - np.array([0.3, 0.6, 0.45, 0.7])) ** 2, axis=1))


def branin_neg(u: np.ndarray) -> np.ndarray:
    """Negated Branin on its usual box (three global maxima of -0.397887)."""
    u = np.atleast_2d(u)
    x, y = -5 + 15 * u[:, 0], 15 * u[:, 1]
    b, c, t = 5.1 / (4 * np.pi**2), 5 / np.pi, 1 / (8 * np.pi)
    return -((y - b * x**2 + c * x - 6) ** 2 + 10 * (1 - t) * np.cos(x) + 10)


PROBLEMS = {  # name: (function, dim, optimum value, BO budget)
    "bump-2d": (bump2, 2, 1.0, 30),
    "branin-2d": (branin_neg, 2, -0.397887, 40),
    "bump-4d": (bump4, 4, 1.0, 60),
}


def within_1pc(y: float, fmax: float) -> bool:
    return y >= fmax - 0.01 * abs(fmax)


def bench_ask_time(dim: int, counts=(10, 30, 60)) -> None:
    sp = space(dim)
    rng = np.random.default_rng(0)
    for n_obs in counts:
        x = rng.random((n_obs, dim))
        y = bump4(np.resize(x, (n_obs, 4))) if dim == 4 else bump2(x)
        opt = TriesteOptimizer(space=sp, seed=0)
        opt.tell([sp.from_unit(r) for r in x], list(y), [False] * n_obs)
        t0, c0 = time.perf_counter(), time.process_time()
        opt.ask(1)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        t0 = time.perf_counter()
        opt.ask(4)
        wall4 = time.perf_counter() - t0
        first = "   (first model-based asks of this dimension in the process: include tracing)" if n_obs == counts[0] else ""
        print(f"  ask {dim}-D at {n_obs:2d} observations: ask(1) {wall:5.2f} s wall, {cpu:5.2f} s CPU; "
              f"ask(4) (local penalisation) {wall4:5.2f} s wall   [load {os.getloadavg()[0]:.1f}]{first}")


def evals_bo(fn, dim, fmax, budget, seed) -> int:
    sp = space(dim)
    opt = TriesteOptimizer(space=sp, seed=seed)
    for n in range(1, budget + 1):
        (p,) = opt.ask(1)
        y = float(fn(sp.to_unit(p))[0])
        opt.tell([p], [y], [False])
        if within_1pc(y, fmax):
            return n
    return budget + 1


def evals_sobol(fn, dim, fmax, seed, cap=1 << 16) -> int:
    y = fn(sobol_unit_points(dim, seed, 0, cap))  # the `sobol` optimizer's exact points, vectorised
    hits = np.flatnonzero(y >= fmax - 0.01 * abs(fmax))
    return int(hits[0]) + 1 if hits.size else cap + 1


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--problems", nargs="+", default=list(PROBLEMS))
    ap.add_argument("--skip-timing", action="store_true")
    ap.add_argument("--skip-race", action="store_true")
    args = ap.parse_args()
    print(f"cpus {os.cpu_count()}, load {os.getloadavg()[0]:.1f}")
    # sanity: the vectorised Sobol count is what the optimizer itself proposes
    so = SobolOptimizer(space=space(2), seed=0)
    assert np.allclose(space(2).to_unit(so.ask(8)), sobol_unit_points(2, 0, 0, 8))
    if not args.skip_timing:
        from electroforge.plugins.trieste import _tf

        t0 = time.perf_counter()
        _tf.load()  # what the first model-based ask pays
        print(f"import tensorflow+gpflow+trieste: {time.perf_counter() - t0:.1f} s (once per process)")
        for dim in (2, 4):
            bench_ask_time(dim)
    if not args.skip_race:
        print("evaluations to within 1% of the optimum (BO budget per problem; Sobol up to 65536):")
        for name in args.problems:
            fn, dim, fmax, budget = PROBLEMS[name]
            bo, sob = [], []
            for seed in args.seeds:
                t0 = time.perf_counter()
                bo.append(evals_bo(fn, dim, fmax, budget, seed))
                sob.append(evals_sobol(fn, dim, fmax, seed))
                print(f"  {name} seed {seed}: BO {bo[-1]:3d}, Sobol {sob[-1]:5d}  ({time.perf_counter() - t0:.0f} s)", flush=True)
            ratio = np.median(np.array(sob) / np.array(bo))
            print(f"  {name}: BO median {np.median(bo):.0f}, Sobol median {np.median(sob):.0f}, "
                  f"Sobol/BO median ratio {ratio:.1f}x  (>{budget} means not reached)")


if __name__ == "__main__":
    main()
