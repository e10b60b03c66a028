"""Rerunnable recipe for the shipped ``gan`` weights (plugins/gan/weights/default.pt).

1. Writes training images with the ``procedural`` generator at the 15 points of the parameter cube
   that a face-centred design uses (8 corners, 6 face centres, the centre), one ``--size``³ volume
   per point and seed, plus ``labels.csv``, into ``--data`` (default ``runs/gan_data``).
2. Trains the conditional generator on them (``electroforge.plugins.gan.training.train``), with
   checkpoints every ``--checkpoint-every`` steps in ``--checkpoint`` (runs/gan_default.ckpt), so a killed run continues with
   ``--resume``; ``--minutes`` stops cleanly after a wall-time budget.
3. Exports fp16 weights to ``--out`` (default: the shipped weights path).

Usage::

    python scripts/train_gan.py --steps 3000 --minutes 50            # CPU, one thread
    python scripts/train_gan.py --steps 3000 --resume                # continue after a kill
    python scripts/train_gan.py --device cuda --steps 20000          # on a GPU when present
"""
from __future__ import annotations

import argparse
import csv
import itertools
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "plugins" / "gan" / "weights" / "default.pt"


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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO / "runs" / "gan_data")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--checkpoint", type=Path, default=REPO / "runs" / "gan_default.ckpt",
                    help="full training state (kept out of the package)")
    ap.add_argument("--size", type=int, default=96, help="edge of each training volume (voxels)")
    ap.add_argument("--seeds", type=int, default=1, help="volumes per design point")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--minutes", type=float, default=None, help="stop (checkpointed) after this wall time")
    ap.add_argument("--checkpoint-every", type=int, default=100)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    from electroforge.plugins.gan import training

    write_dataset(args.data, args.size, args.seeds)
    data = training.load_training_set(args.data, args.data / "labels.csv")
    cfg = training.TrainConfig(steps=args.steps, checkpoint_every=args.checkpoint_every, device=args.device,
                               seed=args.seed)
    t0 = time.perf_counter()
    deadline = None if args.minutes is None else t0 + 60 * args.minutes

    def log(rec):
        n = int(rec["step"])
        if n % 10 == 0:
            print(f"step {n:5d} loss_d {rec['loss_d']:8.3f} loss_g {rec['loss_g']:8.3f} "
                  f"W {rec['wasserstein']:7.3f} vf_rmse {rec['vf_rmse']:.4f} "
                  f"elapsed {time.perf_counter() - t0:7.1f}s", flush=True)
        if deadline is not None and time.perf_counter() > deadline:
            print("wall-time budget reached; stopping (checkpointed)", flush=True)
            return True
        return False

    trainer = training.train(data, args.out, cfg, resume=args.resume, callback=log, checkpoint=args.checkpoint)
    print(f"done: {trainer.step_count} steps; weights {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
