"""Case study 2 with the GAN in the loop against the same loop on ``procedural`` (issue 11, item 6).

For each power: runs ``case-study-2`` (procedural) and ``case-study-2-gan`` (with ``--weights``)
with the same seed and budget, then re-evaluates each loop's best design with **both** generators
on ``--cubes`` cubes (the same cube seeds), so the two optima are judged by one yardstick: the
procedural generator, which the GAN imitates. Prints a markdown table (and writes it with
``--markdown``); the campaign files go to ``--out``.

Usage::

    python scripts/gan_loop_comparison.py --weights plugins/gan/weights/default.pt --powers 10 200
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def generator_spec(generator: str, weights: Path | None):
    """``procedural``, or ``gan`` with ``weights`` (None: the shipped ones)."""
    from electroforge.config import ComponentSpec

    return ComponentSpec("gan", {"weights": str(weights)} if weights else {}) if generator == "gan" \
        else ComponentSpec("procedural")


def loop_config(generator: str, power_W: float, budget: int, weights: Path | None):
    """case-study-2 (or its GAN twin) at one constant power."""
    import electroforge as ef
    from electroforge.model import ConstantPower

    cfg = ef.load_config("case-study-2-gan" if generator == "gan" else "case-study-2")
    return cfg.with_overrides(budget=budget, protocols=(ConstantPower(power_W).label,), objective_protocol="",
                              generator=generator_spec(generator, weights))


def reevaluate(params: dict[str, float], cfg, generator: str, weights: Path | None, cubes: int) -> float:
    """The objective of ``params`` under ``cfg`` with ``generator`` on ``cubes`` cubes."""
    import electroforge as ef

    ev = ef.evaluate(params, cfg.with_overrides(generator=generator_spec(generator, weights), n_cubes=cubes))
    if not ev.ok:
        raise RuntimeError(f"re-evaluation with {generator} failed at {params}: {ev.error}")
    return float(ev.objective)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", type=Path, default=None, help="GAN weights (default: the shipped ones)")
    ap.add_argument("--powers", type=float, nargs="+", default=[10.0, 200.0], help="constant powers (W)")
    ap.add_argument("--budget", type=int, default=30)
    ap.add_argument("--cubes", type=int, default=4, help="cubes per re-evaluation")
    ap.add_argument("--out", type=Path, default=REPO / "runs" / "gan_loop")
    ap.add_argument("--markdown", type=Path, default=None)
    args = ap.parse_args(argv)

    import electroforge as ef
    from electroforge.campaign import best_evaluation

    args.out.mkdir(parents=True, exist_ok=True)
    rows = ["| power | loop | its optimum (AM, ε) | objective the loop saw | re-evaluated, procedural | "
            "re-evaluated, gan |", "| --- | --- | --- | --- | --- | --- |"]
    for power in args.powers:
        best, seen = {}, {}
        for gen in ("procedural", "gan"):
            cfg = loop_config(gen, power, args.budget, args.weights)
            t = time.perf_counter()
            evals = ef.Campaign(cfg, args.out / f"cs2-{gen}-{power:g}W.nc", overwrite=True).run()
            ev = best_evaluation(evals)
            key = tuple(sorted(ev.params.items()))  # both loops often end at the same corner: evaluate it once
            if key not in seen:
                seen[key] = {g: reevaluate(dict(ev.params), cfg, g, args.weights, args.cubes) for g in ("procedural", "gan")}
            again = seen[key]
            best[gen] = (ev, again)
            print(f"{power:g} W {gen}: {time.perf_counter() - t:.0f} s (load {os.getloadavg()[0]:.1f}), best "
                  f"{ev.objective:.1f} at {dict(ev.params)}; re-evaluated {again}", flush=True)
        ref = best["procedural"][1]["procedural"]
        for gen, (ev, again) in best.items():
            rel = "" if gen == "procedural" else f" ({100 * (again['procedural'] / ref - 1):+.1f} %)"
            p = ev.params
            rows.append(f"| {power:g} W | {gen} | {p['am_mass_fraction']:.3f}, {p['porosity']:.3f} | "
                        f"{ev.objective:.1f} | {again['procedural']:.1f}{rel} | {again['gan']:.1f} |")
    table = "\n".join(rows)
    print(table)
    if args.markdown:
        args.markdown.write_text(table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
