"""Hook specifications: the plugin contract of electroforge (DESIGN.md section 3).

A plugin is a module (or object) registered under the entry-point group ``electroforge``;
it implements any of these hooks with functions decorated by :data:`hookimpl`.

Registration hooks (``register_*``) are called on every plugin and their lists are collected:
each returns a list of component *classes* (or instances) whose ``name`` attribute is unique
within the kind. Event hooks (``on_*``) observe; their return values are ignored and an
exception in one is reported and does not stop the campaign.

A hook implementation may accept fewer arguments than its spec, so specs can grow without
breaking existing plugins.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    from electroforge.model import Evaluation

#: Project name shared by the markers, the plugin manager and the entry-point group.
PROJECT_NAME = "electroforge"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
#: Decorate a plugin's hook functions with this marker.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# ---------------------------------------------------------------- registration
@hookspec
def register_generators() -> list[Any]:
    """Return generator classes: microstructures from manufacturing parameters.

    A generator has ``name: str``, a ``parameters`` mapping (name -> (lower, upper)) and
    ``generate(params, shape, seed) -> Microstructure``; optionally
    ``generate_with_uncertainty(params, shape, seed) -> (Microstructure, float)`` where the float
    is the generator's *relative* (dimensionless) uncertainty about its output, e.g. the spread of the
    metrics across ensemble members divided by their mean (0.05 = 5%). A campaign stores it per
    evaluation and tells the optimizer a noise variance of ``(uncertainty * objective)**2``.
    """


@hookspec
def register_characterizers() -> list[Any]:
    """Return characterizer classes: ``characterize(microstructure) -> Metrics``."""


@hookspec
def register_cell_simulators() -> list[Any]:
    """Return cell-simulator classes: ``simulate(electrode, cell, protocol) -> Performance``."""


@hookspec
def register_optimizers() -> list[Any]:
    """Return optimizer classes.

    Constructed as ``cls(space=DesignSpace, seed=int, **options)`` (the sense is maximisation);
    ``ask(n) -> list[dict[str, float]]`` and ``tell(params, objectives, failed)``.
    """


# ---------------------------------------------------------------- events
@hookspec
def on_evaluation(evaluation: Evaluation) -> None:
    """Called after every evaluation of a campaign is stored (ok or failed)."""


@hookspec
def on_campaign_end(campaign: Any) -> None:
    """Called once when a campaign finishes, is interrupted, or stops on too many failures."""
