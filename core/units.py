"""Parse friendly CLI quantities into SI: ``0.4um`` -> 4e-7 m, ``20mg/cm2`` -> 0.2 kg/m²."""
from __future__ import annotations

import re

from electroforge.errors import ValidationError

_NUMBER = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"

_LENGTH = {"m": 1.0, "mm": 1e-3, "um": 1e-6, "µm": 1e-6, "micron": 1e-6, "nm": 1e-9}
_LOADING = {"kg/m2": 1.0, "g/m2": 1e-3, "mg/cm2": 1e-2}
_POWER = {"w": 1.0, "kw": 1e3, "mw": 1e-3}


def _parse(text: str, units: dict[str, float], what: str, default_unit: str | None) -> float:
    s = str(text).strip().replace(" ", "")
    m = re.fullmatch(_NUMBER + r"([a-zA-Zµ/0-9]*)", s)
    if not m:
        raise ValidationError(f"{what} {text!r}: expected a number with a unit, e.g. {_example(units)}")
    value, unit = float(m.group(1)), m.group(2)
    if not unit:
        if default_unit is None:
            raise ValidationError(f"{what} {text!r}: give a unit, e.g. {_example(units)}")
        unit = default_unit
    table = {k.lower(): v for k, v in units.items()}
    if unit.lower() not in table:
        raise ValidationError(f"{what} {text!r}: unknown unit {unit!r} (use one of {', '.join(units)})")
    out = value * table[unit.lower()]
    if not out > 0:
        raise ValidationError(f"{what} {text!r}: must be > 0")
    return out


def _example(units: dict[str, float]) -> str:
    return "1" + next(iter(reversed(units)))


def parse_length_m(text: str, default_unit: str | None = None) -> float:
    """``"0.4um"`` -> 4e-7; units m, mm, um/µm, nm."""
    return _parse(text, _LENGTH, "length", default_unit)


def parse_loading_kg_per_m2(text: str, default_unit: str | None = "mg/cm2") -> float:
    """``"20mg/cm2"`` -> 0.2 (kg/m²); a bare number is read as mg/cm²."""
    return _parse(text, _LOADING, "mass loading", default_unit)


def parse_power_W(text: str, default_unit: str | None = "W") -> float:
    """``"10W"`` -> 10.0; ``"0.2kW"`` -> 200.0; a bare number is read as W."""
    return _parse(text, _POWER, "power", default_unit)
