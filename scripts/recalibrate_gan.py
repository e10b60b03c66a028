"""Refit what a GAN weights file carries besides its networks, on the images it was trained on.

    python scripts/recalibrate_gan.py runs/particles.pt --out runs/particles.cal.pt
    python scripts/recalibrate_gan.py plugins/gan/weights/default.pt --fractions-only

Writes ``--out`` (default: in place) with the networks unchanged and

* ``fraction_model``: the training images' phase fractions as a response surface of the
  condition (``calibration.fraction_model``), which the generator matches per volume;
* ``phase_offsets`` (unless ``--fractions-only``): the argmax calibration
  (``calibration.calibrate_phase_offsets``), used with ``match_fractions=False``.

Use it on weights exported mid-run (``runs/particles.pt`` between checkpoints carries no argmax
calibration) and on weights written before 0.3 (no fraction model). ``--data`` is the training
images folder with its ``labels.csv``; missing, it is written as ``scripts/train_gan.py`` writes
it (procedural, ``--size``³, ``--seeds`` per design point).
"""
from __future__ import annotations

import electroforge  # noqa: F401,I001  (before torch: passive OpenMP waiting, see electroforge/__init__.py)
import argparse
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("weights", type=Path)
    ap.add_argument("--out", type=Path, default=None, help="weights file to write (default: in place)")
    ap.add_argument("--data", type=Path, default=REPO / "runs" / "gan_data128")
    ap.add_argument("--size", type=int, default=128, help="edge of the training volumes, if --data is written")
    ap.add_argument("--seeds", type=int, default=2, help="volumes per design point, if --data is written")
    ap.add_argument("--fractions-only", action="store_true", help="refit the fraction model only")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(max(1, args.threads))

    from electroforge.errors import ElectroforgeError
    from electroforge.plugins.gan import training
    from electroforge.plugins.gan.generator import load_weights
    from electroforge.plugins.gan.persistence import save_atomic
    from electroforge.plugins.procedural import ProceduralGenerator

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from train_gan import write_dataset

    out = args.out or args.weights
    try:
        if not (args.data / "labels.csv").is_file():
            write_dataset(args.data, args.size, args.seeds)
        data = training.load_training_set(args.data, args.data / "labels.csv",
                                          particle_radius_m=ProceduralGenerator().particle_radius_m)
        payload = dict(load_weights(args.weights))
        if payload["bounds"] != {k: list(v) for k, v in data.bounds.items()}:
            print(f"recalibrate_gan: {args.data}: envelope {data.bounds} is not the weights' {payload['bounds']}",
                  file=sys.stderr)
            return 2
        if args.fractions_only:
            payload["fraction_model"] = training.fraction_model(data)
            save_atomic(payload, out)
        else:
            training.recalibrate_weights(args.weights, data, out)
    except ElectroforgeError as exc:
        print(f"recalibrate_gan: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out} ({'fraction model' if args.fractions_only else 'fraction model and argmax calibration'} "
          f"from {len(data.volumes)} images in {args.data})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
