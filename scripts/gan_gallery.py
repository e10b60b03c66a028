"""Gallery for docs/generators.md: procedural vs GAN slices and S2 curves at held-out points.

Writes two PNGs: ``<out>_slices.png`` (for each of three held-out points, the procedural and the
GAN volume, one slice through the middle of each of the three planes: x-y, x-z, y-z; pore black,
active grey, binder white) and ``<out>_s2.png`` (S2(r) of each phase along x, the procedural mean
over seeds with its seed-to-seed band, and the GAN mean, at the same points).

Usage: python scripts/gan_gallery.py [--weights PATH] [--size 64] [--seeds 3] [--out docs/gan_gallery]
"""
from __future__ import annotations

import electroforge  # noqa: F401,I001  (before torch: passive OpenMP waiting, see electroforge/__init__.py)
import argparse
from pathlib import Path

import numpy as np
import torch

POINTS_UNIT = [(0.25, 0.25, 0.75), (0.75, 0.75, 0.25), (0.6, 0.4, 0.3)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default=None)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path("docs/gan_gallery"))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from electroforge.plugins.gan import fidelity as fd
    from electroforge.plugins.gan.generator import GanGenerator
    from electroforge.plugins.procedural import ProceduralGenerator
    from electroforge.plugins.procedural.generator import PARAMETERS

    gens = {"procedural": ProceduralGenerator(), "gan": GanGenerator(weights=args.weights, device="cpu")}
    n = args.size
    um = gens["gan"].voxel_size_m * 1e6
    points = [fd.unit_to_params(u, PARAMETERS) for u in POINTS_UNIT]
    vols = {(i, g): [gen.generate(p, (n, n, n), seed=s).labels for s in range(args.seeds)]
            for i, p in enumerate(points) for g, gen in gens.items()}

    fig, axes = plt.subplots(len(points) * 2, 3, figsize=(7.5, 2.6 * 2 * len(points)))
    planes = [("x-y (z mid)", lambda v: v[:, :, n // 2]), ("x-z (y mid)", lambda v: v[:, n // 2, :]),
              ("y-z (x mid)", lambda v: v[n // 2, :, :])]
    for i, p in enumerate(points):
        for j, g in enumerate(gens):
            for k, (title, cut) in enumerate(planes):
                ax = axes[2 * i + j, k]
                ax.imshow(cut(vols[(i, g)][0]), cmap="gray", vmin=0, vmax=2, interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                if k == 0:
                    ax.set_ylabel(f"{g}\nam {p['am_mass_fraction']:.3f}\nε {p['porosity']:.3f}\nadh {p['binder_adhesion']:.2f}",
                                  fontsize=7)
                if i == 0 and j == 0:
                    ax.set_title(title, fontsize=8)
    fig.suptitle(f"{n}³ at {um:.1f} µm ({n * um:.1f} µm edge): pore black, active grey, binder white; "
                 f"GAN {gens['gan'].steps} steps", fontsize=8)
    fig.tight_layout()
    fig.savefig(f"{args.out}_slices.png", dpi=100)

    fig, axes = plt.subplots(1, len(points), figsize=(4 * len(points), 3.4), sharey=True)
    colors = ["tab:blue", "tab:orange", "tab:green"]
    for i, p in enumerate(points):
        ax = axes[i]
        for ph, name in enumerate(("pore", "active", "binder")):
            for g, ls in (("procedural", "-"), ("gan", "--")):
                s2 = np.stack([fd.two_point_correlation(v, ph, 0, n // 2) for v in vols[(i, g)]])
                r = np.arange(s2.shape[1]) * um
                ax.plot(r, s2.mean(0), ls, color=colors[ph], label=f"{name}, {g}")
                if g == "procedural":
                    ax.fill_between(r, s2.min(0), s2.max(0), color=colors[ph], alpha=0.2, lw=0)
        ax.set_title(f"am {p['am_mass_fraction']:.3f}, ε {p['porosity']:.3f}, adh {p['binder_adhesion']:.2f}", fontsize=8)
        ax.set_xlabel("r along x (µm)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("S2(r)")
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(f"{args.out}_s2.png", dpi=100)
    print(f"wrote {args.out}_slices.png and {args.out}_s2.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
