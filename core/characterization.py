"""Whether a characterised volume can carry a cell: the failure reasons shared by every stage.

A structure whose pores (or solid) do not connect the two x faces is not an exception: the
characterizer reports ``tortuosity_factor = inf`` (or ``effective_conductivity_S_per_m = 0``)
and the evaluation is marked failed with one of these one-line reasons (the same strings
:func:`electroforge.pipeline.evaluate_design` uses, defined with :attr:`Metrics.failure_reason`).
"""
from __future__ import annotations

from electroforge.model import PORE_NOT_PERCOLATING, SOLID_NOT_PERCOLATING, STATUS_FAILED, STATUS_OK, Metrics

__all__ = ["PORE_NOT_PERCOLATING", "SOLID_NOT_PERCOLATING", "failure_reason", "status_of"]


def failure_reason(metrics: Metrics) -> str:
    """``""`` for a usable structure, else the one-line reason (pores are checked first);
    :attr:`Metrics.failure_reason`."""
    return metrics.failure_reason


def status_of(metrics: Metrics) -> tuple[str, str]:
    """``("ok", "")`` or ``("failed", reason)``."""
    reason = failure_reason(metrics)
    return (STATUS_FAILED, reason) if reason else (STATUS_OK, "")
