"""One place that builds the generator network of a design (a training config or a weights file).

:func:`build_generator` maps the fields in :data:`~electroforge.plugins.gan.config.GENERATOR_FIELDS`
(``output`` picks the design) to a network: the voxel design
(:class:`~electroforge.plugins.gan.nets.CondGenerator3D`) or the spheres design
(:class:`~electroforge.plugins.gan.sphere_nets.SphereGenerator3D`). Both give ``logits(z, c)``,
``forward`` (probabilities), ``nz``, ``tile`` and ``latent_cells(n_voxels)``; :func:`inference`
gives the object with ``relative_logits`` that :class:`~electroforge.plugins.gan.generator.GanGenerator`
calls.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from torch import nn

from electroforge.errors import ValidationError
from electroforge.plugins.gan.config import GENERATOR_FIELDS
from electroforge.plugins.gan.nets import CondGenerator3D, FastInference
from electroforge.plugins.gan.sphere_nets import SphereGenerator3D


def design_fields(source: Mapping[str, Any]) -> dict[str, Any]:
    """The generator fields of ``source`` (a config as a dict, or a weights payload), with the
    defaults of files written before a field existed."""
    out = {}
    for key, default in GENERATOR_FIELDS.items():
        v = source.get(key, default)
        out[key] = tuple(v) if isinstance(v, (list, tuple)) else v
    return out


def build_generator(source: Mapping[str, Any], n_params: int, phases: Sequence[str], subpixel: bool = False) -> nn.Module:
    """The (untrained) generator network of the design in ``source``."""
    d = design_fields(source)
    if d["output"] == "spheres":
        try:
            return SphereGenerator3D(n_params, int(d["nz"]), d["channels"], phases, cell=int(d["sphere_cell"]),
                                     slots=int(d["sphere_slots"]), binder_channels=d["binder_channels"])
        except ValueError as exc:
            raise ValidationError(f"generator design 'spheres': {exc}") from None
    if d["output"] != "voxels":
        raise ValidationError(f"generator design {d['output']!r} is unknown (this version has voxels and spheres)")
    return CondGenerator3D(n_params, int(d["nz"]), d["channels"], len(phases), d["noise_stages"], subpixel=subpixel)


def inference(net: nn.Module) -> Any:
    """The eval-mode inference object of ``net`` (``relative_logits(z, c)``, ``labels``): the
    folded sub-pixel form for the voxel design, the network itself for the spheres design."""
    return FastInference(net) if isinstance(net, CondGenerator3D) else net
