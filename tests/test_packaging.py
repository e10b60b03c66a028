"""Packaging stays in sync with the source tree."""
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_every_source_package_is_listed_in_pyproject():
    cfg = tomllib.loads((REPO / "pyproject.toml").read_text())
    listed = set(cfg["tool"]["setuptools"]["packages"])
    roots = {"electroforge": REPO / "core", "electroforge.plugins": REPO / "plugins"}
    found = set()
    for prefix, root in roots.items():
        for init in root.rglob("__init__.py"):
            rel = init.parent.relative_to(root)
            if "__pycache__" in rel.parts:
                continue
            found.add(".".join([prefix, *rel.parts]) if rel.parts else prefix)
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"


def test_builtin_plugins_use_the_public_entry_point_group():
    cfg = tomllib.loads((REPO / "pyproject.toml").read_text())
    eps = cfg["project"]["entry-points"]["electroforge"]
    for name, target in eps.items():
        assert target == f"electroforge.plugins.{name}"
        assert (REPO / "plugins" / name / "__init__.py").is_file()
