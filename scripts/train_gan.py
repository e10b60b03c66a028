"""Rerunnable recipe for the shipped ``gan`` weights (plugins/gan/weights/default.pt).

1. Writes training images with the ``procedural`` generator at the 15 points of the parameter cube
   that a face-centred design uses (8 corners, 6 face centres, the centre), one ``--size``³ volume
   per point and seed, plus ``labels.csv``, into ``--data`` (default ``runs/gan_data``).
2. Trains the conditional generator on them (``electroforge.plugins.gan.training.train``), with
   a full checkpoint every ``--checkpoint-every`` steps in ``--checkpoint`` (default: the committed
   ``plugins/gan/checkpoints/erosion.ckpt``, the run the shipped weights come from: its monitor's
   best weights, step 2,750), so a killed or finished run continues with
   ``--resume`` (the checkpoint's own design; ``--steps`` is the new total); ``--minutes`` stops
   cleanly after a wall-time budget.
3. Every ``--monitor-every`` steps scores the generator on a small fixed set of held-out points
   against ``procedural`` (``fidelity.FidelityMonitor``) and writes losses and scores to
   ``<checkpoint>.history.json``; ``--plot PNG`` draws that history.
4. Exports fp16 weights to ``--out`` at each checkpoint and at the end (calibrated). Point
   ``--out`` elsewhere than the shipped file while training, and ship only weights that score
   better on ``benchmarks/generator_fidelity.py``.

Usage::

    python scripts/train_gan.py --resume --steps 20000 --minutes 60 --out runs/gan_long.pt   # continue
    python scripts/train_gan.py --plot docs/gan_training_curve.png                            # the curve
    python scripts/train_gan.py --plot ablation.png --compare D5=a.ckpt.history.json \
        --compare D5s2=b.ckpt.history.json                                                    # runs overlaid
    python scripts/train_gan.py --checkpoint runs/new.ckpt --out runs/new.pt --steps 3000 \
        --design '{"channels": [64, 32, 16], "nz": 16}'                                       # a new run
    python scripts/train_gan.py --device cuda --resume --steps 50000                          # on a GPU
"""
from __future__ import annotations

import electroforge  # noqa: F401,I001  (before torch: passive OpenMP waiting, see electroforge/__init__.py)
import argparse
import csv
import itertools
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "plugins" / "gan" / "weights" / "default.pt"
DEFAULT_CHECKPOINT = REPO / "plugins" / "gan" / "checkpoints" / "erosion.ckpt"


def design_points() -> list[dict[str, float]]:
    """Corners, face centres and centre of the procedural generator's parameter cube."""
    from electroforge.plugins.procedural.generator import PARAMETERS

    names = list(PARAMETERS)
    unit = set(itertools.product((0.0, 1.0), repeat=3))
    for axis in range(3):
        for v in (0.0, 1.0):
            p = [0.5, 0.5, 0.5]
            p[axis] = v
            unit.add(tuple(p))
    unit.add((0.5, 0.5, 0.5))
    pts = []
    for u in sorted(unit):
        pts.append({n: PARAMETERS[n][0] + ui * (PARAMETERS[n][1] - PARAMETERS[n][0]) for n, ui in zip(names, u)})
    return pts


def write_dataset(folder: Path, size: int, seeds: int) -> None:
    from electroforge.imageio import write_microstructure
    from electroforge.plugins.procedural import ProceduralGenerator

    folder.mkdir(parents=True, exist_ok=True)
    gen = ProceduralGenerator()
    rows = []
    for i, p in enumerate(design_points()):
        for s in range(seeds):
            name = f"point{i:02d}_seed{s}.tif"
            if not (folder / name).is_file():
                write_microstructure(gen.generate(p, (size, size, size), seed=1000 + 17 * i + s), folder / name)
            rows.append({"file": name, **{k: f"{v:.6g}" for k, v in p.items()}})
    with (folder / "labels.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


#: Held-out interior points (unit-cube coordinates; training uses only 0, 0.5 and 1) of the
#: training monitor's small fixed set.
MONITOR_UNIT_POINTS = [(0.25, 0.25, 0.75), (0.75, 0.75, 0.25), (0.6, 0.4, 0.3)]


def make_monitor(size: int, seeds: int, ref_seeds: int):
    """The fidelity monitor used during training: procedural reference at MONITOR_UNIT_POINTS."""
    from electroforge.plugins.gan.fidelity import FidelityMonitor, unit_to_params
    from electroforge.plugins.procedural import ProceduralGenerator
    from electroforge.plugins.procedural.generator import PARAMETERS
    from electroforge.registry import get_registry

    char = get_registry().create("characterizer", "taufactor", device="cpu", threads=1)
    points = [unit_to_params(u, PARAMETERS) for u in MONITOR_UNIT_POINTS]
    return FidelityMonitor(ProceduralGenerator(), points, size=size, seeds=seeds, ref_seeds=ref_seeds, characterizer=char)


def write_history(trainer, path: Path, noise_floor: dict | None) -> None:
    """JSON history: per-step losses (every step) and the monitor's records, for plotting."""
    import json

    keep = ("step", "loss_d", "loss_g", "wasserstein", "vf_rmse", "s2_rmse", "coverage_rmse", "erosion_rmse", "euler_rmse", "wasserstein3d", "lr")
    doc = {
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in trainer.state()["config"].items()},
        "losses": [{k: h[k] for k in keep if k in h} for h in trainer.history],
        "fidelity": trainer.fidelity,
        "noise_floor": noise_floor,
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc))
    tmp.replace(path)


