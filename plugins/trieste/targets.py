"""What the GP is fitted to: standardised objectives with failures imputed (pure numpy).

Failed evaluations are never dropped (the optimizer would re-propose the same failing point
forever): each is given the worst successful standardised value minus ``margin`` times the
standardised range of the successes, so the GP mean is low around failures and expected
improvement steers away from them. The result is for *maximisation*; the trieste adapter negates.
"""
from __future__ import annotations

import numpy as np


def standardise_with_imputation(objectives: np.ndarray, failed: np.ndarray, margin: float) -> tuple[np.ndarray, float, float]:
    """Return (targets, mean, std): targets = (y - mean) / std over the successes, failures imputed.

    ``std`` is 1 when fewer than two distinct successes exist. Requires at least one success.
    """
    y = np.asarray(objectives, dtype=float)
    failed = np.asarray(failed, dtype=bool) | ~np.isfinite(y)
    ok = y[~failed]
    if ok.size == 0:
        raise ValueError("standardise_with_imputation needs at least one successful observation")
    mean = float(ok.mean())
    std = float(ok.std())
    if not np.isfinite(std) or std <= 1e-12 * max(1.0, abs(mean)):
        std = 1.0
    z = (y - mean) / std
    z_ok = z[~failed]
    spread = float(z_ok.max() - z_ok.min()) if z_ok.size > 1 else 1.0
    z[failed] = float(z_ok.min()) - margin * max(spread, 1e-6)
    return z, mean, std
