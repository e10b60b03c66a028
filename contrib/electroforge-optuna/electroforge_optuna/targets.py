"""Objective values as the backends see them, failures included (pure numpy).

A failed evaluation is never dropped (an optimizer that forgets it proposes the same failing
design again): it is given the worst successful value minus ``margin`` times the successes'
range, as the built-in ``trieste`` optimizer imputes failures, so both TPE and CMA-ES rank it
below every success. With no success at all every row gets 0 (all equal, nothing to prefer).
"""
from __future__ import annotations

import numpy as np


def impute_failures(objectives: np.ndarray, failed: np.ndarray, margin: float) -> np.ndarray:
    """Maximised values with failed rows replaced as described in the module docstring."""
    y = np.asarray(objectives, dtype=float).copy()
    bad = np.asarray(failed, dtype=bool) | ~np.isfinite(y)
    ok = y[~bad]
    if ok.size == 0:
        return np.zeros_like(y)
    spread = float(ok.max() - ok.min()) if ok.size > 1 else 0.0
    scale = spread if spread > 0 else max(abs(float(ok.min())), 1.0)
    y[bad] = float(ok.min()) - margin * scale
    return y


def check_margin(value: object, who: str) -> float:
    """``impute_margin`` as a float >= 0, or a one-line ValidationError naming ``who``."""
    from electroforge.errors import ValidationError

    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        v = float("nan")
    if not np.isfinite(v) or v < 0:
        raise ValidationError(f"optimizer {who!r}: impute_margin={value!r} must be a number >= 0")
    return v
