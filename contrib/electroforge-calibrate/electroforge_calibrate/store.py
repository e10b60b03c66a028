"""The calibration file: a JSON document holding fitted corrections, their uncertainty and provenance.

Format (``"format": "electroforge-calibration"``, ``"version": 1``)::

    {
      "format": "electroforge-calibration", "version": 1,
      "parameters": {"tortuosity_multiplier": 1.62, "contact_resistance_Ohm_m2": 0.0021, ...},
      "uncertainty": {"tortuosity_multiplier": 0.04, ...},      # 1-sigma, from the Jacobian
      "rmse_V": 0.0021, "n_points": 400,
      "simulator": {"model": "DFN", "parameter_set": "Chen2020"},
      "provenance": {"measurements": [{"path": ..., "sha256": ...}], "metrics": {...},
                     "electrode": {...}, "cell": "half", "created": "...", "versions": {...}}
    }

Only ``parameters`` is needed by the ``pybamm-calibrated`` simulator; the rest documents the fit.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from electroforge.errors import InputFileError

FORMAT = "electroforge-calibration"
VERSION = 1


@attrs.frozen
class Calibration:
    """Fitted sim-to-real corrections of one cell build."""

    parameters: Mapping[str, float] = attrs.field(converter=lambda d: {str(k): float(v) for k, v in d.items()})
    """Correction name -> value (names of :data:`electroforge_calibrate.simulator.CORRECTIONS`)."""
    uncertainty: Mapping[str, float] = attrs.field(factory=dict, converter=lambda d: {str(k): float(v) for k, v in d.items()})
    """Correction name -> 1-sigma standard error from the fit's Jacobian (nan when not identifiable)."""
    rmse_V: float = float("nan")
    """Root-mean-square voltage residual of the fit (V)."""
    n_points: int = 0
    simulator: Mapping[str, Any] = attrs.field(factory=dict, converter=dict)
    """The simulator options the fit used (``model``, ``parameter_set``)."""
    provenance: Mapping[str, Any] = attrs.field(factory=dict, converter=dict)

    def to_dict(self) -> dict[str, Any]:
        def clean(v: float) -> float | None:
            return v if math.isfinite(v) else None

        return {
            "format": FORMAT, "version": VERSION,
            "parameters": dict(self.parameters),
            "uncertainty": {k: clean(v) for k, v in self.uncertainty.items()},
            "rmse_V": clean(self.rmse_V), "n_points": self.n_points,
            "simulator": dict(self.simulator), "provenance": dict(self.provenance),
        }

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, default=str) + "\n")


#: Calibrations shipped with the package, by name (a campaign's ``calibration = "<name>"``).
NAMED = {
    # lithium inventory and cathode capacity fitted to Ank et al. 2023's T-cell pOCV (discharge)
    # of the Tesla 4680 teardown's electrodes, the anode 111 um per side (docs/cell-simulator.md)
    "ank2023-tesla-4680": "ank2023_tesla4680_balance.json",
}


def calibration_path(name_or_path: str | Path) -> Path:
    """The file of a named packaged calibration (:data:`NAMED`), else the path itself."""
    key = str(name_or_path)
    if key in NAMED:
        from importlib.resources import files

        return Path(str(files("electroforge_calibrate") / "data" / NAMED[key]))
    return Path(name_or_path)


def load_calibration(path: str | Path) -> Calibration:
    """Read a calibration JSON (a path, or the name of a packaged one in :data:`NAMED`); a
    missing, unreadable or malformed file raises a one-line InputFileError."""
    from electroforge_calibrate.simulator import check_corrections

    p = calibration_path(path)
    if not p.is_file():
        raise InputFileError(f"{p}: calibration file not found")
    try:
        data = json.loads(p.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(f"{p}: not a calibration JSON ({type(exc).__name__})") from None
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise InputFileError(f"{p}: not a calibration file (expected \"format\": \"{FORMAT}\")")
    if data.get("version") != VERSION:
        raise InputFileError(f"{p}: calibration version {data.get('version')!r} is not supported (expected {VERSION})")
    params = data.get("parameters")
    if not isinstance(params, Mapping) or not params:
        raise InputFileError(f"{p}: \"parameters\" must be a non-empty object")
    try:
        params = check_corrections(params, who=str(p))
    except Exception as exc:
        raise InputFileError(str(exc)) from None
    unc = {k: (float("nan") if v is None else float(v)) for k, v in (data.get("uncertainty") or {}).items()}
    rmse = data.get("rmse_V")
    return Calibration(parameters=params, uncertainty=unc, rmse_V=float("nan") if rmse is None else float(rmse),
                       n_points=int(data.get("n_points", 0)), simulator=data.get("simulator") or {},
                       provenance=data.get("provenance") or {})
