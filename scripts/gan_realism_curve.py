"""The realism measures of a training run over its updates, from full fidelity reports.

    python benchmarks/generator_fidelity.py --size 64 --seeds 3 --weights W.pt --json runs/fid/W_64.json
    python scripts/gan_realism_curve.py runs/fid/*_64.json --out docs/gan_realism_curve.png --markdown curve.md

Each JSON (``generator_fidelity.py --json``) is one export of the run; its ``steps`` places it on the
curve. Four panels: the fidelity score against its noise floor; the classifier two-sample accuracy
(mean and worst point; 0.5 = indistinguishable, target 0.70); the Euler characteristic of each phase
in units of procedural's seed-to-seed spread (target 2); particle diameter and particle-size
distribution errors (target 10 %). ``--markdown`` also writes the numbers as a table.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def load_reports(paths: list[Path]) -> list[dict]:
    reports = []
    for p in paths:
        try:
            rep = json.loads(p.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise SystemExit(f"gan_realism_curve: {p}: not a fidelity report ({type(exc).__name__})") from None
        if "steps" not in rep or "gan" not in rep:
            raise SystemExit(f"gan_realism_curve: {p}: not a generator_fidelity.py --json report (no 'steps'/'gan')")
        reports.append(rep)
    return sorted(reports, key=lambda r: r["steps"])


def rows(reports: list[dict]) -> list[dict]:
    out = []
    for r in reports:
        acc = [v["gan"] if isinstance(v, dict) else v for v in r.get("classifier_accuracy", {}).values()]
        g = r["gan"]
        out.append({
            "steps": int(r["steps"]), "score": r["score"], "floor": r["noise_floor_score"],
            "acc_mean": sum(acc) / len(acc) if acc else float("nan"), "acc_max": max(acc) if acc else float("nan"),
            "euler_active": g["euler_active_spread"], "euler_pore": g["euler_pore_spread"],
            "euler_binder": g["euler_binder_spread"], "particle_d": 100 * g["particle_d_rel"],
            "psd_w1": 100 * g["psd_w1_rel"], "weights": r.get("weights", ""), "size": r.get("size"),
        })
    return out


def markdown(table: list[dict]) -> str:
    head = ("| update | score (floor) | classifier mean / worst | Euler active / pore / binder (× spread) "
            "| particle d | PSD W1 |\n|---|---|---|---|---|---|\n")
    return head + "".join(
        f"| {t['steps']:,} | {t['score']:.2f} ({t['floor']:.2f}) | {t['acc_mean']:.2f} / {t['acc_max']:.2f} "
        f"| {t['euler_active']:.1f} / {t['euler_pore']:.1f} / {t['euler_binder']:.1f} "
        f"| {t['particle_d']:.1f} % | {t['psd_w1']:.1f} % |\n" for t in table)


def plot(table: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = [t["steps"] for t in table]

    def panel(a, series, target, ylabel, reference=None):
        """``series``: (key, label, marker) per line; a dotted target line, an optional dashed reference."""
        for key, label, marker in series:
            a.plot(x, [t[key] for t in table], marker, label=label)
        if reference is not None:
            a.axhline(reference[0], color="grey", lw=0.8, ls="--", label=reference[1])
        a.axhline(target, color="k", lw=0.8, ls=":", label="target")
        a.set_ylabel(ylabel)
        a.legend(fontsize=8)

    fig, ax = plt.subplots(2, 2, figsize=(10, 6.5), sharex=True)
    ax[0, 0].plot(x, [t["floor"] for t in table], "--", color="grey", label="noise floor")
    panel(ax[0, 0], [("score", "gan", "o-")], 1.0, "fidelity score")
    panel(ax[0, 1], [("acc_mean", "mean over points", "o-"), ("acc_max", "worst point", "s-")], 0.7,
          "classifier accuracy", reference=(0.5, "indistinguishable"))
    ax[1, 0].set_yscale("log")
    panel(ax[1, 0], [("euler_active", "active", "o-"), ("euler_pore", "pore", "o-"), ("euler_binder", "binder", "o-")],
          2.0, "Euler char. error (× seed spread)")
    panel(ax[1, 1], [("particle_d", "particle diameter", "o-"), ("psd_w1", "size distribution W1", "s-")], 10.0,
          "error (%)")
    for a in ax[1]:
        a.set_xlabel("generator updates")
    size = table[0].get("size")
    fig.suptitle(f"realism over training ({size}³, held-out points)" if size else "realism over training")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("reports", type=Path, nargs="+", help="generator_fidelity.py --json files")
    ap.add_argument("--out", type=Path, default=Path("runs/gan_realism_curve.png"))
    ap.add_argument("--markdown", type=Path, default=None)
    args = ap.parse_args(argv)
    table = rows(load_reports(args.reports))
    plot(table, args.out)
    text = markdown(table)
    if args.markdown:
        args.markdown.write_text(text)
    print(text, end="")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
