"""The plugin machinery: discovery through entry points, failure isolation, duplicates, disabling."""
import json
import sys
import textwrap
from pathlib import Path

import pytest

from electroforge import hookimpl
from electroforge.errors import DuplicateComponentError, UnknownComponentError
from electroforge.registry import get_registry


class _Gen:
    name = "fake"
    parameters = {"porosity": (0.2, 0.5)}

    def generate(self, params, shape, seed):  # pragma: no cover - not called
        raise NotImplementedError


class FakePlugin:
    @hookimpl
    def register_generators(self):
        return [_Gen]


class BrokenHookPlugin:
    @hookimpl
    def register_generators(self):
        raise RuntimeError("the hook exploded")


class TypoPlugin:
    @hookimpl
    def register_generaters(self):  # misspelt hook name
        return []


def test_hook_register_generators_by_hand():
    reg = get_registry(autoload=False, plugins=[("fakeplug", FakePlugin())])
    assert reg.get("generator", "fake") is _Gen
    assert reg.info("generator", "fake").plugin == "fakeplug"


def test_unknown_component_lists_valid_names():
    reg = get_registry(autoload=False, plugins=[("fakeplug", FakePlugin())])
    with pytest.raises(UnknownComponentError, match=r"no generator named 'nope'.*available: fake"):
        reg.get("generator", "nope")


def test_a_known_contrib_component_that_is_not_installed_names_its_distribution():
    reg = get_registry(autoload=False, plugins=[("fakeplug", FakePlugin())])
    with pytest.raises(UnknownComponentError) as info:
        reg.get("optimizer", "optuna-tpe")
    msg = str(info.value)
    assert "\n" not in msg and "no optimizer named 'optuna-tpe'" in msg
    assert "pip install -e contrib/electroforge-optuna" in msg


def test_raising_hook_breaks_only_its_plugin():
    reg = get_registry(autoload=False, plugins=[("bad", BrokenHookPlugin()), ("good", FakePlugin())])
    assert reg.names("generator") == ["fake"]
    bad = reg.plugins["bad"]
    assert bad.status == "broken" and "the hook exploded" in bad.error
    row = [r for r in reg.listing() if r.name == "bad"][0]
    assert (row.kind, row.status) == ("generator", "broken")  # the kind whose hook failed


def test_misspelt_hook_breaks_only_its_plugin():
    reg = get_registry(autoload=False, plugins=[("typo", TypoPlugin()), ("good", FakePlugin())])
    assert reg.plugins["typo"].status == "broken"
    assert "register_generaters" in reg.plugins["typo"].error
    assert reg.names("generator") == ["fake"]


def test_duplicate_names_in_one_kind_name_both_sources():
    class Other:
        @hookimpl
        def register_generators(self):
            return [type("G2", (_Gen,), {})]

    reg = get_registry(autoload=False, plugins=[("first", FakePlugin()), ("second", Other())])
    with pytest.raises(DuplicateComponentError, match=r"'fake'.*first.*second"):
        reg.get("generator", "fake")


def test_disable_by_component_name():
    reg = get_registry(autoload=False, disable=["fake"], plugins=[("fakeplug", FakePlugin())])
    assert reg.names("generator") == []
    assert any(r.status == "disabled" and r.name == "fake" for r in reg.listing())


def test_disable_by_plugin_name_via_env(monkeypatch):
    monkeypatch.setenv("ELECTROFORGE_DISABLE", "x, fakeplug")
    reg = get_registry(autoload=False, plugins=[("fakeplug", FakePlugin())])
    assert reg.plugins["fakeplug"].status == "disabled"
    with pytest.raises(UnknownComponentError):
        reg.get("generator", "fake")


def test_event_hook_failure_is_isolated(capsys):
    seen = []

    class Listener:
        @hookimpl
        def on_evaluation(self, evaluation):
            seen.append(evaluation)

    class Crasher:
        @hookimpl
        def on_evaluation(self, evaluation):
            raise ValueError("boom")

    reg = get_registry(autoload=False, plugins=[("crash", Crasher()), ("listen", Listener())])
    errors = reg.notify("on_evaluation", evaluation="E")
    assert seen == ["E"] and len(errors) == 1 and "boom" in errors[0]


def _write_dist_info(root: Path, dist: str, version: str, ep_name: str, module: str, source: str) -> None:
    """Lay out a minimal installed distribution (module + dist-info with entry points)."""
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[electroforge]\n{ep_name} = {module}\n")


def test_entry_point_discovery_with_a_broken_neighbour(tmp_path, monkeypatch):
    _write_dist_info(tmp_path, "ef-good", "1.2.3", "goodplug", "ef_good_mod", """
        from electroforge import hookimpl
        class Opt:
            name = "dummyopt"
            def __init__(self, space, seed=0):
                pass
            def ask(self, n):
                return []
            def tell(self, params, objectives, failed):
                pass
        @hookimpl
        def register_optimizers():
            return [Opt]
    """)
    _write_dist_info(tmp_path, "ef-bad", "0.1", "badplug", "ef_bad_mod", "import does_not_exist_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = get_registry()
    info = reg.info("optimizer", "dummyopt")
    assert (info.distribution, info.version, info.plugin) == ("ef-good", "1.2.3", "goodplug")
    bad = reg.plugins["badplug"]
    assert bad.status == "broken" and "does_not_exist_anywhere" in bad.error
    for mod in ("ef_good_mod", "ef_bad_mod"):
        sys.modules.pop(mod, None)


def test_cli_plugins_json_lists_fake_distribution(tmp_path, cli):
    _write_dist_info(tmp_path, "ef-bad", "0.1", "badplug", "ef_bad_mod2", "raise ImportError('no luck today')\n")
    out = cli("plugins", "--json", env={"PYTHONPATH": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    bad = [r for r in rows if r["name"] == "badplug"]
    assert bad and bad[0]["status"] == "broken" and "no luck today" in bad[0]["error"]
    assert all(set(r) == {"kind", "name", "distribution", "version", "status", "error"} for r in rows)
