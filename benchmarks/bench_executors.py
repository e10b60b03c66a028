"""Executor throughput: a batch of 8 CPU-bound evaluations on 1 vs 2 workers, and the overhead of
Dask vs in-process for tiny evaluations.

Uses the fake components of tests/fakes/ef_fakes.py (installed as a throw-away distribution):
``burn_s`` spins the CPU for that much process time per evaluation, so the numbers measure the
executors, not the physics. Worker start-up is timed separately (warm-up batch) and excluded from
the throughput. Ratios are against the in-process baseline measured in the same run.

    .venv/bin/python benchmarks/bench_executors.py [--burn 1.0] [--tiny 40]
"""
from __future__ import annotations

import electroforge  # noqa: F401,I001  (before torch: passive OpenMP waiting, see electroforge/__init__.py)
import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from fakes.fakedist import config_text, install_fake_dist, on_path  # noqa: E402


def jobs(n, start=0):
    return [(start + k, {"x": 0.1 + 0.8 * k / max(1, n - 1), "y": 0.5}, 0) for k in range(n)]


def timed(executor, batch):
    t = time.perf_counter()
    evs = list(executor.run(batch))
    dt = time.perf_counter() - t
    assert len(evs) == len(batch)
    return dt, evs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--burn", type=float, default=1.0, help="CPU seconds per evaluation (batch benchmark)")
    ap.add_argument("--tiny", type=int, default=40, help="tiny evaluations for the overhead benchmark")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    from electroforge.config import load_config
    from electroforge.executors import DaskExecutor, InProcessExecutor, ProcessPoolExecutor
    from electroforge.registry import get_registry

    with tempfile.TemporaryDirectory() as d, on_path(install_fake_dist(Path(d) / "dist")):
        heavy_path, tiny_path = Path(d) / "heavy.toml", Path(d) / "tiny.toml"
        heavy_path.write_text(config_text(budget=8, batch=8, gen={"burn_s": args.burn}))
        tiny_path.write_text(config_text(budget=args.tiny, batch=args.tiny))
        heavy, tiny = load_config(heavy_path), load_config(tiny_path)

        print(f"# load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"# batch of 8 evaluations, {args.burn:g} CPU-s each (this machine: 2 cores, shared)")
        base_t, base_evs = timed(InProcessExecutor(heavy, get_registry()), jobs(8))
        print(f"in-process        : {base_t:6.2f} s  {8 / base_t * 60:6.1f} evaluations/min  ratio 1.00")
        results = {}
        for workers in (1, 2):
            ex = ProcessPoolExecutor(heavy, workers=workers)
            t = time.perf_counter()
            ex._ensure_pool()
            startup = time.perf_counter() - t
            dt, evs = timed(ex, jobs(8, start=100))
            ex.close()
            results[workers] = dt
            same = all((a.status, a.error, round(a.objective, 12) if a.ok else None)
                       == (b.status, b.error, round(b.objective, 12) if b.ok else None)
                       for a, b in zip(base_evs, sorted(evs, key=lambda e: e.index)))
            print(f"pool, {workers} worker(s) : {dt:6.2f} s  {8 / dt * 60:6.1f} evaluations/min  "
                  f"ratio {base_t / dt:4.2f}  (start-up {startup:.1f} s, same results: {same})")
        print(f"speed-up 2 vs 1 worker: {results[1] / results[2]:.2f}x")

        print(f"\n# overhead for {args.tiny} tiny evaluations (no sleep, no burn)")
        ip = InProcessExecutor(tiny, get_registry())
        timed(ip, jobs(3, start=1000))  # warm
        t_ip, _ = timed(ip, jobs(args.tiny))
        print(f"in-process        : {t_ip / args.tiny * 1e3:7.2f} ms/evaluation  ratio 1.0")
        pool = ProcessPoolExecutor(tiny, workers=1)
        timed(pool, jobs(3, start=1000))
        t_pool, _ = timed(pool, jobs(args.tiny))
        pool.close()
        print(f"pool, 1 worker    : {t_pool / args.tiny * 1e3:7.2f} ms/evaluation  ratio {t_pool / t_ip:.1f}")
        dask = DaskExecutor(tiny, local_workers=1)
        t = time.perf_counter()
        timed(dask, jobs(3, start=1000))  # starts the LocalCluster and builds the worker's components
        startup = time.perf_counter() - t
        per = []
        for rep in range(3):
            dt, _ = timed(dask, jobs(args.tiny, start=2000 + rep * args.tiny))
            per.append(dt / args.tiny)
        dask.close()
        t_dask = statistics.median(per)
        print(f"Dask LocalCluster : {t_dask * 1e3:7.2f} ms/evaluation  ratio {t_dask / (t_ip / args.tiny):.1f}  "
              f"(start-up {startup:.1f} s; +{(t_dask - t_ip / args.tiny) * 1e3:.1f} ms per evaluation)")


if __name__ == "__main__":
    main()
