"""Whether a characterised volume can carry a cell: the failure reasons shared by every stage.

A structure whose pores (or solid) do not connect the two x faces is not an exception: the
characterizer reports ``tortuosity_factor = inf`` (or ``effective_conductivity_S_per_m = 0``)
and the evaluation is marked failed with one of these one-line reasons (the same strings
:func:`electroforge.pipeline.evaluate_design` uses; this module gives them to the CLI and other callers).
"""
from __future__ import annotations

import math

from electroforge.model import STATUS_FAILED, STATUS_OK, Metrics
from electroforge.pipeline import NOT_PERCOLATING_PORE as PORE_NOT_PERCOLATING
from electroforge.pipeline import NOT_PERCOLATING_SOLID as SOLID_NOT_PERCOLATING

__all__ = ["PORE_NOT_PERCOLATING", "SOLID_NOT_PERCOLATING", "failure_reason", "status_of"]


def failure_reason(metrics: Metrics) -> str:
    """``""`` for a usable structure, else the one-line reason (pores are checked first)."""
    if not math.isfinite(metrics.tortuosity_factor):
        return PORE_NOT_PERCOLATING
    if not metrics.effective_conductivity_S_per_m > 0:
        return SOLID_NOT_PERCOLATING
    return ""


def status_of(metrics: Metrics) -> tuple[str, str]:
    """``("ok", "")`` or ``("failed", reason)``."""
    reason = failure_reason(metrics)
    return (STATUS_FAILED, reason) if reason else (STATUS_OK, "")
