"""The ``gan`` generator: a conditional SliceGAN-style surrogate of the manufacturing simulator.

Contract: ``GanGenerator(weights=None, device="auto", voxel_size_m=None, allow_extrapolation=False)``
loads a weights file written by :func:`electroforge.plugins.gan.persistence.export_weights` (default:
the shipped ``weights/default.pt``, trained on ``procedural`` output at the corners, face centres
and centre of the parameter cube by ``scripts/train_gan.py``; ``weights="first-design"`` selects
the other shipped file, see :func:`resolve_weights`). ``parameters`` is the envelope the
weights were trained on. ``generate(params, shape, seed)`` returns a
:class:`~electroforge.model.Microstructure` (labels = argmax of the three softmax channels;
0 pore, 1 active, 2 binder; x through the thickness), deterministic for a seed on one device.

Labels are the argmax of the logits plus per-phase offsets. Weights that carry a fraction model
(``calibration.fraction_model``: the training images' fractions as a response surface of the
condition, in every export since 0.3) get offsets found per volume
(``calibration.match_fractions``) so that the labels have exactly the composition that model
predicts for the parameters, as the manufacturing simulator's do; the network decides where each
phase goes. ``match_fractions=False``, or older weights, use the argmax calibration instead: offsets
that are a quadratic function of the condition fitted on the training images at the end of
training (``calibration.calibrate_phase_offsets``), so argmax fractions match the training
fractions at the training conditions. Any shape works: the generator is fully convolutional with a
tile of ``2**stages`` voxels per latent cell (``tile``: 8 for the shipped 3-stage design, 16 for
4 stages), so it generates ``ceil(n / tile)`` latent cells per axis and crops (64³ and 128³ need no crop).
Missing parameters take the middle of the envelope; unknown names raise; values outside the
envelope raise unless ``allow_extrapolation`` is set (the caller warns, as
``electroforge.pipeline.check_generator_params`` does).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from electroforge.errors import InputFileError, ValidationError
from electroforge.model import Microstructure

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
SHIPPED_WEIGHTS = WEIGHTS_DIR / "default.pt"
_CACHE: dict[tuple[str, float], dict[str, Any]] = {}


def shipped_weights() -> list[str]:
    """Names of the weights files shipped with the plugin (``weights=NAME`` selects one)."""
    return sorted(p.stem for p in WEIGHTS_DIR.glob("*.pt"))


def resolve_weights(weights: str | Path | None) -> Path:
    """The weights file for the ``weights`` option: None is the shipped ``default``; a bare name
    without a suffix or a folder (``"first-design"``) is a shipped file; anything else a path."""
    if weights is None:
        return SHIPPED_WEIGHTS
    path = Path(weights)
    if path.suffix == "" and len(path.parts) == 1:
        if not (WEIGHTS_DIR / f"{path.name}.pt").is_file():
            raise InputFileError(f"generator 'gan': no shipped weights named {str(weights)!r} "
                                 f"(shipped: {', '.join(shipped_weights())}; or give a path to a .pt file)")
        return WEIGHTS_DIR / f"{path.name}.pt"
    return path


def load_weights(path: str | Path) -> dict[str, Any]:
    """Read and check a weights file (cached by path and modification time)."""
    import torch

    from electroforge.plugins.gan.persistence import WEIGHTS_FORMAT

    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such GAN weights file (train one with `electroforge train-generator`)")
    key = (str(path.resolve()), path.stat().st_mtime)
    if key not in _CACHE:
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise InputFileError(f"{path}: cannot read GAN weights ({type(exc).__name__})") from None
        if not isinstance(payload, dict) or payload.get("format") != WEIGHTS_FORMAT:
            raise InputFileError(f"{path}: not an electroforge GAN weights file (format {WEIGHTS_FORMAT})")
        _CACHE[key] = payload
    return _CACHE[key]


class GanGenerator:
    """Conditional 3D generator; see the module docstring for options and behaviour."""

    name = "gan"
    #: The envelope of the shipped weights (instances report their own weights' envelope).
    parameters: Mapping[str, tuple[float, float]] = {
        "am_mass_fraction": (0.85, 0.97),
        "porosity": (0.25, 0.50),
        "binder_adhesion": (0.0, 1.0),
    }

    def __init__(self, weights: str | Path | None = None, device: str = "auto", voxel_size_m: float | None = None,
                 allow_extrapolation: bool = False, match_fractions: bool = True):
        self.weights = resolve_weights(weights)
        self._setup(load_weights(self.weights), device, voxel_size_m, allow_extrapolation, match_fractions)

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any], device: str = "cpu", name: str = "<in memory>",
                     allow_extrapolation: bool = False, match_fractions: bool = True) -> "GanGenerator":
        """A generator from an in-memory payload (``training.weights_payload``), e.g. to score a
        generator during training without writing a file."""
        self = cls.__new__(cls)
        self.weights = Path(name)
        self._setup(payload, device, None, allow_extrapolation, match_fractions)
        return self

    def _setup(self, payload: Mapping[str, Any], device: str, voxel_size_m: float | None, allow_extrapolation: bool,
               match_fractions: bool = True):
        import torch

        from electroforge.plugins.gan.config import pick_device
        from electroforge.plugins.gan.designs import build_generator, inference
        from electroforge.plugins.gan.persistence import float_state_dict

        self.device = str(device)
        self.allow_extrapolation = bool(allow_extrapolation)
        self.param_names: tuple[str, ...] = tuple(payload["param_names"])
        self.parameters = {k: (float(v[0]), float(v[1])) for k, v in payload["bounds"].items()}
        self.phases = tuple(payload["phases"])
        if voxel_size_m is not None and not (math.isfinite(voxel_size_m) and voxel_size_m > 0):
            raise ValidationError(f"generator 'gan': voxel_size_m={voxel_size_m!r} must be > 0")
        self.voxel_size_m = float(voxel_size_m if voxel_size_m is not None else payload["voxel_size_m"])
        self.steps = int(payload.get("steps", 0))
        radius = payload.get("particle_radius_m")
        # the training images' particle radius (weights files before 0.2 have none: the cell default)
        self.particle_radius_m = float(radius) if radius else None
        self._torch_device = pick_device(self.device)
        net = build_generator(payload, len(self.param_names), self.phases)
        net.load_state_dict(float_state_dict(payload))
        self.net = net.to(self._torch_device).eval()
        self._fast = inference(self.net)  # voxel design: the same logits, stages in sub-pixel form
        cal = payload.get("phase_offsets")
        self._offset_w = None if not cal else torch.tensor(cal["weight"], dtype=torch.float32, device=self._torch_device)
        model = payload.get("fraction_model")
        #: the composition model the labels are matched to (None: argmax calibration, see module docstring)
        self.fraction_model = model if (model and match_fractions) else None
        self._torch = torch

    @property
    def tile(self) -> int:
        """Voxels generated per latent cell along each axis."""
        return self.net.tile

    def resolve(self, params: Mapping[str, float]) -> dict[str, float]:
        """Fill missing parameters with mid-envelope values; check names and the envelope."""
        unknown = sorted(set(params) - set(self.param_names))
        if unknown:
            raise ValidationError(
                f"generator 'gan' ({self.weights.name}) does not take parameter(s) {unknown}; it takes {list(self.param_names)}"
            )
        out = {}
        for n in self.param_names:
            lo, hi = self.parameters[n]
            v = float(params.get(n, 0.5 * (lo + hi)))
            if not math.isfinite(v):
                raise ValidationError(f"generator 'gan': {n}={v!r} must be finite")
            if not lo - 1e-9 <= v <= hi + 1e-9:
                msg = f"generator 'gan': {n}={v:g} is outside its training envelope [{lo:g}, {hi:g}]"
                if not self.allow_extrapolation:
                    raise ValidationError(msg + " (use --allow-extrapolation to try anyway)")
                # with allow_extrapolation the caller warns (pipeline.check_generator_params does)
            out[n] = v
        return out

    def generate(self, params: Mapping[str, float], shape: tuple[int, int, int], seed: int) -> Microstructure:
        torch = self._torch
        p = self.resolve(params)
        try:
            dims = tuple(int(s) for s in shape)
        except (TypeError, ValueError):
            raise ValidationError(f"generator 'gan': shape {shape!r} must be three integers") from None
        if len(dims) != 3 or min(dims) < 2:
            raise ValidationError(f"generator 'gan': shape {shape!r} must be three edges of at least 2 voxels")
        lat = [self.net.latent_cells(n) for n in dims]
        scaled = [(p[n] - self.parameters[n][0]) / ((self.parameters[n][1] - self.parameters[n][0]) or 1.0)
                  for n in self.param_names]
        dev = self._torch_device
        devices = [dev.index or 0] if dev.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            torch.manual_seed(int(seed) & 0x7FFFFFFFFFFFFFFF)
            z = torch.randn(1, self.net.nz, *lat, device=dev)
            c = torch.tensor([scaled], dtype=torch.float32, device=dev)
            from electroforge.plugins.gan.nets import labels_from_relative

            rel = self._fast.relative_logits(z, c)[:, :, : dims[0], : dims[1], : dims[2]]
            offsets = None
            if self.fraction_model is not None:  # the composition the parameters fix, per volume
                from electroforge.plugins.gan.calibration import match_fractions, predict_fractions

                target = predict_fractions(self.fraction_model, c[0])
                offsets = match_fractions(rel[0].reshape(rel.shape[1], -1), target)[None]
            elif self._offset_w is not None:  # argmax calibration fitted on the training images
                from electroforge.plugins.gan.nets import quadratic_features

                offsets = (self._offset_w @ quadratic_features(c[0]))[None]
            labels = np.ascontiguousarray(labels_from_relative(rel, offsets)[0].cpu().numpy())
        return Microstructure(
            labels=labels,
            voxel_size_m=self.voxel_size_m,
            phases=self.phases,
            metadata={"generator": self.name, "params": p, "seed": int(seed), "weights": self.weights.name,
                      "training_steps": self.steps},
            particle_radius_m=self.particle_radius_m,
        )
