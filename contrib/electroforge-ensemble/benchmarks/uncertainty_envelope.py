"""Measure the gan-ensemble's relative uncertainty inside and outside its training envelope.

Sweeps porosity (0.15-0.60) and am_mass_fraction (0.80-0.99) with the other parameters at the
centre of the envelope, averaging the spread over ``--seeds`` latent seeds, prints a table and the
ratio of the mean uncertainty outside the envelope to the mean inside (the baseline, measured in
the same run), and writes ``docs/uncertainty_envelope.png``.

    python contrib/electroforge-ensemble/benchmarks/uncertainty_envelope.py --seeds 6
"""
from __future__ import annotations

import electroforge  # noqa: F401,I001  (before torch: passive OpenMP waiting, see electroforge/__init__.py)
import argparse
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent


def sweep(gen, name: str, values, seeds: int) -> list[tuple[float, float, float, float]]:
    """Rows (value, envelope distance, mean uncertainty, std over seeds)."""
    rows = []
    for v in values:
        us = [gen.uncertainty({name: float(v)}, seed=s) for s in range(seeds)]
        rows.append((float(v), gen.envelope_distance({name: float(v)}), float(np.mean(us)), float(np.std(us))))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=6)
    ap.add_argument("--out", type=Path, default=HERE.parent / "docs" / "uncertainty_envelope.png")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    from electroforge_ensemble.generator import EnsembleGenerator

    gen = EnsembleGenerator()
    sweeps = {
        "porosity": np.round(np.arange(0.15, 0.601, 0.025), 4),
        "am_mass_fraction": np.round(np.arange(0.80, 0.991, 0.01), 4),
    }
    results = {}
    for name, values in sweeps.items():
        rows = sweep(gen, name, values, args.seeds)
        results[name] = rows
        lo, hi = gen.training_envelope[name]
        print(f"\n{name} (training envelope {lo:g}-{hi:g}; {gen.n_members} members, {args.seeds} seeds, "
              f"{gen.probe_size}^3 probes)")
        print(f"{'value':>8} {'distance':>9} {'uncertainty':>12} {'+-':>7}")
        for v, d, u, s in rows:
            print(f"{v:8.3f} {d:9.3f} {u:12.4f} {s:7.4f}")
        inside = [u for v, d, u, s in rows if d == 0]
        below = [u for v, d, u, s in rows if d > 0 and v < lo]
        above = [u for v, d, u, s in rows if d > 0 and v > hi]
        base = float(np.mean(inside))
        print(f"mean inside {base:.4f}; below/inside {np.mean(below) / base if below else float('nan'):.2f}x; "
              f"above/inside {np.mean(above) / base if above else float('nan'):.2f}x")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.2), sharey=True)
    for ax, (name, rows) in zip(axes, results.items()):
        v, d, u, s = (np.array(c) for c in zip(*rows))
        lo, hi = gen.training_envelope[name]
        ax.axvspan(lo, hi, color="0.9", label="training envelope")
        ax.errorbar(v, 100 * u, yerr=100 * s, fmt="o-", ms=3, capsize=2, label="ensemble spread")
        ax.set_xlabel(name)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("relative uncertainty [%]")
    axes[0].legend(loc="upper center", fontsize=8)
    fig.suptitle(f"gan-ensemble: spread of {gen.n_members} members (mean ± sd over {args.seeds} seeds)", fontsize=10)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=80)
    print(f"\nwrote {args.out} ({args.out.stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
