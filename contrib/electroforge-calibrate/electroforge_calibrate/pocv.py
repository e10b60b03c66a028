"""Near-equilibrium (pOCV) curves of a cell, optionally with both electrodes against a reference.

Contract: :func:`read_pocv_csv(path) -> PseudoOCV`; :func:`ank2023_tcell_path` is the packaged
measurement (the Tesla 4680 teardown's three-electrode T-cell, Ank et al. 2023; its header cites
the source). A pseudo-open-circuit-voltage curve is a very slow (C/20 or slower) constant-current
charge or discharge: its voltage is the cells' open-circuit voltage to within a few mV, so it
shows how the two electrodes are balanced (how much lithium they share and which one runs out).

File format: CSV, ``#`` comment lines first (free text, plus the optional metadata line
``# electrode_area_m2: <value>``: the cathode area the curves belong to), then a header row and
one row per sample. Columns (any order; extra columns ignored; the unit is part of the name):

* ``time_s`` (s), ``current_A`` (A, > 0 on discharge), ``voltage_V`` (full cell, V): required;
* ``cathode_potential_V``, ``anode_potential_V`` (V vs Li/Li+, from a reference electrode):
  optional, both or neither;
* ``step``: optional label of each sample's step (``charge`` / ``discharge``); without it the
  current's sign splits the file into steps.

Rules, each violation a one-line :class:`~electroforge.errors.InputFileError` naming the file and
the row or column: at least 10 rows in every step; every value a finite number; a column name
without its unit (``time``, ``I/mA``, ``Ewe/V``) is rejected with the expected SI name; time
strictly increasing; voltages in (0, 6] V, electrode potentials in [-0.5, 6] V; the current of a
step of one sign, 95 % of its samples within 5 % of its median (a pOCV step is one constant
current; the median is the step's current).
"""
from __future__ import annotations

import csv
import hashlib
import math
from importlib.resources import files
from pathlib import Path

import attrs
import numpy as np

from electroforge.errors import InputFileError

REQUIRED = ("time_s", "current_A", "voltage_V")
ELECTRODES = ("cathode_potential_V", "anode_potential_V")
MIN_ROWS = 10
CONSTANT_CURRENT_TOLERANCE = 0.05
#: Share of a step's samples allowed off its median current (a cycler's first sample of a step
#: often catches the current still ramping: the packaged T-cell's discharge starts at 89 %).
OFF_CURRENT_SHARE = 0.05
#: Column names a reader might hand us without SI units, and the name we expect instead.
UNIT_HINTS = {"time": "time_s", "time/s": "time_s", "time/h": "time_s (seconds)", "t": "time_s",
              "current": "current_A", "i": "current_A", "i/ma": "current_A (amperes)", "voltage": "voltage_V",
              "ewe-ece/v": "voltage_V", "v": "voltage_V", "ewe/v": "cathode_potential_V",
              "ece/v": "anode_potential_V", "time_h": "time_s (seconds)", "current_ma": "current_A (amperes)",
              "voltage_mv": "voltage_V (volts)"}
PACKAGED = "ank2023_tesla4680_tcell_pocv.csv"


@attrs.frozen(eq=False)
class PocvStep:
    """One constant-current step of a pOCV measurement."""

    name: str
    """``charge`` or ``discharge``."""
    time_s: np.ndarray
    """From 0 at the step's start."""
    current_A: float
    """The step's (median) current (A; > 0 on discharge)."""
    voltage_V: np.ndarray
    cathode_potential_V: np.ndarray | None = None
    anode_potential_V: np.ndarray | None = None

    @property
    def charge_passed_Ah(self) -> np.ndarray:
        """|current| x time (Ah) from the step's start."""
        return abs(self.current_A) * self.time_s / 3600.0

    @property
    def capacity_Ah(self) -> float:
        return float(self.charge_passed_Ah[-1])

    @property
    def has_electrodes(self) -> bool:
        return self.cathode_potential_V is not None


@attrs.frozen(eq=False)
class PseudoOCV:
    """A pOCV measurement: its steps in file order, the cathode area and the file's identity."""

    steps: tuple[PocvStep, ...]
    electrode_area_m2: float | None
    source: str = ""
    sha256: str = ""

    def step(self, name: str) -> PocvStep:
        """The first step called ``name``; a one-line error when the file has none."""
        for s in self.steps:
            if s.name == name:
                return s
        raise InputFileError(f"{self.source}: no {name} step (steps: {', '.join(s.name for s in self.steps)})")


def ank2023_tcell_path() -> Path:
    """The packaged T-cell pOCV data of the Tesla 4680 teardown (Ank et al. 2023; see its header)."""
    return Path(str(files("electroforge_calibrate") / "data" / PACKAGED))


def _fail(path, why: str) -> InputFileError:
    return InputFileError(f"{path}: {why}")


def _metadata_area(path: Path, comments: list[str]) -> float | None:
    for line in comments:
        key, sep, value = line.lstrip("#").partition(":")
        if sep and key.strip() == "electrode_area_m2":
            try:
                area = float(value)
            except ValueError:
                raise _fail(path, f"electrode_area_m2={value.strip()!r} is not a number") from None
            if not (math.isfinite(area) and area > 0):
                raise _fail(path, f"electrode_area_m2={area!r} must be a finite area > 0 (m²)")
            return area
    return None


