"""Fidelity of the ``gan`` generator against the ``procedural`` generator it was trained on.

At held-out interior points of the parameter cube (none of the 15 training points: corners, face
centres, centre), the procedural generator makes ``--seeds`` reference volumes of ``--size``³,
the GAN ``--seeds`` volumes, and the procedural generator ``--seeds`` more volumes with other
seeds: the **noise floor**, what a perfect surrogate would still show against a finite reference.
Each volume is measured by :mod:`electroforge.plugins.gan.fidelity` (volume fractions, S2 of each
phase along each axis, mean chord lengths of active and pore phases, a particle diameter from the
distance transform) and the ``taufactor`` characterizer (active-pore surface area, binder coverage,
pore tortuosity through x, solid effective conductivity). Errors compare means over seeds at each
point and are then averaged over the points; the targets are issue 11's (``fidelity.TARGETS``).

Beside the score (issue 28's realism measures, :data:`fidelity.REPORTED`): the Euler
characteristic of each phase (difference, and difference in units of procedural's seed-to-seed
standard deviation), the particle-size distribution and the chord-length distribution of each
phase (Wasserstein-1 distance relative to procedural's mean, and Kolmogorov-Smirnov statistic),
and at each point the **classifier two-sample test** (``fidelity.classifier_two_sample_accuracy``):
a small 2D CNN trained on slices of ``--classifier-volumes`` − 1 volumes of each generator and
tested on slices of one more of each (split by volume); held-out accuracy 0.5 means it cannot
tell them apart. Its control is the same test between two seed sets of procedural.

Usage::

    python benchmarks/generator_fidelity.py [--size 64] [--seeds 3] [--weights PATH] [--markdown out.md]
                                            [--json out.json] [--cache runs/fidelity_64.pkl]
                                            [--classifier-volumes 5] [--classifier-crops 192]
"""
from __future__ import annotations

import electroforge  # noqa: F401,I001  (before torch: passive OpenMP waiting, see electroforge/__init__.py)
import argparse
import json
import math
import os
import time
from pathlib import Path

import torch

#: Held-out points in unit-cube coordinates (training used only 0, 0.5 and 1).
UNIT_POINTS = [(0.25, 0.25, 0.75), (0.75, 0.25, 0.25), (0.25, 0.75, 0.25), (0.75, 0.75, 0.75), (0.6, 0.4, 0.3),
               (0.4, 0.6, 0.65)]
