"""Evaluate one design: generator -> characterizer -> cell simulator(s) -> objective.

Also the small parsing and checking helpers that the CLI and campaigns share.
"""
from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from electroforge.errors import ValidationError


def parse_assignments(items: Iterable[str], what: str = "--param") -> dict[str, float]:
    """``["porosity=0.35", "am_mass_fraction=0.9"]`` -> dict of floats; errors name the item."""
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = str(item).partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValidationError(f"{what} {item!r}: expected NAME=VALUE")
        try:
            v = float(value)
        except ValueError:
            raise ValidationError(f"{what} {item!r}: {value!r} is not a number") from None
        if not math.isfinite(v):
            raise ValidationError(f"{what} {item!r}: value must be finite")
        out[name] = v
    return out


def check_generator_params(generator: Any, params: Mapping[str, float], allow_extrapolation: bool = False) -> None:
    """Raise (or warn, with ``allow_extrapolation``) on unknown or out-of-envelope parameters."""
    bounds: Mapping[str, tuple[float, float]] = getattr(generator, "parameters", {}) or {}
    name = getattr(generator, "name", type(generator).__name__)
    unknown = [k for k in params if k not in bounds]
    if unknown and bounds:
        raise ValidationError(
            f"generator {name!r} does not take parameter(s) {unknown}; it takes {sorted(bounds)}"
        )
    for k, v in params.items():
        if k not in bounds:
            continue
        lo, hi = bounds[k]
        if not lo - 1e-9 <= v <= hi + 1e-9:
            msg = f"generator {name!r}: {k}={v:g} is outside its envelope [{lo:g}, {hi:g}]"
            if not allow_extrapolation:
                raise ValidationError(msg + " (use --allow-extrapolation to try anyway)")
            print(f"warning: {msg}; extrapolating", file=sys.stderr)