def _score_axes(ax, noise_floor: float | None) -> None:
    """Log axis of fidelity scores with the noise floor (if known) and the target line."""
    if noise_floor:
        ax.axhline(noise_floor, color="k", ls=":", label="procedural seed-to-seed (noise floor)")
    ax.axhline(1.0, color="r", ls="--", lw=0.8, label="at the targets on average")
    ax.set_yscale("log")
    ax.set_ylabel("fidelity score (mean error/target)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)


def plot_history(history: Path, out: Path) -> None:
    """Training curve: fidelity score (EMA and live network) vs generator updates, with the
    procedural noise floor; losses below."""
    import json

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    doc = json.loads(history.read_text())
    fid = doc["fidelity"]
    fig, axes = plt.subplots(2, 1, figsize=(7, 6.5), sharex=True)
    ax = axes[0]
    if fid:
        steps = [r["step"] for r in fid]
        ax.plot(steps, [r["score"] for r in fid], "o-", label="score (exported weights)")
        if "raw_score" in fid[0]:
            ax.plot(steps, [r["raw_score"] for r in fid], "x--", alpha=0.6, label="score (live generator)")
    _score_axes(ax, (doc.get("noise_floor") or {}).get("score"))
    losses = doc["losses"]
    st = np.array([h["step"] for h in losses])
    w = np.array([h["wasserstein"] for h in losses])
    k = max(1, min(50, len(w) // 5))
    if len(w):
        axes[1].plot(st[k - 1:], np.convolve(w, np.ones(k) / k, mode="valid"), label=f"critic W estimate (mean of {k})")
        axes[1].plot(st[k - 1:], 100 * np.convolve([h["vf_rmse"] for h in losses], np.ones(k) / k, mode="valid"),
                     label="100 x volume-fraction RMSE (soft)")
    axes[1].set_xlabel("generator updates")
    axes[1].legend(fontsize=8)
    axes[1].grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def plot_comparison(runs: list[tuple[str, Path]], out: Path) -> None:
    """The monitor's score (exported weights) of several runs against generator updates, on one
    axis, with the first run's procedural noise floor: the ablation plot."""
    import json

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    floor = None
    for label, path in runs:
        doc = json.loads(path.read_text())
        fid = doc["fidelity"]
        ax.plot([r["step"] for r in fid], [r["score"] for r in fid], "o-", ms=3, label=label)
        floor = floor or (doc.get("noise_floor") or {}).get("score")
    _score_axes(ax, floor)
    ax.set_xlabel("generator updates")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def _labelled_path(text: str) -> tuple[str, Path]:
    label, sep, path = text.partition("=")
    if not sep or not label or not path:
        raise argparse.ArgumentTypeError(f"{text!r}: expected LABEL=HISTORY.json")
    if not Path(path).is_file():
        raise argparse.ArgumentTypeError(f"{path}: no such history file")
    return label, Path(path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO / "runs" / "gan_data")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT,
                    help="full training state (committed, small, so a later session can --resume)")
    ap.add_argument("--history", type=Path, default=None, help="JSON history (default: <checkpoint>.history.json)")
    ap.add_argument("--size", type=int, default=96, help="edge of each training volume (voxels)")
    ap.add_argument("--seeds", type=int, default=1, help="volumes per design point")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--minutes", type=float, default=None, help="stop (checkpointed) after this wall time")
    ap.add_argument("--checkpoint-every", type=int, default=100)
    ap.add_argument("--checkpoint-minutes", type=float, default=10.0,
                    help="also checkpoint whenever this much wall time has passed since the last one (0: off)")
    ap.add_argument("--monitor-every", type=int, default=250, help="fidelity score every N steps (0: never)")
    ap.add_argument("--monitor-size", type=int, default=64)
    ap.add_argument("--resume", action="store_true", help="continue the checkpoint (its design; --steps is the new total)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--design", default="{}",
                    help="JSON of TrainConfig fields overriding the defaults (new run) or the checkpoint's (--resume)")
    ap.add_argument("--plot", type=Path, default=None, help="only plot the history into this PNG and exit")
    ap.add_argument("--compare", type=_labelled_path, action="append", default=[], metavar="LABEL=HISTORY",
                    help="with --plot: overlay the monitor scores of these histories instead (repeatable)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    history = args.history or args.checkpoint.with_name(args.checkpoint.name + ".history.json")
    if args.plot is not None and args.compare:
        plot_comparison(args.compare, args.plot)
        print(f"wrote {args.plot}")
        return 0
    if args.plot is not None:
        plot_history(history, args.plot)
        print(f"wrote {args.plot}")
        return 0

    import json

    from electroforge.plugins.gan import training

    write_dataset(args.data, args.size, args.seeds)
    from electroforge.plugins.procedural import ProceduralGenerator

    # the training volumes come from procedural at its default options: their particles' Sauter radius
    data = training.load_training_set(args.data, args.data / "labels.csv",
                                      particle_radius_m=ProceduralGenerator().particle_radius_m)
    run = {"steps": args.steps, "checkpoint_every": args.checkpoint_every, "device": args.device}
    if args.resume and args.checkpoint.is_file():
        saved = torch.load(args.checkpoint, map_location="cpu", weights_only=False)["config"]
        fields = {k: (tuple(v) if isinstance(v, list) else v) for k, v in saved.items()}
        override = {k: (tuple(v) if isinstance(v, list) else v) for k, v in json.loads(args.design).items()}
        cfg = training.TrainConfig(**{**fields, **override, **run})  # architecture changes are refused on load
    else:
        design = {k: (tuple(v) if isinstance(v, list) else v) for k, v in json.loads(args.design).items()}
        cfg = training.TrainConfig(**{**design, **run, "seed": args.seed})
    print(f"design: {cfg}", flush=True)
    monitor = None
    noise_floor = None
    if args.monitor_every:
        t = time.perf_counter()
        monitor = make_monitor(args.monitor_size, seeds=2, ref_seeds=4)
        noise_floor = monitor.noise_floor
        print(f"monitor reference ready in {time.perf_counter() - t:.0f}s; noise floor score {noise_floor['score']:.3f}",
              flush=True)
    t0 = time.perf_counter()
    deadline = None if args.minutes is None else t0 + 60 * args.minutes
    holder = {}
    interrupted = []

    def request_stop(signum, _frame):
        if interrupted:  # a second Ctrl-C: stop now, without the checkpoint
            raise KeyboardInterrupt
        interrupted.append(signum)
        print(f"{signal.Signals(signum).name}: stopping after this update (checkpointed); again to abort",
              flush=True)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    def log(rec):
        n = int(rec["step"])
        if n % 10 == 0:
            print(f"step {n:5d} loss_d {rec['loss_d']:8.3f} loss_g {rec['loss_g']:8.3f} "
                  f"W {rec['wasserstein']:7.3f} vf_rmse {rec['vf_rmse']:.4f} lr {rec['lr']:.2e} "
                  f"elapsed {time.perf_counter() - t0:7.1f}s load {os.getloadavg()[0]:.1f}", flush=True)
        if n % 10 == 0 and holder:  # cheap (JSON of the records); the checkpoint keeps its own copy
            write_history(holder["trainer"], history, noise_floor)
        if deadline is not None and time.perf_counter() > deadline:
            print("wall-time budget reached; stopping (checkpointed)", flush=True)
            return True
        return bool(interrupted)

    def scored(trainer):
        holder["trainer"] = trainer
        rec = monitor(trainer)
        print(f"fidelity step {trainer.step_count} " + " ".join(f"{k} {v:.3f}" for k, v in rec.items()), flush=True)
        return rec

    best = args.out.with_name(args.out.stem + ".best.pt") if monitor else None
    trainer = training.train(data, args.out, cfg, resume=args.resume, callback=log, checkpoint=args.checkpoint,
                             monitor=scored if monitor else None, monitor_every=args.monitor_every, best_out=best,
                             checkpoint_minutes=args.checkpoint_minutes or None)
    if best is not None and best.is_file():
        print(f"best monitor score {training.best_fidelity_score(trainer):.3f}: weights {best}", flush=True)
    write_history(trainer, history, noise_floor)
    print(f"done: {trainer.step_count} steps; weights {args.out} ({args.out.stat().st_size / 1e6:.2f} MB); "
          f"checkpoint {args.checkpoint} ({args.checkpoint.stat().st_size / 1e6:.2f} MB); history {history}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
