"""Benchmark: PyBaMM cell simulator build time vs re-solve time (CC and CP), 4680 cell.

Baseline measured in the same run: a *rebuild* per evaluation (a fresh simulator, i.e. what a
simulator without the build cache would pay) against a *re-solve* of a cached build with new
design inputs (tortuosity, conductivity, area). Also: a new geometry (thickness) in the same simulator, which reuses the PyBaMM model object but
needs a new mesh, build and first solve. Prints median seconds per evaluation and the speed-up
of re-solve over rebuild.

Run: .venv/bin/python benchmarks/bench_simulator.py [--repeats 5]
"""
from __future__ import annotations

import electroforge  # noqa: F401,I001  (before torch: passive OpenMP waiting, see electroforge/__init__.py)
import argparse
import os
import statistics
import time

os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")

from electroforge.cells import cell_from_name  # noqa: E402
from electroforge.model import ConstantCurrent, ConstantPower, Electrode, Metrics  # noqa: E402
from electroforge.plugins.pybamm.simulator import PyBaMMSimulator  # noqa: E402


def metrics(tau: float, sigma: float, area: float) -> Metrics:
    return Metrics(volume_fractions={"pore": 0.33, "active": 0.62, "binder": 0.05}, specific_surface_area_per_m=area,
                   binder_coverage=0.2, tortuosity_factor=tau, effective_conductivity_S_per_m=sigma)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--model", default="DFN")
    args = ap.parse_args()
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    cell = cell_from_name("4680")
    designs = [metrics(1.8 + 0.5 * i, 0.05 + 0.05 * i, 3e5 + 3e4 * i) for i in range(args.repeats)]
    PyBaMMSimulator(model=args.model).simulate(Electrode(designs[0], thickness_m=70e-6), cell, ConstantCurrent(1.0))  # import + warm-up
    print(f"PyBaMM {args.model}, 4680 cell, 70 µm cathode, {args.repeats} designs per row")
    print(f"{'protocol':>9} {'rebuild+solve (s)':>18} {'build only (s)':>15} {'new geometry (s)':>15} {'re-solve (s)':>13} {'speed-up':>9}")
    for protocol in (ConstantCurrent(1.0), ConstantPower(50.0)):
        rebuild, build_only = [], []
        for m in designs:  # baseline: a new simulator per evaluation rebuilds the model
            sim = PyBaMMSimulator(model=args.model)
            t = time.perf_counter()
            sim.simulate(Electrode(m, thickness_m=70e-6), cell, protocol)
            rebuild.append(time.perf_counter() - t)
            build_only.append(sim.stats["build_s"])
        sim = PyBaMMSimulator(model=args.model)
        sim.simulate(Electrode(designs[0], thickness_m=70e-6), cell, protocol)  # the one build
        resolve = []
        for m in designs:
            t = time.perf_counter()
            sim.simulate(Electrode(m, thickness_m=70e-6), cell, protocol)
            resolve.append(time.perf_counter() - t)
        geometry = []  # same simulator, a new thickness: cached model object, new mesh + first solve
        for i, m in enumerate(designs):
            t = time.perf_counter()
            sim.simulate(Electrode(m, thickness_m=(72.0 + i) * 1e-6), cell, protocol)
            geometry.append(time.perf_counter() - t)
        rb, bo, rs = statistics.median(rebuild), statistics.median(build_only), statistics.median(resolve)
        ng = statistics.median(geometry)
        print(f"{protocol.label:>9} {rb:18.3f} {bo:15.3f} {ng:15.3f} {rs:13.3f} {rb / rs:8.1f}x")
    print("budget (docs/benchmarks.md): < 0.2 s per re-solve")


if __name__ == "__main__":
    main()
