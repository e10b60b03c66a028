"""Does the ensemble's uncertainty change the campaign's choices? Measured, with a control.

Runs the demonstration campaign of :mod:`electroforge_ensemble.demo` (real ``gan-ensemble``,
real ``trieste``, analytic characterizer/simulator) for several seeds twice: with the generator's
uncertainty passed to BO as per-observation noise, and with it switched off (the baseline, same
seeds, same run). Prints, per arm, the mean stored uncertainty inside vs outside the training
envelope, how many BO proposals (after the shared Sobol start) lie outside the envelope, and where
the best design lies.

    python contrib/electroforge-ensemble/benchmarks/campaign_noise.py --seeds 3 --budget 16
"""
from __future__ import annotations

import electroforge  # noqa: F401,I001  (before torch: passive OpenMP waiting, see electroforge/__init__.py)
import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget", type=int, default=16)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "docs" / "campaign_noise.png")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    from electroforge.campaign import best_evaluation
    from electroforge_ensemble.demo import run_demo
    from electroforge_ensemble.generator import EnsembleGenerator

    gen = EnsembleGenerator()
    lo, hi = gen.training_envelope["porosity"]
    n_init = 5
    summary, runs = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for noise in (False, True):
            arm = "noise" if noise else "no noise"
            out_bo, n_bo, u_in, u_out, best_out, best_por = 0, 0, [], [], 0, []
            for s in range(args.seeds):
                evs = run_demo(noise, Path(tmp) / f"{arm}-{s}.nc", budget=args.budget, seed=11 + s)
                runs[(arm, s)] = evs
                for e in evs:
                    outside = not lo <= e.params["porosity"] <= hi
                    if e.ok:
                        (u_out if outside else u_in).append(e.uncertainty)
                    if e.index >= n_init + (n_init % 2):  # BO proposals, after the Sobol start
                        n_bo += 1
                        out_bo += outside
                best = best_evaluation(evs)
                best_por.append(best.params["porosity"])
                best_out += not lo <= best.params["porosity"] <= hi
            summary[arm] = (out_bo, n_bo, best_out, best_por, u_in, u_out)
            print(f"{arm:>8}: BO proposals outside the envelope {out_bo}/{n_bo}; best outside in {best_out}/{args.seeds} "
                  f"runs (best porosity {', '.join(f'{p:.3f}' for p in best_por)}); mean stored uncertainty inside "
                  f"{np.mean(u_in):.4f}, outside {np.mean(u_out) if u_out else float('nan'):.4f}", flush=True)
    a, b = summary["no noise"], summary["noise"]
    ratio = (b[0] / b[1]) / (a[0] / a[1]) if a[0] else float("nan")
    print(f"share of BO proposals outside the envelope, noise / no noise: {ratio:.2f}x")
    plot(runs, (lo, hi), args.seeds, args.out)
    return 0


def plot(runs, envelope, seeds: int, out: Path) -> None:
    """Porosity of every evaluation by index, one panel per arm, runs overlaid; best marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from electroforge.campaign import best_evaluation

    fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.2), sharey=True)
    for ax, arm in zip(axes, ("no noise", "noise")):
        ax.axhspan(*envelope, color="0.9", label="training envelope")
        for s in range(seeds):
            evs = runs[(arm, s)]
            line, = ax.plot([e.index for e in evs], [e.params["porosity"] for e in evs], "o-", ms=3, lw=0.8, alpha=0.8)
            b = best_evaluation(evs)
            ax.plot([b.index], [b.params["porosity"]], "*", ms=12, color=line.get_color(), mec="k")
        ax.set_title(f"BO {'with' if arm == 'noise' else 'without'} the ensemble's noise", fontsize=9)
        ax.set_xlabel("evaluation index (first 6: Sobol)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("proposed porosity")
    axes[0].legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    print(f"wrote {out} ({out.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    raise SystemExit(main())
