"""Hook specifications: the plugin contract of electroforge (docs/plugin-contract.md).

A plugin is a module (or object) registered under the entry-point group ``electroforge``;
it implements any of these hooks with functions decorated by :data:`hookimpl`.

Registration hooks (``register_*``) are called on every plugin and their lists are collected
(no ``firstresult``): each returns a list of component *classes* (or instances) whose ``name``
attribute is unique within the kind and which satisfy the kind's protocol in
:mod:`electroforge.components` (the registry lists a component that does not as broken, naming
the missing member). Event hooks (``on_*``) observe; their return values are ignored and an
exception in one is reported as a warning and does not stop the campaign.

A hook implementation may accept fewer arguments than its spec, so specs can grow without
breaking existing plugins.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    from electroforge.campaign import CampaignSummary
    from electroforge.model import Evaluation

#: Project name shared by the markers, the plugin manager and the entry-point group.
PROJECT_NAME = "electroforge"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
#: Decorate a plugin's hook functions with this marker.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# ---------------------------------------------------------------- registration
@hookspec
def register_generators() -> list[Any]:
    """Return generator classes (:class:`electroforge.components.Generator`).

    A generator has ``name: str``, a ``parameters`` mapping (name -> (lower, upper)) and
    ``generate(params, shape, seed) -> Microstructure``; optionally
    ``generate_with_uncertainty(params, shape, seed) -> (Microstructure, float)`` where the float
    is the generator's *relative* (dimensionless) uncertainty about its output, e.g. the spread of the
    metrics across ensemble members divided by their mean (0.05 = 5%). A campaign stores it per
    evaluation and tells the optimizer a noise variance of ``(uncertainty * objective)**2``.
    """


@hookspec
def register_characterizers() -> list[Any]:
    """Return characterizer classes (:class:`electroforge.components.Characterizer`):
    ``characterize(microstructure) -> Metrics``."""


@hookspec
def register_cell_simulators() -> list[Any]:
    """Return cell-simulator classes (:class:`electroforge.components.CellSimulator`):
    ``simulate(electrode, cell, protocol) -> Performance``."""


@hookspec
def register_optimizers() -> list[Any]:
    """Return optimizer classes (:class:`electroforge.components.Optimizer`).

    Constructed as ``cls(space=DesignSpace, seed=int, **options)`` (the sense is maximisation);
    ``ask(n) -> list[dict[str, float]]`` and ``tell(params, objectives, failed)``, optionally
    ``tell(..., noise=None)`` with per-observation noise variances.
    """


@hookspec
def register_commands(app: Any) -> None:
    """Add command-line subcommands to ``app`` (a :class:`typer.Typer`), e.g.
    ``app.command("train-generator")(train_generator)``.

    Called once when the ``electroforge`` command starts, after the core's own commands, on every
    plugin that is not disabled: ``--disable NAME`` (or ``ELECTROFORGE_DISABLE``) removes the
    plugin's commands too. Keep the implementation cheap: import heavy libraries inside the
    command function, not here. An exception marks the plugin broken in ``electroforge plugins``;
    the other commands keep working. A command name that already exists is refused with a warning.
    """


# ---------------------------------------------------------------- events
@hookspec
def on_evaluation(evaluation: Evaluation) -> None:
    """Called after every evaluation of a campaign is stored (ok or failed)."""


@hookspec
def on_campaign_end(summary: CampaignSummary, campaign: CampaignSummary) -> None:
    """Called once when a campaign finishes, is interrupted, or stops on too many failures.

    ``summary`` is a frozen :class:`electroforge.campaign.CampaignSummary` (name, file, config,
    status, every evaluation, best, stop reason). ``campaign`` is the same object under the name
    that plugins written before the summary existed take; new plugins take ``summary``.
    """
