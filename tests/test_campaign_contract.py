"""Campaign <-> plugin contract: the frozen summary for on_campaign_end, noise only to optimizers
that declare it, no retry of a failing tell, progress observers, the objective's attributes, and
plugin commands through register_commands."""

from __future__ import annotations

import attrs
import pytest
import typer
import xarray as xr

from electroforge import hookimpl
from electroforge.campaign import Campaign, CampaignSummary
from electroforge.errors import PluginError
from electroforge.registry import get_registry
from electroforge.store import CampaignStore

from test_campaign import FakePlugin, make_config


class UncertainPlugin(FakePlugin):
    """FakePlugin's components, with a generator that reports a 10 % uncertainty."""

    @hookimpl
    def register_generators(self):
        from test_campaign import FakeGen

        class UncertainGen(FakeGen):
            name = "uncertaingen"

            def generate_with_uncertainty(self, params, shape, seed):
                return self.generate(params, shape, seed), 0.1

        return [UncertainGen]


def _opt_plugin(*classes):
    class Plug:
        @hookimpl
        def register_optimizers(self):
            return list(classes)

    return Plug()


class _Recorder:
    """Sobol-like: asks a fixed grid walk, records what tell received."""

    name = "recorder"
    told: list = []

    def __init__(self, space, seed=0):
        self.space, self.k = space, 0

    def ask(self, n):
        pts = [self.space.from_unit([((self.k + i) * 0.37) % 1.0, ((self.k + i) * 0.61) % 1.0]) for i in range(n)]
        return pts

    def tell(self, params, objectives, failed):
        type(self).told.append(("plain", len(params)))
        self.k += len(params)


class _NoisyRecorder(_Recorder):
    name = "noisyrecorder"

    def tell(self, params, objectives, failed, noise=None):
        type(self).told.append(("noise", None if noise is None else list(noise)))
        self.k += len(params)


class _BrokenTell(_Recorder):
    name = "brokentell"

    def tell(self, params, objectives, failed, noise=None):
        type(self).told.append("called")
        raise TypeError("tell() got confused")


def _registry(*opts, gen_plugin=None):
    return get_registry(
        autoload=False, plugins=[("fake", gen_plugin or UncertainPlugin()), ("opts", _opt_plugin(*opts))]
    )


def _cfg(optimizer, generator="uncertaingen", budget=4, batch=2):
    return attrs.evolve(
        make_config(optimizer=optimizer, budget=budget, batch=batch),
        generator=attrs.evolve(make_config().generator, name=generator),
    )


def test_noise_goes_only_to_an_optimizer_whose_tell_declares_it(tmp_path, capsys):
    _NoisyRecorder.told = []
    Campaign(_cfg("noisyrecorder"), tmp_path / "a.nc", registry=_registry(_NoisyRecorder)).run()
    kinds = [k for k, _ in _NoisyRecorder.told]
    assert kinds == ["noise", "noise"]
    assert all(v is not None and len(v) == 2 for _, v in _NoisyRecorder.told)
    _Recorder.told = []
    Campaign(_cfg("recorder"), tmp_path / "b.nc", registry=_registry(_Recorder)).run()
    assert _Recorder.told == [("plain", 2), ("plain", 2)]
    err = capsys.readouterr().err
    assert err.count("optimizer 'recorder' takes no noise in tell()") == 1


def test_a_failing_tell_is_not_retried(tmp_path):
    _BrokenTell.told = []
    with pytest.raises(PluginError, match=r"^optimizer 'brokentell' failed in tell: TypeError: tell\(\) got confused$"):
        Campaign(_cfg("brokentell"), tmp_path / "c.nc", registry=_registry(_BrokenTell)).run()
    assert _BrokenTell.told == ["called"]


def test_on_campaign_end_receives_a_frozen_summary(tmp_path):
    got = {}

    class Listener:
        @hookimpl
        def on_campaign_end(self, summary):
            got["summary"] = summary

    class OldListener:
        @hookimpl
        def on_campaign_end(self, campaign):
            got["campaign"] = campaign

    reg = _registry(_Recorder)
    reg.add_plugin(Listener(), "listener")
    reg.add_plugin(OldListener(), "old")
    evs = Campaign(_cfg("recorder"), tmp_path / "s.nc", registry=reg).run()
    s = got["summary"]
    assert isinstance(s, CampaignSummary) and got["campaign"] is s
    assert (s.status, s.n_evaluations, s.path) == ("finished", 4, str(tmp_path / "s.nc"))
    assert [e.index for e in s.evaluations] == [e.index for e in evs]
    assert s.best is not None and s.best.objective == max(e.objective for e in evs if e.ok)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        s.status = "x"
    assert isinstance(s.evaluations, tuple)


def test_progress_observer_sees_every_evaluation(tmp_path):
    seen = []

    class Observer:
        def start(self, existing):
            seen.append(("start", len(list(existing))))

        def update(self, ev):
            seen.append(("update", ev.index))

        def stop(self):
            seen.append(("stop",))

    Campaign(_cfg("recorder"), tmp_path / "p.nc", registry=_registry(_Recorder), progress=Observer()).run()
    assert seen == [("start", 0), ("update", 0), ("update", 1), ("update", 2), ("update", 3), ("stop",)]


def test_objective_and_its_protocol_are_attributes_of_the_file(tmp_path):
    Campaign(_cfg("recorder"), tmp_path / "o.nc", registry=_registry(_Recorder)).run()
    with xr.open_dataset(tmp_path / "o.nc") as ds:
        assert (ds.attrs["objective"], ds.attrs["objective_protocol"]) == ("energy_Wh", "1C")
    store = CampaignStore.open(tmp_path / "o.nc")
    assert store.objective_protocol == "1C"


# ---------------------------------------------------------------- register_commands
def _hello():
    """Say hello."""
    typer.echo("hello")


class CommandPlugin:
    @hookimpl
    def register_commands(self, app):
        app.command("hello")(_hello)


class ClashingPlugin:
    @hookimpl
    def register_commands(self, app):
        app.command("hello")(_hello)


class ExplodingPlugin:
    @hookimpl
    def register_commands(self, app):
        app.command("half-added")(_hello)
        raise RuntimeError("no commands today")


def test_hook_register_commands_adds_commands_and_isolates_failures(capsys):
    app = typer.Typer()
    reg = get_registry(
        autoload=False, plugins=[("cmd", CommandPlugin()), ("clash", ClashingPlugin()), ("boom", ExplodingPlugin())]
    )
    assert reg.add_commands(app) == ["hello"]
    assert [c.name for c in app.registered_commands] == ["hello"]
    err = capsys.readouterr().err
    assert "plugin 'clash': command 'hello' already exists; ignored" in err
    assert reg.plugins["boom"].status == "broken"
    assert reg.plugins["boom"].error == "register_commands() raised RuntimeError: no commands today"


def test_train_generator_comes_from_the_gan_plugin_and_disable_removes_it(cli):
    out = cli("train-generator", "--help")
    assert out.returncode == 0 and "--images" in out.stdout
    out = cli("--disable", "gan", "train-generator", "--help")
    assert out.returncode == 2 and "No such command 'train-generator'" in out.stderr
