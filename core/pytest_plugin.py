"""pytest fixtures for plugin authors, loaded automatically once electroforge is installed.

Registered under the ``pytest11`` entry-point group, so any test suite run where electroforge
is installed can use them without a ``conftest.py``:

* ``ef_registry``: a factory ``ef_registry(("name", plugin_module_or_object), ..., autoload=False)``
  building an :class:`electroforge.Registry` from the given plugins only (autoload off by
  default, so the test sees exactly its own plugin);
* ``ef_design_space``: :func:`electroforge.testing.sample_design_space`;
* ``ef_metrics`` / ``ef_electrode``: a typical cathode's metrics and a 15 mg/cm² electrode;
* ``ef_microstructure``: a factory ``ef_microstructure("channels" | "columns" | "solid_layer" |
  "pore_layer", shape=(16, 12, 12))`` of analytic volumes;
* ``ef_check``: ``ef_check(component)`` runs every conformance check of its kind.

Nothing heavy is imported here: the fixtures import electroforge when a test asks for them.
"""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def ef_registry():
    """Build a registry from explicit ``(name, plugin)`` pairs (autoload off unless asked)."""
    from electroforge.registry import get_registry

    def make(*plugins: tuple[str, Any], autoload: bool = False, disable: tuple[str, ...] = ()):
        return get_registry(disable=disable, autoload=autoload, plugins=plugins)

    return make


@pytest.fixture
def ef_design_space():
    from electroforge.testing import sample_design_space

    return sample_design_space()


@pytest.fixture
def ef_metrics():
    from electroforge.testing import sample_metrics

    return sample_metrics()


@pytest.fixture
def ef_electrode():
    from electroforge.testing import sample_electrode

    return sample_electrode()


@pytest.fixture
def ef_microstructure():
    from electroforge.testing import sample_microstructure

    return sample_microstructure


@pytest.fixture
def ef_check():
    """``ef_check(component)``: every conformance check of the component's kind, in order."""
    from electroforge.testing import checks_for

    def run(component: Any, kind: str | None = None) -> None:
        for check in checks_for(component, kind):
            check(component)

    return run
