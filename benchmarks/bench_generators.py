"""Time to generate 64³ and 128³ with each built-in generator on this machine.

Prints the median of ``--reps`` runs per size (after one warm-up), the ratio gan / procedural
(the baseline, measured in the same run), the GAN through its plain forward and ``argmax`` (the
baseline of its inference path: sub-pixel stages, channels-last, relative-logit labels) and the
budget in docs/benchmarks.md (128³ < 2 s).

Usage: python benchmarks/bench_generators.py [--reps 3] [--threads 1] [--weights PATH] [--device auto]

The load average (1, 5, 15 min) is printed before and after: on a shared machine every figure is
only meaningful next to it. ``--device auto`` runs the GAN on CUDA when torch sees a GPU.
"""
from __future__ import annotations

import electroforge  # noqa: F401,I001  (before torch: passive OpenMP waiting, see electroforge/__init__.py)
import argparse
import copy
import os
import statistics
import time

import torch

PARAMS = {"am_mass_fraction": 0.91, "porosity": 0.375, "binder_adhesion": 0.5}


class PlainForward:
    """The GAN's logits through the training network's plain ``net.logits``: the baseline of its
    inference path (the generator takes the logits relative to phase 0 from it)."""

    def __init__(self, net):
        self.net = net

    @torch.no_grad()
    def relative_logits(self, z, c):
        logits = self.net.logits(z, c)
        return logits[:, 1:] - logits[:, :1]


def median_time(gen, n: int, reps: int) -> float:
    gen.generate(PARAMS, (n, n, n), seed=100)  # warm-up (imports, allocator)
    ts = []
    for r in range(reps):
        t = time.perf_counter()
        gen.generate(PARAMS, (n, n, n), seed=r)
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--weights", default=None, help="GAN weights (default: the shipped ones)")
    ap.add_argument("--device", default="cpu", help="GAN device: cpu, cuda or auto")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from electroforge.plugins.gan.generator import GanGenerator
    from electroforge.plugins.procedural import ProceduralGenerator

    gan = GanGenerator(weights=args.weights, device=args.device)
    # the baseline of the GAN's sub-pixel inference path: the same network through its plain forward
    plain = copy.copy(gan)
    plain._fast = PlainForward(gan.net)
    gens = {"procedural": ProceduralGenerator(), "gan": gan, "plain": plain}
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average (1/5/15 min) {load}; torch threads {args.threads}; median of {args.reps}; "
          f"gan {gan.weights.name} on {gan._torch_device}, channels {gan.net.channels}")
    print("| size | procedural (s) | gan (s) | gan / procedural | gan, plain forward (s) | plain / fast | budget 128³ |")
    print("|---|---|---|---|---|---|---|")
    for n in (64, 128):
        t = {k: median_time(g, n, args.reps) for k, g in gens.items()}
        budget = "< 2 s, ≤ procedural" if n == 128 else ""
        print(f"| {n}³ | {t['procedural']:.2f} | {t['gan']:.2f} | {t['gan'] / t['procedural']:.2f} | "
              f"{t['plain']:.2f} | {t['plain'] / t['gan']:.1f} | {budget} |")
    print(f"load average after (1/5/15 min) {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
