"""Design parameters, their bounds and the design space an optimizer searches."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import numpy as np

from electroforge._convert import to_tuple
from electroforge.errors import ValidationError

#: Which stage a parameter feeds: the generator (microstructure) or the cell (e.g. mass loading).
STAGES = ("generator", "cell")


@attrs.frozen
class Parameter:
    """One design variable with closed bounds ``[lower, upper]``."""

    name: str
    lower: float = attrs.field(converter=float)
    upper: float = attrs.field(converter=float)
    stage: str = "generator"
    unit: str = ""
    """Free-text unit for display (values are SI or dimensionless)."""

    def __attrs_post_init__(self):
        if not self.name or not self.name.isidentifier():
            raise ValidationError(f"Parameter.name={self.name!r}: must be an identifier like 'porosity'")
        if not (math.isfinite(self.lower) and math.isfinite(self.upper) and self.lower < self.upper):
            raise ValidationError(
                f"Parameter {self.name!r}: bounds [{self.lower}, {self.upper}] must be finite with lower < upper"
            )
        if self.stage not in STAGES:
            raise ValidationError(f"Parameter {self.name!r}: stage={self.stage!r} must be one of {STAGES}")

    def contains(self, value: float, tol: float = 1e-9) -> bool:
        return self.lower - tol <= value <= self.upper + tol


@attrs.frozen
class DesignSpace:
    """An ordered box of parameters. Optimizers see it in the unit cube."""

    parameters: tuple[Parameter, ...] = attrs.field(converter=to_tuple)

    def __attrs_post_init__(self):
        if not self.parameters:
            raise ValidationError("DesignSpace: needs at least one parameter")
        names = [p.name for p in self.parameters]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValidationError(f"DesignSpace: duplicate parameter name(s) {sorted(dup)}")

    @classmethod
    def from_bounds(cls, bounds: Mapping[str, Any], stages: Mapping[str, str] | None = None) -> DesignSpace:
        """From ``{"porosity": (0.25, 0.5), ...}`` (order kept)."""
        params = []
        for name, b in bounds.items():
            try:
                lo, hi = b
            except (TypeError, ValueError):
                raise ValidationError(f"design space: bounds of {name!r} must be [lower, upper], got {b!r}") from None
            params.append(Parameter(name, lo, hi, stage=(stages or {}).get(name, "generator")))
        return cls(tuple(params))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters)

    @property
    def dim(self) -> int:
        return len(self.parameters)

    @property
    def lower(self) -> np.ndarray:
        return np.array([p.lower for p in self.parameters])

    @property
    def upper(self) -> np.ndarray:
        return np.array([p.upper for p in self.parameters])

    def __getitem__(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)

    def by_stage(self, stage: str) -> tuple[str, ...]:
        return tuple(p.name for p in self.parameters if p.stage == stage)

    def check(self, params: Mapping[str, float]) -> None:
        """Raise ValidationError naming the first missing or out-of-bounds parameter."""
        for p in self.parameters:
            if p.name not in params:
                raise ValidationError(f"design: parameter {p.name!r} is missing")
            v = float(params[p.name])
            if not p.contains(v):
                raise ValidationError(f"design: {p.name}={v:g} is outside [{p.lower:g}, {p.upper:g}]")

    def to_unit(self, params: Mapping[str, float] | Iterable[Mapping[str, float]]) -> np.ndarray:
        """Map parameter dict(s) to the unit cube: shape (dim,) or (n, dim)."""
        if isinstance(params, Mapping):
            x = np.array([float(params[n]) for n in self.names])
            return (x - self.lower) / (self.upper - self.lower)
        return np.array([self.to_unit(p) for p in params]).reshape(-1, self.dim)

    def from_unit(self, x: np.ndarray) -> dict[str, float]:
        """Map one unit-cube point (clipped to [0, 1]) to a parameter dict."""
        x = np.clip(np.asarray(x, dtype=float).ravel(), 0.0, 1.0)
        values = self.lower + x * (self.upper - self.lower)
        return {n: float(v) for n, v in zip(self.names, values)}
