"""The plugin boundary: built-in plugins and contrib packages use only the declared public API.

* a built-in plugin (``plugins/<name>/``) imports no other built-in plugin;
* no plugin or contrib package imports a core module outside ``electroforge.PUBLIC_MODULES``, an
  underscore module, or an underscore name from the core;
* a contrib package may build on a built-in plugin's public classes (as a third party would),
  but imports none of its underscore names and overrides none of its underscore methods.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import electroforge

REPO = Path(__file__).resolve().parent.parent
PLUGINS = REPO / "plugins"
CONTRIB = REPO / "contrib"


def _imports(path: Path):
    """(line, module, [names]) of every absolute import in a file (relative ones resolved by the caller)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, [], 0
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, node.module or "", [a.name for a in node.names], node.level


def _violations(path: Path, own_plugin: str | None, contrib: bool) -> list[str]:
    rel = path.relative_to(REPO) if path.is_relative_to(REPO) else path
    out = []
    for line, module, names, level in _imports(path):
        if level:  # a relative import stays inside its own package
            continue
        if module != "electroforge" and not module.startswith("electroforge."):
            continue
        where = f"{rel}:{line}"
        parts = module.split(".")
        if len(parts) >= 3 and parts[1] == "plugins":
            plugin = parts[2]
            if own_plugin is not None and plugin != own_plugin:
                out.append(f"{where} imports {module}: another plugin ({plugin!r}); use the core's public API")
                continue
            if contrib and (any(p.startswith("_") for p in parts[3:]) or any(n.startswith("_") for n in names)):
                out.append(f"{where} imports a private name of built-in plugin {plugin!r}: {module} {names}")
            continue
        if any(p.startswith("_") for p in parts[1:]):
            out.append(f"{where} imports {module}: an underscore (internal) core module")
            continue
        if module not in electroforge.PUBLIC_MODULES:
            out.append(f"{where} imports {module}: not a public core module (electroforge.PUBLIC_MODULES)")
            continue
        private = [n for n in names if n.startswith("_") and n != "__version__"]
        if private:
            out.append(f"{where} imports {private} from {module}: underscore names are internal")
        if module == "electroforge" and names:
            unknown = [n for n in names if n not in electroforge.__all__ and not hasattr(electroforge, n)]
            if unknown:
                out.append(f"{where} imports {unknown} from electroforge: not in electroforge.__all__")
    return out


def _plugin_files():
    for folder in sorted(p for p in PLUGINS.iterdir() if (p / "__init__.py").is_file()):
        for path in sorted(folder.rglob("*.py")):
            yield folder.name, path


def _contrib_files():
    for pkg in sorted(CONTRIB.glob("*/*/__init__.py")):
        for path in sorted(pkg.parent.rglob("*.py")):
            yield path


@pytest.mark.parametrize(
    "plugin, path", list(_plugin_files()), ids=lambda v: str(v.relative_to(REPO)) if isinstance(v, Path) else v
)
def test_builtin_plugin_imports_only_the_public_core(plugin, path):
    assert not _violations(path, plugin, contrib=False)


@pytest.mark.parametrize("path", list(_contrib_files()), ids=lambda p: str(p.relative_to(REPO)))
def test_contrib_imports_only_public_names(path):
    assert not _violations(path, None, contrib=True)


def test_the_boundary_check_catches_a_crossing(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from electroforge.plugins.baselines.history import History\n"
        "from electroforge.cli._common import console\n"
        "from electroforge.pipeline import combine_metrics\n"
        "from electroforge.model import _fail\n"
    )
    # checked as if it were a file of plugins/trieste (own_plugin names the plugin), but written
    # to tmp_path: the source tree is shared with tests running in parallel (pytest-xdist)
    found = _violations(bad, "trieste", contrib=False)
    assert len(found) == 4, found
    assert "another plugin ('baselines')" in found[0]
    assert "underscore (internal) core module" in found[1]
    assert "not a public core module" in found[2]
    assert "underscore names are internal" in found[3]


CONTRIB_COMPONENTS = [
    ("electroforge_calibrate.simulator", "CalibratedPyBaMMSimulator"),
    ("electroforge_lfp.simulator", "LFPSimulator"),
    ("electroforge_warmstart.optimizer", "WarmStartOptimizer"),
    ("electroforge_ensemble.generator", "EnsembleGenerator"),
]


@pytest.mark.parametrize("module, cls_name", CONTRIB_COMPONENTS)
def test_contrib_overrides_no_private_method_of_a_builtin(module, cls_name):
    mod = pytest.importorskip(module)
    cls = getattr(mod, cls_name)
    builtin_bases = [b for b in cls.__mro__[1:] if b.__module__.startswith("electroforge.")]
    overridden = []
    for name, member in vars(cls).items():
        if not name.startswith("_") or name.startswith("__") or not inspect.isfunction(member):
            continue
        if any(name in vars(b) for b in builtin_bases):
            overridden.append(name)
    assert not overridden, f"{cls_name} overrides private method(s) {overridden} of a built-in plugin"


def test_public_modules_exist_and_all_names_resolve():
    for module in electroforge.PUBLIC_MODULES:
        importlib.import_module(module)
    missing = [n for n in electroforge.__all__ if not hasattr(electroforge, n)]
    assert not missing
