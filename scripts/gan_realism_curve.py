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
    fig, ax = plt.subplots(2, 2, figsize=(10, 6.5), sharex=True)
    a = ax[0, 0]
    a.plot(x, [t["score"] for t in table], "o-", label="gan")
    a.plot(x, [t["floor"] for t in table], "--", color="grey", label="noise floor")
    a.axhline(1.0, color="k", lw=0.8, ls=":", label="target")
    a.set_ylabel("fidelity score")
    a.legend(fontsize=8)
    a = ax[0, 1]
    a.plot(x, [t["acc_mean"] for t in table], "o-", label="mean over points")
    a.plot(x, [t["acc_max"] for t in table], "s-", label="worst point")
    a.axhline(0.7, color="k", lw=0.8, ls=":", label="target")
    a.axhline(0.5, color="grey", lw=0.8, ls="--", label="indistinguishable")
    a.set_ylabel("classifier accuracy")
    a.legend(fontsize=8)
    a = ax[1, 0]
    for key, label in (("euler_active", "active"), ("euler_pore", "pore"), ("euler_binder", "binder")):
        a.plot(x, [t[key] for t in table], "o-", label=label)
    a.axhline(2.0, color="k", lw=0.8, ls=":", label="target")
    a.set_yscale("log")
    a.set_ylabel("Euler char. error (× seed spread)")
    a.legend(fontsize=8)
    a = ax[1, 1]
    a.plot(x, [t["particle_d"] for t in table], "o-", label="particle diameter")
    a.plot(x, [t["psd_w1"] for t in table], "s-", label="size distribution W1")
    a.axhline(10.0, color="k", lw=0.8, ls=":", label="target")
    a.set_ylabel("error (%)")
    a.legend(fontsize=8)
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
