"""The plugin contract page cannot drift from the code: every hook spec and component protocol is
documented, and every public module is listed."""

from pathlib import Path

import electroforge
from electroforge import hookspecs
from electroforge.components import PROTOCOLS

DOC = (Path(__file__).resolve().parent.parent / "docs" / "plugin-contract.md").read_text()


def test_every_hook_spec_has_a_heading():
    specs = [n for n in dir(hookspecs) if n.startswith(("register_", "on_"))]
    assert specs
    for name in specs:
        assert f"### `{name}(" in DOC, f"docs/plugin-contract.md lacks a heading for hook {name}"


def test_every_protocol_and_public_module_is_documented():
    for proto in PROTOCOLS.values():
        assert f"`{proto.__name__}`" in DOC
    for module in electroforge.PUBLIC_MODULES:
        assert f"`{module}`" in DOC, f"docs/plugin-contract.md does not list public module {module}"
