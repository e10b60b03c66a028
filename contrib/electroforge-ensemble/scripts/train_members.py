"""Rerunnable recipe for the ensemble members shipped in ``electroforge_ensemble/weights/``.

Each member ``k`` is the built-in ``gan`` generator's full training state (the checkpoint that
``scripts/train_gan.py`` of the core repo leaves in ``runs/gan_default.ckpt``: generator, critics,
optimisers) fine-tuned for ``--steps`` more generator updates on a *bootstrap resample* of the
15 training images (``runs/gan_data``), with its own random seed, then recalibrated (argmax phase
offsets fitted on the member's own resample) and exported as fp16 inference weights.

The resample keeps the full training envelope as the scaling of the condition, so every member
reads parameters the same way; members agree where the data pin them (inside the envelope) and
drift apart where nothing does (outside it): that disagreement is the ensemble's uncertainty.

Usage (one CPU thread; ~3-4 s per step on a shared 2-core machine)::

    python contrib/electroforge-ensemble/scripts/train_members.py --members 4 --steps 40
"""
from __future__ import annotations

import electroforge  # noqa: F401,I001  (before torch: passive OpenMP waiting, see electroforge/__init__.py)
import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
OUT = HERE.parent / "electroforge_ensemble" / "weights"


def bootstrap(data, rng):
    """A resample with replacement of the training images, keeping the full envelope as bounds."""
    from electroforge.plugins.gan.training import TrainingSet

    idx = rng.integers(0, len(data.volumes), len(data.volumes))
    return TrainingSet([data.volumes[i] for i in idx], data.params[idx], data.param_names, dict(data.bounds),
                       data.voxel_size_m, data.phases), sorted(set(int(i) for i in idx))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO / "runs" / "gan_data")
    ap.add_argument("--checkpoint", type=Path, default=REPO / "runs" / "gan_default.ckpt")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--members", type=int, default=4)
    ap.add_argument("--first", type=int, default=0, help="index of the first member to train")
    ap.add_argument("--steps", type=int, default=40, help="fine-tuning generator updates per member")
    ap.add_argument("--lr", type=float, default=4e-4)
    ap.add_argument("--calibration-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    from electroforge.plugins.gan import training

    data = training.load_training_set(args.data, args.data / "labels.csv")
    base = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    base_cfg = dict(base["config"])
    base_cfg["channels"] = tuple(base_cfg["channels"])
    base_cfg["critic_channels"] = tuple(base_cfg["critic_channels"])
    t0 = time.perf_counter()
    for k in range(args.first, args.first + args.members):
        seed = 1000 + k
        boot, used = bootstrap(data, np.random.default_rng(seed))
        cfg = training.TrainConfig(**{**base_cfg, "steps": int(base["step"]) + args.steps, "seed": seed,
                                      "lr": args.lr, "device": "cpu", "calibration_size": args.calibration_size})
        trainer = training.Trainer(boot, cfg)
        trainer.load_checkpoint(args.checkpoint)
        torch.manual_seed(seed)  # the checkpoint restored the base run's RNG states: give each member its own
        trainer.rng = np.random.default_rng(seed)
        for g in (*trainer.optG.param_groups, *trainer.optD.param_groups):
            g["lr"] = args.lr
        trainer.G.train()
        while trainer.step_count < cfg.steps:
            rec = trainer.step()
            if int(rec["step"]) % 10 == 0:
                print(f"member {k} step {int(rec['step'])} W {rec['wasserstein']:.3f} vf_rmse {rec['vf_rmse']:.4f} "
                      f"elapsed {time.perf_counter() - t0:.0f}s", flush=True)
        cal = training.calibrate_phase_offsets(trainer, args.calibration_size)
        out = args.out / f"member{k}.pt"
        training.export_weights(trainer, out, fp16=True, calibration=cal)
        print(f"member {k}: images {used}; {out.name} {out.stat().st_size / 1e3:.0f} kB; "
              f"elapsed {time.perf_counter() - t0:.0f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
