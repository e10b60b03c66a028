"""Plot of a representativity analysis: relative 95 % CI of each metric vs compute time per edge."""
from __future__ import annotations

import math
from pathlib import Path

from electroforge.plots import _mpl

_LABELS = {
    "tortuosity_factor": "tortuosity factor",
    "effective_conductivity_S_per_m": "σ_eff",
    "specific_surface_area_per_m": "surface area",
    "binder_coverage": "binder coverage",
    "effective_diffusivity_ratio": "D_eff/D",
}


def plot_rve(result, path: str | Path, metrics=None) -> Path:
    """Log-log plot: x = compute time of the cubes measured at each edge (s), y = relative 95 % CI
    of the mean (%), one line per metric with each point labelled by its edge; the target CI is a
    dashed line and the recommendation a star. Returns the path."""
    plt = _mpl()
    metrics = list(metrics or result.target_metrics)
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for name in metrics:
        xs, ys, edges = [], [], []
        for s in result.sizes:
            st = s.stats.get(name)
            if st is None or not math.isfinite(st.relative_ci95):
                continue
            xs.append(s.seconds_per_cube * s.count)
            ys.append(100 * st.relative_ci95)
            edges.append(s.edge_vox)
        if not xs:
            continue
        (line,) = ax.plot(xs, ys, marker="o", label=_LABELS.get(name, name))
        for x, y, e in zip(xs, ys, edges):
            ax.annotate(f"{e}³", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8,
                        color=line.get_color())
    ax.axhline(100 * result.target_ci, color="grey", ls="--", lw=1, label=f"target {result.target_ci:.1%}")
    rec = result.recommendation
    if rec is not None:
        ax.plot([rec.seconds], [100 * result.target_ci], marker="*", ms=14, color="black", ls="none",
                label=f"recommended: {rec.count} × {rec.edge_vox}³ (~{rec.seconds:.0f} s)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("compute time of the cubes measured at this edge (s)")
    ax.set_ylabel("95 % CI half-width of the mean (% of mean)")
    vox_um = result.voxel_size_m * 1e6
    ax.set_title(f"Representativity ({result.characterizer or 'characterizer'}, {vox_um:g} µm voxels)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
