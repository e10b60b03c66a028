"""State and helpers shared by the CLI commands."""
from __future__ import annotations

import json
import math
import sys
from typing import Any

import attrs
from rich.console import Console

console = Console()
err_console = Console(stderr=True)


@attrs.define
class _State:
    disable: list[str] = attrs.field(factory=list)
    _registry: Any = None

    def registry(self):
        """The plugin registry, built on first use with the ``--disable`` names applied."""
        if self._registry is None:
            from electroforge.registry import get_registry

            self._registry = get_registry(disable=self.disable)
        return self._registry


STATE = _State()


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def _finite(obj: Any) -> Any:
    """Replace non-finite floats by strings ("inf", "-inf", "nan") so the JSON is strict."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def print_json(obj: Any) -> None:
    """Print strict JSON (non-finite numbers as strings) to stdout."""
    sys.stdout.write(json.dumps(_finite(obj), indent=2, default=_json_default) + "\n")
    sys.stdout.flush()