def read_pocv_csv(path: str | Path) -> PseudoOCV:
    """Read and validate a pOCV file (see the module docstring)."""
    p = Path(path)
    if not p.is_file():
        raise _fail(p, "pOCV file not found")
    try:
        raw = p.read_bytes()
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(p, f"cannot read as text ({type(exc).__name__})") from None
    lines = [ln for ln in text.splitlines() if ln.strip()]
    comments = [ln for ln in lines if ln.lstrip().startswith("#")]
    rows = list(csv.reader([ln for ln in lines if not ln.lstrip().startswith("#")]))
    if not rows:
        raise _fail(p, f"empty file; expected a header with {', '.join(REQUIRED)} and rows of numbers")
    header = [h.strip() for h in rows[0]]
    for h in header:
        hint = UNIT_HINTS.get(h.lower())
        if hint is not None and h not in (*REQUIRED, *ELECTRODES):
            raise _fail(p, f"column {h!r} has no SI unit in its name; rename it {hint}")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise _fail(p, f"missing column(s) {', '.join(missing)} in header {header}; need {', '.join(REQUIRED)}")
    present = [c for c in ELECTRODES if c in header]
    if len(present) == 1:
        other = ELECTRODES[1 - ELECTRODES.index(present[0])]
        raise _fail(p, f"column {present[0]} without {other}: give both electrode potentials or neither")
    numeric = [*REQUIRED, *present]
    idx = {c: header.index(c) for c in numeric}
    step_col = header.index("step") if "step" in header else None
    data = np.empty((len(rows) - 1, len(numeric)))
    labels: list[str] = []
    for i, row in enumerate(rows[1:], start=2):
        for j, col in enumerate(numeric):
            try:
                cell = row[idx[col]]
            except IndexError:
                raise _fail(p, f"data row {i - 1} has no {col} value") from None
            try:
                v = float(cell)
            except ValueError:
                raise _fail(p, f"data row {i - 1}: {col}={cell.strip()!r} is not a number") from None
            if not math.isfinite(v):
                raise _fail(p, f"data row {i - 1}: {col}={v} is not finite")
            data[i - 2, j] = v
        if step_col is not None:
            label = row[step_col].strip().lower() if step_col < len(row) else ""
            if label not in ("charge", "discharge"):
                raise _fail(p, f"data row {i - 1}: step={label!r} must be charge or discharge")
            labels.append(label)
    if len(data) < MIN_ROWS:
        raise _fail(p, f"only {len(data)} data row(s); need at least {MIN_ROWS}")
    t, current, voltage = data[:, 0], data[:, 1], data[:, 2]
    if np.any(np.diff(t) <= 0):
        raise _fail(p, f"time_s must increase strictly (data row {int(np.argmax(np.diff(t) <= 0)) + 2})")
    bad = (voltage <= 0) | (voltage > 6)
    if np.any(bad):
        k = int(np.argmax(bad))
        raise _fail(p, f"data row {k + 1}: voltage_V={voltage[k]:g} is outside (0, 6] V")
    for j, col in enumerate(present, start=3):
        bad = (data[:, j] < -0.5) | (data[:, j] > 6)
        if np.any(bad):
            k = int(np.argmax(bad))
            raise _fail(p, f"data row {k + 1}: {col}={data[k, j]:g} is outside [-0.5, 6] V vs Li/Li+")
    if step_col is None:
        labels = ["discharge" if c > 0 else "charge" for c in current]
    starts = [0] + [k for k in range(1, len(labels)) if labels[k] != labels[k - 1]] + [len(labels)]
    steps = []
    for a, b in zip(starts[:-1], starts[1:]):
        name = labels[a]
        if b - a < MIN_ROWS:
            raise _fail(p, f"the {name} step starting at data row {a + 1} has {b - a} rows; need at least {MIN_ROWS}")
        i_step = current[a:b]
        mean = float(np.median(i_step))
        if (name == "discharge") != (mean > 0) or mean == 0:
            raise _fail(p, f"the {name} step starting at data row {a + 1} has median current {mean:g} A "
                           f"(current_A must be > 0 on discharge, < 0 on charge)")
        off = float(np.mean(np.abs(i_step - mean) > CONSTANT_CURRENT_TOLERANCE * abs(mean)))
        if off > OFF_CURRENT_SHARE:
            raise _fail(p, f"the {name} step starting at data row {a + 1}: {off:.0%} of its samples are more than "
                           f"{CONSTANT_CURRENT_TOLERANCE:.0%} off its median current; a pOCV step is one constant "
                           f"current")
        steps.append(PocvStep(
            name=name, time_s=t[a:b] - t[a], current_A=mean, voltage_V=voltage[a:b].copy(),
            cathode_potential_V=data[a:b, 3].copy() if present else None,
            anode_potential_V=data[a:b, 4].copy() if present else None))
    return PseudoOCV(steps=tuple(steps), electrode_area_m2=_metadata_area(p, comments), source=str(p),
                     sha256=hashlib.sha256(raw).hexdigest())


def write_pocv_csv(path: str | Path, steps, electrode_area_m2: float | None = None,
                   comments: tuple[str, ...] = ()) -> None:
    """Write ``steps`` (:class:`PocvStep`) in the format :func:`read_pocv_csv` reads."""
    steps = list(steps)
    with_electrodes = all(s.has_electrodes for s in steps)
    cols = ["step", *REQUIRED, *(ELECTRODES if with_electrodes else ())]
    with open(path, "w", newline="") as fh:
        for line in comments:
            fh.write(f"# {line}\n")
        if electrode_area_m2 is not None:
            fh.write(f"# electrode_area_m2: {electrode_area_m2:.6e}\n")
        w = csv.writer(fh)
        w.writerow(cols)
        t0 = 0.0
        for s in steps:
            for k in range(len(s.time_s)):
                row = [s.name, f"{t0 + s.time_s[k]:.6g}", f"{s.current_A:.6e}", f"{s.voltage_V[k]:.6f}"]
                if with_electrodes:
                    row += [f"{s.cathode_potential_V[k]:.6f}", f"{s.anode_potential_V[k]:.6f}"]
                w.writerow(row)
            t0 += float(s.time_s[-1]) + 1.0
