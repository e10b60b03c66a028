"""Plots people read: labelled axes with units, phases coloured consistently."""
from __future__ import annotations

from pathlib import Path


#: Colours by phase name (pore dark, active grey-blue, binder orange).
PHASE_COLOURS = {"pore": "#1b1b2f", "active": "#8fa9c8", "binder": "#e07b39"}
_FALLBACK = ["#1b1b2f", "#8fa9c8", "#e07b39", "#5fb760", "#c94c4c", "#9b59b6"]


def _mpl():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_microstructure_slices(ms, path: str | Path):
    """Three orthogonal mid-slices, phases coloured, with a scale bar; returns the path."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    plt = _mpl()
    colours = [PHASE_COLOURS.get(p, _FALLBACK[i % len(_FALLBACK)]) for i, p in enumerate(ms.phases)]
    cmap = ListedColormap(colours)
    nx, ny, nz = ms.shape
    slices = [
        ("y-z plane at mid x", ms.labels[nx // 2, :, :], ("z", "y")),
        ("x-z plane at mid y", ms.labels[:, ny // 2, :], ("z", "x (thickness)")),
        ("x-y plane at mid z", ms.labels[:, :, nz // 2], ("y", "x (thickness)")),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.4))
    for ax, (title, img, (xl, yl)) in zip(axes, slices):
        ax.imshow(img, cmap=cmap, vmin=0, vmax=len(colours) - 1, interpolation="nearest", origin="lower")
        ax.set_title(title)
        ax.set_xlabel(f"{xl} (voxels)")
        ax.set_ylabel(f"{yl} (voxels)")
        bar_um = _nice_bar_um(img.shape[1] * ms.voxel_size_m * 1e6 / 4)
        bar_vox = bar_um / (ms.voxel_size_m * 1e6)
        x0, y0 = img.shape[1] * 0.05, img.shape[0] * 0.05
        ax.plot([x0, x0 + bar_vox], [y0, y0], color="white", lw=4)
        ax.text(x0 + bar_vox / 2, y0 + img.shape[0] * 0.03, f"{bar_um:g} µm", color="white", ha="center",
                va="bottom", fontsize=9, fontweight="bold")
    vf = ms.volume_fractions()
    handles = [Patch(color=c, label=f"{p} ({vf[p]:.1%})") for p, c in zip(ms.phases, colours)]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False)
    gen = ms.metadata.get("generator", "")
    fig.suptitle(f"{gen} microstructure {nx}x{ny}x{nz} voxels, {ms.voxel_size_m * 1e6:g} µm/voxel".strip())
    fig.tight_layout(rect=(0, 0.07, 1, 0.95))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _nice_bar_um(target: float) -> float:
    for v in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500):
        if v >= target:
            return float(v)
    return 1000.0
