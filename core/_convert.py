"""attrs converters with precise types (``converter=dict`` / ``converter=tuple`` are untyped for
type checkers). Internal to the core."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def to_dict(value: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """A fresh ``dict`` copy of a mapping (or of key/value pairs)."""
    return dict(value)


def to_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    """A ``tuple`` of the items (not generic: mypy's attrs plugin cannot solve a generic converter)."""
    return tuple(value)
