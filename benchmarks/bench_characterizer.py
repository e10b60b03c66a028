"""Benchmark: the four taufactor metrics at 64³, 96³, 128³ on this machine, against taufactor as-is.

For each size a fresh subprocess (so peak RSS is per size) builds the same synthetic three-phase
electrode (plugins/taufactor/synthetic.py: 55 % active spheres of radius 6 voxels, 10 % binder) and
times, in the same process:

* ``electroforge``: ``TauFactorCharacterizer.characterize`` (percolation checks, marching-cubes area,
  face-count coverage, pore tortuosity and solid conductivity by ``--solver``, default ``multigrid``),
  per stage and in total, and its peak RSS (measured before the baseline runs);
* ``baseline``: taufactor as a user would call it out of the box: ``metrics.volume_fraction``,
  ``metrics.specific_surface_area(method='marching_cubes', smoothing=False)``,
  ``metrics.interfacial_areas`` (coverage), ``Solver(...).solve()`` and ``MultiPhaseSolver(...).solve()``
  with their default settings.

Prints one line per size with seconds, voxels per second, the ratio baseline/electroforge (> 1 means
electroforge is faster), the relative difference of tau and sigma_eff against taufactor as-is, peak
RSS, and the machine's 1-minute load average before and after the size (the machine is shared:
compare ratios, not absolute times). Usage::

    .venv/bin/python benchmarks/bench_characterizer.py [--sizes 64,96,128] [--threads 2] [--solver multigrid]
                                                       [--no-baseline] [--repeat 1]
"""
from __future__ import annotations

import electroforge  # noqa: F401,I001  (before torch: passive OpenMP waiting, see electroforge/__init__.py)
import argparse
import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import time
import warnings


def _one(n: int, threads: int, baseline: bool, solver: str = "multigrid", repeat: int = 1) -> dict:
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    import taufactor  # noqa: F401  (import cost outside the timings)

    from electroforge import Microstructure
    from electroforge.plugins.taufactor import TauFactorCharacterizer
    from electroforge.plugins.taufactor.synthetic import synthetic_electrode

    lab = synthetic_electrode(n, seed=1)
    ms = Microstructure(labels=lab, voxel_size_m=4e-7)
    char = TauFactorCharacterizer(threads=threads, device="cpu", solver=solver)
    char.characterize(Microstructure(labels=synthetic_electrode(24, seed=2), voxel_size_m=4e-7))  # warm-up
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    load = os.getloadavg()[0]
    times = []
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        m = char.characterize(ms)
        times.append(time.perf_counter() - t0)
    ours = min(times)
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {
        "N": n, "threads": threads, "solver": solver, "load1": load, "seconds": ours, "voxels_per_s": n**3 / ours,
        "stages_s": {k[5:-2]: v for k, v in m.extras.items() if k.startswith("time_")},
        "tau": m.tortuosity_factor, "sigma_S_per_m": m.effective_conductivity_S_per_m,
        "ssa_per_m": m.specific_surface_area_per_m, "coverage": m.binder_coverage,
        "iterations": [m.extras.get("tortuosity_iterations"), m.extras.get("conductivity_iterations")],
        "peak_rss_MB": rss1, "rss_before_MB": rss0,
    }
    if baseline:
        import taufactor as tf
        from taufactor import metrics as M

        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            M.volume_fraction(lab, phases={"pore": 0, "active": 1, "binder": 2})
            M.specific_surface_area(lab, phases={"active": 1}, method="marching_cubes", device="cpu", smoothing=False)
            M.interfacial_areas(lab, device="cpu")
            s = tf.Solver((lab == 0).astype(np.uint8), device="cpu")
            s.solve(verbose=False)
            mp = tf.MultiPhaseSolver(lab, cond={1: 0.18, 2: 10.0}, device="cpu")
            mp.solve(verbose=False)
            base = time.perf_counter() - t0
        out.update({"baseline_seconds": base, "baseline_tau": float(s.tau[0]),
                    "baseline_sigma": float(mp.D_eff[0]), "ratio": base / ours,
                    "tau_rel_diff": m.extras["tortuosity_factor_raw"] / float(s.tau[0]) - 1.0,
                    "sigma_rel_diff": m.effective_conductivity_S_per_m / float(mp.D_eff[0]) - 1.0,
                    "baseline_iterations": [int(s.iter), int(mp.iter)]})
    out["load1_end"] = os.getloadavg()[0]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="64,96,128")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--solver", default="multigrid", choices=["multigrid", "sor", "taufactor"])
    ap.add_argument("--repeat", type=int, default=1, help="time ours this many times, report the fastest")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(_one(args.one, args.threads, not args.no_baseline, args.solver, args.repeat)))
        return
    print(f"# bench_characterizer: threads={args.threads}, solver={args.solver}, cpu_count={os.cpu_count()}, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'N':>4} {'ours_s':>8} {'Mvox/s':>7} {'base_s':>8} {'ratio':>6} {'surf_s':>7} {'tau_s':>7} {'sigma_s':>8} "
          f"{'iters':>10} {'base_iters':>10} {'tau':>6} {'dtau':>8} {'sigma':>7} {'dsigma':>8} {'RSS_MB':>7} {'load1':>11}")
    for n in [int(s) for s in args.sizes.split(",")]:
        cmd = [sys.executable, __file__, "--one", str(n), "--threads", str(args.threads), "--solver", args.solver,
               "--repeat", str(args.repeat)]
        if args.no_baseline:
            cmd.append("--no-baseline")
        p = subprocess.run(cmd, capture_output=True, text=True)
        lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
        if p.returncode or not lines:
            print(f"{n:>4} FAILED: {p.stderr.strip().splitlines()[-1] if p.stderr.strip() else p.returncode}")
            continue
        r = json.loads(lines[-1])
        st = r["stages_s"]
        it = "/".join(str(int(i)) if i else "-" for i in r["iterations"])
        nan = float("nan")
        bit = "/".join(str(i) for i in r.get("baseline_iterations", ["-", "-"]))
        print(f"{n:>4} {r['seconds']:8.2f} {r['voxels_per_s'] / 1e6:7.3f} {r.get('baseline_seconds', nan):8.2f} "
              f"{r.get('ratio', nan):6.2f} {st['surface']:7.2f} {st['tortuosity']:7.2f} {st['conductivity']:8.2f} "
              f"{it:>10} {bit:>10} {r['tau']:6.3f} {r.get('tau_rel_diff', nan):+8.1e} {r['sigma_S_per_m']:7.4f} "
              f"{r.get('sigma_rel_diff', nan):+8.1e} {r['peak_rss_MB']:7.0f} {r['load1']:5.2f}/{r['load1_end']:5.2f}",
              flush=True)
    print(f"# load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
