"""Observations from earlier campaign files, mapped onto a new design space (pure numpy).

Contract of :func:`load_prior_observations`: each file is read with
``electroforge.store.CampaignStore.open``; every parameter of the new space is taken from the
stored variable of the same name, or from ``fixed`` (the value the earlier campaign held it at)
when the file lacks it, else a one-line ``ValidationError`` names it; parameters the new space
lacks are ignored. Points outside the new bounds are dropped (``outside="drop"``) or clipped onto
them (``"clip"``). Objectives are standardised per file over its successes (zero mean, unit
variance), with failures imputed below the worst success exactly as the ``trieste`` optimizer
imputes its own (:mod:`electroforge.plugins.trieste.targets`), so campaigns whose objectives
differ in scale can be compared (``targets``); the raw values are kept too (``objectives``), and
``trieste-warm`` standardises those jointly with the new campaign's (same objective, same units).
The result is for maximisation and depends only on the files' contents and the arguments.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from electroforge.design import DesignSpace
from electroforge.errors import ValidationError
from electroforge.plugins.trieste.targets import standardise_with_imputation
from electroforge.store import CampaignStore

OUTSIDE_POLICIES = ("drop", "clip")


@dataclass(frozen=True)
class PriorObservations:
    """Prior points in the new space's unit cube and their standardised (maximised) targets."""

    x_unit: np.ndarray
    targets: np.ndarray
    #: the objective values as stored (NaN for failures), for standardising jointly with new ones
    objectives: np.ndarray = field(default_factory=lambda: np.empty(0))
    #: per file: (path, rows used, rows stored)
    sources: tuple[tuple[str, int, int], ...] = field(default=())

    def __len__(self) -> int:
        return len(self.targets)


def _as_paths(prior_campaigns: object) -> list[str]:
    if prior_campaigns is None:
        return []
    if isinstance(prior_campaigns, (str, Path)):
        return [str(prior_campaigns)]
    if isinstance(prior_campaigns, Sequence):
        return [str(p) for p in prior_campaigns]
    raise ValidationError(f"prior_campaigns must be a list of campaign-file paths, got {type(prior_campaigns).__name__}")


def load_prior_observations(
    prior_campaigns: object,
    space: DesignSpace,
    outside: str = "drop",
    fixed: Mapping[str, float] | None = None,
    impute_margin: float = 0.1,
) -> PriorObservations:
    """Read and map the earlier campaigns' observations (see the module docstring)."""
    if outside not in OUTSIDE_POLICIES:
        raise ValidationError(f"prior_outside={outside!r} is not one of {OUTSIDE_POLICIES}")
    fixed = dict(fixed or {})
    xs, ys, raws, sources = [], [], [], []
    for path in _as_paths(prior_campaigns):
        store = CampaignStore.open(path)  # one-line InputFileError when missing or unreadable
        rows = list(store.evaluations)
        getters = []
        for name in space.names:
            if name in store.space.names:
                getters.append(lambda e, name=name: e.params[name])
            elif name in fixed:
                value = float(fixed[name])
                getters.append(lambda e, value=value: value)
            else:
                raise ValidationError(
                    f"prior campaign {path}: has no parameter {name!r}; give the value it was held at in prior_fixed"
                )
        ok = np.array([e.ok and np.isfinite(e.objective) for e in rows], dtype=bool)
        if not ok.any():
            raise ValidationError(f"prior campaign {path}: has no successful evaluation to learn from")
        objectives = np.array([e.objective if o else np.nan for e, o in zip(rows, ok)], dtype=float)
        z, _, _ = standardise_with_imputation(objectives, ~ok, impute_margin)
        values = np.array([[g(e) for g in getters] for e in rows], dtype=float)
        unit = (values - space.lower) / (space.upper - space.lower)
        inside = np.all((unit >= -1e-9) & (unit <= 1 + 1e-9), axis=1)
        keep = inside if outside == "drop" else np.ones(len(rows), dtype=bool)
        xs.append(np.clip(unit[keep], 0.0, 1.0))
        ys.append(z[keep])
        raws.append(objectives[keep])
        sources.append((str(path), int(keep.sum()), len(rows)))
    if not xs:
        return PriorObservations(np.empty((0, space.dim)), np.empty(0))
    return PriorObservations(np.vstack(xs), np.concatenate(ys), np.concatenate(raws), tuple(sources))