ERROR_ROWS = [
    ("vf_abs", "volume fractions, max over phases (abs)", "abs"),
    ("surface_area_rel", "active-pore surface area (rel)", "rel"),
    ("tortuosity_rel", "pore tortuosity factor (rel)", "rel"),
    ("sigma_rel", "solid effective conductivity (rel)", "rel"),
    ("coverage_abs", "binder coverage (abs)", "abs"),
    ("s2_abs", "S2, max over phases, axes and r (abs)", "abs"),
    ("chord_active_rel", "mean chord length, active, mean over axes (rel)", "rel"),
    ("chord_pore_rel", "mean chord length, pore, mean over axes (rel)", "rel"),
    ("particle_d_rel", "particle diameter 8·(mean EDT − ½ voxel) (rel)", "rel"),
]
#: Realism measures reported beside the score (no target in the score; issue 28's in the label).
REPORTED_ROWS = [
    ("euler_active_spread", "Euler characteristic, active, in seed-to-seed std (target ≤ 2)", "x"),
    ("euler_pore_spread", "Euler characteristic, pore, in seed-to-seed std (target ≤ 2)", "x"),
    ("euler_binder_spread", "Euler characteristic, binder, in seed-to-seed std (target ≤ 2)", "x"),
    ("psd_w1_rel", "particle-size distribution, W1 / mean radius (target ≤ 10 %)", "rel"),
    ("psd_ks", "particle-size distribution, KS statistic", "abs"),
    ("chord_pore_w1_rel", "chord-length distribution, pore, W1 / mean", "rel"),
    ("chord_active_w1_rel", "chord-length distribution, active, W1 / mean", "rel"),
    ("chord_binder_w1_rel", "chord-length distribution, binder, W1 / mean", "rel"),
    ("chord_pore_ks", "chord-length distribution, pore, KS", "abs"),
    ("chord_active_ks", "chord-length distribution, active, KS", "abs"),
    ("chord_binder_ks", "chord-length distribution, binder, KS", "abs"),
]


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--weights", default=None, help="GAN weights file (default: the shipped ones)")
    ap.add_argument("--points", type=int, default=len(UNIT_POINTS), help="use the first N held-out points")
    ap.add_argument("--markdown", default=None, help="also write the tables to this file")
    ap.add_argument("--json", default=None, help="also write the errors as JSON")
    ap.add_argument("--cache", default=None,
                    help="pickle of the procedural measurements (reused when size, seeds and points match)")
    ap.add_argument("--classifier-volumes", type=int, default=5,
                    help="volumes per generator and point for the classifier two-sample test (0: skip it)")
    ap.add_argument("--classifier-crops", type=int, default=192, help="slice crops per volume for that test")
    ap.add_argument("--classifier-epochs", type=int, default=6)
    args = ap.parse_args(argv)
    if args.classifier_volumes == 1 or args.classifier_volumes < 0:
        ap.error(f"--classifier-volumes {args.classifier_volumes}: need at least 2 (train on all but one) or 0")
    torch.set_num_threads(1)
    from electroforge.plugins.gan import fidelity as fd
    from electroforge.plugins.gan.generator import GanGenerator
    from electroforge.plugins.procedural import ProceduralGenerator
    from electroforge.plugins.procedural.generator import PARAMETERS
    from electroforge.registry import get_registry

    char = get_registry().create("characterizer", "taufactor", device="cpu", threads=1)
    proc = ProceduralGenerator()
    gan = GanGenerator(weights=args.weights, device="cpu")
    n, k = args.size, args.seeds
    shape = (n, n, n)
    t0 = time.perf_counter()
    load0 = os.getloadavg()[0]

    def run(gen, p, seed0):
        return fd.mean_measures([fd.measure(gen.generate(p, shape, seed=seed0 + s), char) for s in range(k)])

    import pickle

    nc = args.classifier_volumes
    classifier = dict(crop=min(64, n), crops_per_volume=args.classifier_crops, epochs=args.classifier_epochs)

    def two_sample(gen_a, seed_a, p, seed_b=3000):
        """Held-out accuracy telling gen_a's volumes (seeds seed_a...) from procedural's (seed_b...)."""
        a = [gen_a.generate(p, shape, seed=seed_a + s).labels for s in range(nc)]
        b = [proc.generate(p, shape, seed=seed_b + s).labels for s in range(nc)]
        return fd.classifier_two_sample_accuracy(a, b, **classifier)

    cache_key = (n, k, tuple(UNIT_POINTS[: args.points]), tuple(fd.TARGETS), fd.REPORTED, nc, tuple(classifier.items()))
    cache = {}
    if args.cache and Path(args.cache).is_file():
        saved = pickle.loads(Path(args.cache).read_bytes())
        cache = saved["points"] if saved.get("key") == cache_key else {}

    lines = [f"GAN weights: {gan.weights.name}, {gan.steps} training steps; {n}³ voxels at "
             f"{gan.voxel_size_m * 1e6:.1f} µm, {k} seeds per point and generator; load average at start {load0:.1f}",
             "", "| point (am, ε, adhesion) | generator | pore | active | binder | a (1/µm) | coverage | τ | σ_eff (S/m) "
             "| chord AM / pore (µm) | particle d (µm) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    per_point = {"gan": [], "noise_floor": []}
    results = {}
    accuracy: dict[tuple, tuple[float, float]] = {}
    um = gan.voxel_size_m * 1e6
    for u in UNIT_POINTS[: args.points]:
        p = fd.unit_to_params(u, PARAMETERS)
        if u not in cache:
            cache[u] = {"procedural": run(proc, p, 0), "procedural, other seeds": run(proc, p, 500)}
        res = {"procedural": cache[u]["procedural"], "gan": run(gan, p, 0),
               "procedural, other seeds": cache[u]["procedural, other seeds"]}
        results[u] = res
        if nc:
            if "classifier_control" not in cache[u]:
                cache[u]["classifier_control"] = two_sample(proc, 4000, p)
            accuracy[u] = (two_sample(gan, 3000, p), cache[u]["classifier_control"])
        for gname, r in res.items():
            tau = f"{r['tortuosity']:.2f}" + (f" ({r['blocked']} blocked)" if r.get("blocked") else "")
            lines.append(
                f"| {p['am_mass_fraction']:.3f}, {p['porosity']:.3f}, {p['binder_adhesion']:.2f} | {gname} | "
                f"{r['vf'][0]:.3f} | {r['vf'][1]:.3f} | {r['vf'][2]:.3f} | {r['surface_area_per_um']:.3f} | "
                f"{r['binder_coverage']:.2f} | {tau} | {r['sigma_S_per_m']:.4f} | "
                f"{um * r['chord'][0].mean():.2f} / {um * r['chord'][1].mean():.2f} | {um * r['particle_d']:.2f} |")
        per_point["gan"].append(fd.compare(res["gan"], res["procedural"]))
        per_point["noise_floor"].append(fd.compare(res["procedural, other seeds"], res["procedural"]))
    if args.cache:
        Path(args.cache).write_bytes(pickle.dumps({"key": cache_key, "points": cache}))
    gan_err = fd.mean_errors(per_point["gan"])
    floor = fd.mean_errors(per_point["noise_floor"])
    lines += ["", "| error vs procedural (mean over points; max in brackets) | gan | noise floor (procedural, other seeds) "
              "| target | gan meets it |", "|---|---|---|---|---|"]
    for key, label, kind in ERROR_ROWS:
        fmt = (lambda x: f"{100 * x:.1f}%") if kind == "rel" else (lambda x: f"{x:.3f}")
        worst = max(e[key] for e in per_point["gan"])
        worst_f = max(e[key] for e in per_point["noise_floor"])
        ok = "yes" if gan_err[key] <= fd.TARGETS[key] else "no"
        lines.append(f"| {label} | {fmt(gan_err[key])} ({fmt(worst)}) | {fmt(floor[key])} ({fmt(worst_f)}) | "
                     f"≤ {fmt(fd.TARGETS[key])} | {ok} |")
    lines += [f"| **score** (mean of error/target) | **{fd.score(gan_err):.2f}** | {fd.score(floor):.2f} | ≤ 1 | |"]
    for phase in fd.PHASE_NAMES:  # topology measures, reported beside the score (no target)
        key = f"euler_{phase}"
        if key + "_abs" not in gan_err:
            continue
        worst = max(e[key + "_abs"] for e in per_point["gan"])
        ref_mean = sum(r["procedural"][key] for r in results.values()) / len(results)
        gan_mean = sum(r["gan"][key] for r in results.values()) / len(results)
        name = {"active": "active phase", "pore": "pores", "binder": "binder"}[phase]
        lines.append(f"| Euler characteristic of the {name} per 1,000 voxels (abs; not scored; procedural "
                     f"{ref_mean:.2f}, gan {gan_mean:.2f} on average) | {gan_err[key + '_abs']:.2f} ({worst:.2f}) | "
                     f"{floor[key + '_abs']:.2f} | | |")
    lines += ["", "| realism measure, beside the score (mean over points; max in brackets) | gan | noise floor |",
              "|---|---|---|"]
    for key, label, kind in REPORTED_ROWS:
        if key not in gan_err:
            continue
        fmt = {"rel": lambda x: f"{100 * x:.1f}%", "abs": lambda x: f"{x:.3f}", "x": lambda x: f"{x:.1f}×"}[kind]
        worst = max(e[key] for e in per_point["gan"])
        lines.append(f"| {label} | {fmt(gan_err[key])} ({fmt(worst)}) | {fmt(floor[key])} |")
    if accuracy:
        lines += ["", "| classifier two-sample test: held-out accuracy (0.5 = indistinguishable; target ≤ 0.70) "
                  "| gan vs procedural | procedural vs procedural (control) |", "|---|---|---|"]
        for u, (acc, ctrl) in accuracy.items():
            p = fd.unit_to_params(u, PARAMETERS)
            lines.append(f"| {p['am_mass_fraction']:.3f}, {p['porosity']:.3f}, {p['binder_adhesion']:.2f} | "
                         f"{acc:.2f} | {ctrl:.2f} |")
        lines.append(f"| worst point | {max(a for a, _ in accuracy.values()):.2f} | "
                     f"{max(c for _, c in accuracy.values()):.2f} |")
    lines += ["",
              f"(fidelity run took {time.perf_counter() - t0:.0f} s; load average {load0:.1f} at start, "
              f"{os.getloadavg()[0]:.1f} at end)"]
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    out = {"size": n, "seeds": k, "weights": str(gan.weights), "steps": gan.steps, "gan": gan_err, "noise_floor": floor,
           "score": fd.score(gan_err), "noise_floor_score": fd.score(floor),
           "classifier_accuracy": {str(u): {"gan": a, "control": c} for u, (a, c) in accuracy.items()}}
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, default=lambda x: None if not math.isfinite(x) else x))
    return out


if __name__ == "__main__":
    main()
