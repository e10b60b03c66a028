"""Measured discharge curves: read and validate a CSV with columns ``time_s, voltage_V, current_A``.

Contract: :func:`read_discharge_csv(path) -> Discharge`. The file has a header row naming the three
columns (any order, extra columns ignored), then one row per sample. Rules, each violation a
one-line :class:`~electroforge.errors.InputFileError` naming the file (and row or column):

* at least 10 rows, every value a finite number;
* time strictly increasing (it is shifted to start at 0);
* voltage within 0-6 V;
* current: positive on discharge (the battery convention), constant within 5 % of its mean
  (a constant-current discharge; the fitter replays it as ``ConstantCurrent``).

:func:`write_discharge_csv` writes the same format (used for synthetic measurements).
"""
from __future__ import annotations

import csv
import hashlib
import math
from pathlib import Path

import attrs
import numpy as np

from electroforge.errors import InputFileError

COLUMNS = ("time_s", "voltage_V", "current_A")
MIN_ROWS = 10
CONSTANT_CURRENT_TOLERANCE = 0.05


@attrs.frozen(eq=False)
class Discharge:
    """One measured constant-current discharge."""

    time_s: np.ndarray
    voltage_V: np.ndarray
    current_A: float
    """Mean discharge current (A, > 0)."""
    source: str = ""
    sha256: str = ""

    @property
    def duration_s(self) -> float:
        return float(self.time_s[-1] - self.time_s[0])

    @property
    def capacity_Ah(self) -> float:
        return self.current_A * self.duration_s / 3600.0


def _fail(path, why: str) -> InputFileError:
    return InputFileError(f"{path}: {why}")


def read_discharge_csv(path: str | Path) -> Discharge:
    """Read and validate one measured discharge (see the module docstring)."""
    p = Path(path)
    if not p.is_file():
        raise _fail(p, "measurement file not found")
    try:
        raw = p.read_bytes()
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(p, f"cannot read as text ({type(exc).__name__})") from None
    rows = [r for r in csv.reader(text.splitlines()) if r and any(c.strip() for c in r)]
    if not rows:
        raise _fail(p, f"empty file; expected a header {','.join(COLUMNS)} and rows of numbers")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise _fail(p, f"missing column(s) {', '.join(missing)} in header {header}; need {', '.join(COLUMNS)}")
    idx = [header.index(c) for c in COLUMNS]
    data = np.empty((len(rows) - 1, 3))
    for i, row in enumerate(rows[1:], start=2):
        for j, (col, k) in enumerate(zip(COLUMNS, idx)):
            try:
                v = float(row[k])
            except IndexError:
                raise _fail(p, f"row {i} has no {col} value") from None
            except ValueError:
                raise _fail(p, f"row {i}: {col}={row[k].strip()!r} is not a number") from None
            if not math.isfinite(v):
                raise _fail(p, f"row {i}: {col}={v} is not finite")
            data[i - 2, j] = v
    if len(data) < MIN_ROWS:
        raise _fail(p, f"only {len(data)} data row(s); need at least {MIN_ROWS}")
    t, v, i_a = data.T
    if np.any(np.diff(t) <= 0):
        bad = int(np.argmax(np.diff(t) <= 0)) + 3
        raise _fail(p, f"time_s must increase strictly (row {bad})")
    if np.any((v <= 0) | (v > 6)):
        bad = int(np.argmax((v <= 0) | (v > 6))) + 2
        raise _fail(p, f"row {bad}: voltage_V={v[bad - 2]:g} is outside (0, 6] V")
    mean_i = float(np.mean(i_a))
    if mean_i <= 0:
        raise _fail(p, f"mean current {mean_i:g} A is not a discharge (use positive current_A for discharge)")
    spread = float(np.max(np.abs(i_a - mean_i)) / mean_i)
    if spread > CONSTANT_CURRENT_TOLERANCE:
        raise _fail(p, f"current varies by {spread:.0%} of its mean; only constant-current discharges "
                       f"(within {CONSTANT_CURRENT_TOLERANCE:.0%}) are supported")
    return Discharge(time_s=t - t[0], voltage_V=v, current_A=mean_i, source=str(p),
                     sha256=hashlib.sha256(raw).hexdigest())


def write_discharge_csv(path: str | Path, time_s, voltage_V, current_A) -> None:
    """Write a discharge in the format :func:`read_discharge_csv` reads."""
    t = np.asarray(time_s, float)
    v = np.asarray(voltage_V, float)
    i_a = np.broadcast_to(np.asarray(current_A, float), t.shape)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for row in zip(t, v, i_a):
            w.writerow([f"{row[0]:.6g}", f"{row[1]:.6f}", f"{row[2]:.6g}"])
