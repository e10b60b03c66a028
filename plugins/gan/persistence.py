"""Checkpoints and weights files of the conditional generator.

Contract: a *checkpoint* (:func:`save_checkpoint`, format ``WEIGHTS_FORMAT + "-checkpoint"``) is
the full training state: config, networks, optimisers, RNG states, loss and monitor history, so
:func:`load_checkpoint` continues a run exactly; it is refused with a one-line message when the
networks' design (:data:`~electroforge.plugins.gan.config.ARCHITECTURE_FIELDS`) differs. A
*weights file* (:func:`export_weights`, format :data:`WEIGHTS_FORMAT`) is the small inference
file (exported generator only, fp16 by default, with metadata and the argmax calibration) that
:class:`~electroforge.plugins.gan.generator.GanGenerator` loads. Both are written atomically
(temporary file, then rename), so a killed run never leaves a torn file.
"""
from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import torch

from electroforge.errors import InputFileError
from electroforge.plugins.gan.config import ARCHITECTURE_FIELDS, TrainConfig
from electroforge.plugins.gan.data import TrainingSet

if TYPE_CHECKING:
    from electroforge.plugins.gan.trainer import Trainer

WEIGHTS_FORMAT = "electroforge-gan/1"


def float_state_dict(payload: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """A weights payload's (fp16) generator state as float32 tensors, ready to load."""
    return {k: v.float() if v.is_floating_point() else v for k, v in payload["state_dict"].items()}


def checkpoint_state(trainer: Trainer) -> dict[str, Any]:
    """The full training state of ``trainer`` (what a checkpoint holds)."""
    return {
        "format": WEIGHTS_FORMAT + "-checkpoint",
        "config": attrs.asdict(trainer.cfg),
        "meta": design_meta(trainer.data, trainer.cfg),
        "G": trainer.G.state_dict(),
        "Ds": trainer.Ds.state_dict(),
        "optG": trainer.optG.state_dict(),
        "optD": trainer.optD.state_dict(),
        "D3": None if trainer.D3 is None else trainer.D3.state_dict(),
        "optD3": None if trainer.optD3 is None else trainer.optD3.state_dict(),
        "G_ema": None if trainer.G_ema is None else trainer.G_ema.state_dict(),
        "step": trainer.step_count,
        "history": trainer.history,
        "fidelity": trainer.fidelity,
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state(trainer.device) if trainer.device.type == "cuda" else None,
        "numpy_rng": trainer.rng.bit_generator.state,
    }


def save_checkpoint(trainer: Trainer, path: str | Path) -> None:
    """Write :func:`checkpoint_state` to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(checkpoint_state(trainer), tmp)
    os.replace(tmp, path)


def load_checkpoint(trainer: Trainer, path: str | Path) -> None:
    """Restore ``trainer`` from a checkpoint written by :func:`save_checkpoint` (checked to fit its data and design)."""
    try:
        st = torch.load(path, map_location=trainer.device, weights_only=False)
    except Exception as exc:
        raise InputFileError(f"{path}: cannot read checkpoint ({type(exc).__name__})") from None
    if st.get("format") != WEIGHTS_FORMAT + "-checkpoint":
        raise InputFileError(f"{path}: not an electroforge GAN training checkpoint")
    if tuple(st["meta"]["param_names"]) != tuple(trainer.data.param_names):
        raise InputFileError(
            f"{path}: checkpoint parameters {st['meta']['param_names']} differ from the labels' {list(trainer.data.param_names)}"
        )
    for field in ARCHITECTURE_FIELDS:
        # a field newer than the checkpoint: the checkpoint was trained at its default
        theirs = st["config"].get(field, attrs.fields_dict(TrainConfig)[field].default)
        ours = getattr(trainer.cfg, field)
        if (tuple(theirs) if isinstance(theirs, (list, tuple)) else theirs) != ours:
            raise InputFileError(f"{path}: checkpoint was trained with {field}={theirs!r}, this run has {ours!r}")
    if (st.get("G_ema") is None) != (trainer.G_ema is None):
        raise InputFileError(f"{path}: checkpoint ema_decay={st['config'].get('ema_decay', 0)!r} is incompatible "
                             f"with this run's {trainer.cfg.ema_decay!r} (both on or both off)")
    trainer.G.load_state_dict(st["G"])
    if trainer.G_ema is not None:
        trainer.G_ema.load_state_dict(st["G_ema"])
    trainer.Ds.load_state_dict(st["Ds"])
    trainer.optG.load_state_dict(st["optG"])
    trainer.optD.load_state_dict(st["optD"])
    if trainer.D3 is not None and st.get("D3") is not None:  # else the 3D critic starts fresh
        trainer.D3.load_state_dict(st["D3"])
        trainer.optD3.load_state_dict(st["optD3"])
    trainer.step_count = int(st["step"])
    trainer.history = list(st["history"])
    trainer.fidelity = list(st.get("fidelity", []))
    torch.set_rng_state(st["torch_rng"].cpu())
    if trainer.device.type == "cuda" and st.get("cuda_rng") is not None:  # a CUDA run continued on CUDA
        torch.cuda.set_rng_state(st["cuda_rng"].cpu(), trainer.device)
    trainer.rng.bit_generator.state = st["numpy_rng"]


def design_meta(data: TrainingSet, cfg: TrainConfig) -> dict[str, Any]:
    """What a checkpoint and a weights file record of the images and the generator's design."""
    return {
        "param_names": list(data.param_names),
        "bounds": {k: list(v) for k, v in data.bounds.items()},
        "phases": list(data.phases),
        "voxel_size_m": data.voxel_size_m,
        "particle_radius_m": data.particle_radius_or_estimate_m(),
        "nz": cfg.nz,
        "channels": list(cfg.channels),
        "noise_stages": cfg.noise_stages,
        "output": cfg.output,
        "sphere_cell": cfg.sphere_cell,
        "sphere_slots": cfg.sphere_slots,
        "binder_channels": list(cfg.binder_channels),
        "train_tile": cfg.tile,
    }


def checkpoint_path_for(weights: str | Path) -> Path:
    """Where :func:`train` keeps its full checkpoint next to the weights file."""
    weights = Path(weights)
    return weights.with_name(weights.name + ".ckpt")


def weights_payload(trainer: Trainer, fp16: bool = True, calibration: dict | None = None) -> dict[str, Any]:
    """The inference payload (what :func:`export_weights` writes): the exported generator's
    weights (fp16 unless told otherwise), metadata, the optional argmax calibration and the
    training images' fraction model (:func:`calibration.fraction_model`, cheap: fitted on every export)."""
    from electroforge.plugins.gan.calibration import fraction_model  # it imports this module

    sd = {k: (v.detach().cpu().half() if fp16 and v.is_floating_point() else v.detach().cpu().clone())
          for k, v in trainer.G_export.state_dict().items()}
    return {
        "format": WEIGHTS_FORMAT,
        **design_meta(trainer.data, trainer.cfg),
        "steps": trainer.step_count,
        "ema_decay": trainer.cfg.ema_decay,
        "phase_offsets": calibration,
        "fraction_model": fraction_model(trainer.data),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "state_dict": sd,
    }


def export_weights(trainer: Trainer, path: str | Path, fp16: bool = True, calibration: dict | None = None) -> Path:
    """Write the inference file (:func:`weights_payload`) atomically; returns its path."""
    return save_atomic(weights_payload(trainer, fp16=fp16, calibration=calibration), path)


def save_atomic(payload: Mapping[str, Any], path: str | Path) -> Path:
    """``torch.save`` to a temporary file beside ``path``, then rename: never a torn file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(dict(payload), tmp)
    os.replace(tmp, path)
    return path
