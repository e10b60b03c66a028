"""The closed loop through the real campaign machinery, with cheap analytic components.

The generator/characterizer/simulator here are fakes registered by hand (the loop is under test,
not the physics); the optimizers, the store, the executor and the resume logic are the real ones.
"""

import math

import attrs
import numpy as np
import pytest
import xarray as xr

from electroforge import Metrics, Microstructure, Performance, hookimpl
from electroforge.campaign import Campaign, CampaignStopped, best_evaluation
from electroforge.config import config_from_dict, load_config
from electroforge.errors import EvaluationError, InputFileError
from electroforge.registry import get_registry
from electroforge.store import CampaignStore

OPTIMUM = {"x": 0.3, "y": 0.7}


class FakeGen:
    name = "fakegen"
    parameters = {"x": (0.0, 1.0), "y": (0.0, 1.0)}

    def generate(self, params, shape, seed):
        return Microstructure(np.zeros((4, 4, 4), np.uint8), 1e-6, metadata={"params": dict(params), "seed": seed})


class FakeChar:
    name = "fakechar"

    def characterize(self, ms):
        p = ms.metadata["params"]
        return Metrics(
            {"pore": 0.4, "active": 0.5, "binder": 0.1}, 1e5, 0.1, 1.5, 0.1, extras={"x": p["x"], "y": p["y"]}
        )


class FakeSim:
    name = "fakesim"

    def simulate(self, electrode, cell, protocol):
        x, y = electrode.metrics.extras["x"], electrode.metrics.extras["y"]
        if x > 0.85:
            raise EvaluationError("fake solver failure region")
        f = 10.0 - 10 * ((x - OPTIMUM["x"]) ** 2 + (y - OPTIMUM["y"]) ** 2)
        return Performance(f, f, 1.0, 3600.0, f, f, f)


class FakePlugin:
    @hookimpl
    def register_generators(self):
        return [FakeGen]

    @hookimpl
    def register_characterizers(self):
        return [FakeChar]

    @hookimpl
    def register_cell_simulators(self):
        return [FakeSim]


@pytest.fixture
def registry():
    return get_registry(plugins=[("fake", FakePlugin())])


def make_config(optimizer="sobol", budget=7, batch=2, seed=3, **options):
    return config_from_dict(
        {
            "name": "fake",
            "seed": seed,
            "budget": budget,
            "batch": batch,
            "objective": "energy_Wh",
            "protocols": ["1C"],
            "design": {"x": [0.0, 1.0], "y": [0.0, 1.0]},
            "generator": {"name": "fakegen", "shape": 8},
            "characterizer": {"name": "fakechar"},
            "simulator": {"name": "fakesim"},
            "cell": {"format": "half"},
            "optimizer": {"name": optimizer, "options": options},
        }
    )


def rows(evaluations):
    return [
        (
            e.index,
            round(e.params["x"], 12),
            round(e.params["y"], 12),
            e.status,
            None if math.isnan(e.objective) else round(e.objective, 9),
        )
        for e in evaluations
    ]


def test_campaign_stores_every_evaluation_and_calls_hooks(tmp_path, registry):
    seen = []

    class Listener:
        @hookimpl
        def on_evaluation(self, evaluation):
            seen.append(evaluation.index)

    registry.add_plugin(Listener(), "listener")
    evs = Campaign(make_config(), tmp_path / "c.nc", registry=registry, progress=False).run()
    assert [e.index for e in evs] == list(range(7)) and sorted(seen) == list(range(7))
    with xr.open_dataset(tmp_path / "c.nc") as ds:
        assert ds.sizes["evaluation"] == 7
        assert set(ds.data_vars) >= {"x", "y", "objective", "status", "tortuosity_factor", "energy_Wh"}
        assert ds.attrs["optimizer"] == "sobol"
    assert [e.batch for e in evs] == [0, 0, 1, 1, 2, 2, 3]


def test_failed_evaluations_are_recorded_with_stage_and_plugin(tmp_path, registry):
    evs = Campaign(make_config(budget=16, batch=4), tmp_path / "c.nc", registry=registry, progress=False).run()
    failed = [e for e in evs if not e.ok]
    assert failed, "the Sobol design should hit the x > 0.85 failure region"
    assert all(e.error == "cell simulator 'fakesim': fake solver failure region" for e in failed)
    assert all(e.params["x"] > 0.85 for e in failed) and all(e.params["x"] <= 0.85 for e in evs if e.ok)
    assert math.isnan(failed[0].objective) and failed[0].metrics is not None


@pytest.mark.parametrize("optimizer,budget", [("sobol", 9), pytest.param("trieste", 9, marks=pytest.mark.slow)])
def test_resume_after_interruption_equals_uninterrupted_run(tmp_path, registry, optimizer, budget):
    options = {"n_initial": 4} if optimizer == "trieste" else {}
    cfg = make_config(optimizer, budget=budget, batch=2, **options)
    full = Campaign(cfg, tmp_path / "full.nc", registry=registry, progress=False).run()

    count = {"n": 0}

    def crash_after_five(ev):
        count["n"] += 1
        if count["n"] == 5:  # in the middle of batch 2 (indices 4, 5)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Campaign(cfg, tmp_path / "cut.nc", registry=registry, progress=False, on_evaluation=crash_after_five).run()
    assert len(CampaignStore.open(tmp_path / "cut.nc").evaluations) == 5
    resumed = Campaign(cfg, tmp_path / "cut.nc", registry=registry, progress=False, resume=True).run()
    assert rows(resumed) == rows(full)
    assert rows(CampaignStore.open(tmp_path / "cut.nc").evaluations) == rows(full)


def test_resume_refuses_a_different_design_space(tmp_path, registry):
    Campaign(make_config(budget=2), tmp_path / "c.nc", registry=registry, progress=False).run()
    other = config_from_dict(
        {
            "design": {"x": [0, 1]},
            "generator": {"name": "fakegen"},
            "characterizer": {"name": "fakechar"},
            "simulator": {"name": "fakesim"},
            "cell": {"format": "half"},
            "optimizer": {"name": "sobol"},
            "objective": "energy_Wh",
        }
    )
    with pytest.raises(InputFileError, match="cannot resume"):
        Campaign(other, tmp_path / "c.nc", registry=registry, progress=False, resume=True).run()


def test_too_many_failures_stop_the_campaign_with_a_summary(tmp_path, registry):
    cfg = make_config(budget=40, batch=1)
    cfg = cfg.with_overrides(space=cfg.space.from_bounds({"x": (0.9, 1.0), "y": (0.0, 1.0)}))
    with pytest.raises(CampaignStopped, match=r"6 of 6 evaluations failed.*fake solver failure region"):
        Campaign(cfg, tmp_path / "c.nc", registry=registry, progress=False).run()
    assert len(CampaignStore.open(tmp_path / "c.nc").evaluations) == 6


@pytest.mark.slow
def test_bo_reaches_the_optimum_in_far_fewer_evaluations_than_sobol(tmp_path, registry):
    def evaluations_to_within(evs, tol):
        target = 10.0 - tol * 10.0
        for k, e in enumerate(sorted(evs, key=lambda e: e.index), 1):
            if e.ok and e.objective >= target:
                return k
        return math.inf

    needed = {}
    for opt, budget, options in (("trieste", 20, {"n_initial": 5}), ("sobol", 60, {})):
        evs = Campaign(
            make_config(opt, budget=budget, batch=1, seed=1, **options),
            tmp_path / f"{opt}.nc",
            registry=registry,
            progress=False,
        ).run()
        needed[opt] = evaluations_to_within(evs, 0.002)  # within 0.2% of the maximum
    assert needed["trieste"] <= 20
    assert needed["sobol"] >= 2 * needed["trieste"], needed
    best = best_evaluation(evs)
    assert best is not None


def test_config_errors_name_the_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("budgett = 3\n[design]\nporosity = [0.2, 0.5]\n")
    with pytest.raises(InputFileError, match=r"bad.toml: unknown key\(s\) \['budgett'\]"):
        load_config(bad)
    bad.write_text("[design]\nporosity = [0.5, 0.2]\n")
    with pytest.raises(InputFileError, match=r"bad.toml: design.porosity.*lower < upper"):
        load_config(bad)
    bad.write_text('objective = "joy"\n[design]\nporosity = [0.2, 0.5]\n')
    with pytest.raises(InputFileError, match=r"objective 'joy' is not a performance field"):
        load_config(bad)
    bad.write_text("[design\n")
    with pytest.raises(InputFileError, match="invalid TOML"):
        load_config(bad)
    with pytest.raises(InputFileError, match="no such config file or shipped config"):
        load_config("case-study-9")


def test_shipped_case_studies_load():
    for name in (
        "case-study-1",
        "case-study-2",
        "case-study-2-gan",
        "case-study-3",
        "case-study-3-energy",
        "case-study-3-power",
        "quickstart",
    ):
        cfg = load_config(name)
        assert cfg.text and cfg.budget >= 1
    gan, proc = load_config("case-study-2-gan"), load_config("case-study-2")
    assert gan.generator.name == "gan" and proc.generator.name == "procedural"
    assert (gan.seed, gan.budget, gan.space, gan.fixed, gan.protocols) == (
        proc.seed,
        proc.budget,
        proc.space,
        proc.fixed,
        proc.protocols,
    )
    for base in ("case-study-2", "case-study-3-energy", "case-study-3-power"):
        cal, plain = load_config(f"{base}-calibrated"), load_config(base)
        assert cal.simulator.name == "pybamm-calibrated" and plain.simulator.name == "pybamm"
        assert (cal.seed, cal.budget, cal.space, cal.fixed, cal.protocols, cal.objective) == (
            plain.seed,
            plain.budget,
            plain.space,
            plain.fixed,
            plain.protocols,
            plain.objective,
        )
    assert load_config("case-study-1").cell_format == "half"


@pytest.mark.parametrize("name", ["case-study-1", "case-study-2-calibrated", "case-study-3-power", "quickstart"])
def test_the_effective_config_round_trips_through_toml(name):
    import tomllib

    written = load_config(name)
    cfg = written.with_overrides(budget=3, seed=11, protocols=(*written.protocols, "200W"))
    again = config_from_dict(tomllib.loads(cfg.to_toml()), source="stored")
    assert attrs.evolve(again, text="") == attrs.evolve(cfg, text="")
    assert "# as written:" in cfg.to_toml()  # the original file follows, commented


def test_the_campaign_file_stores_the_config_that_ran_not_only_the_one_written(tmp_path, registry):
    import tomllib

    cfg = make_config(budget=2).with_overrides(seed=9, optimizer="random")
    Campaign(cfg, tmp_path / "c.nc", registry=registry, progress=False).run()
    stored = config_from_dict(tomllib.loads(CampaignStore.open(tmp_path / "c.nc").attributes["config"]))
    assert (stored.seed, stored.optimizer.name, stored.space, stored.generator) == (
        9,
        "random",
        cfg.space,
        cfg.generator,
    )
    assert load_config("case-study-3-power").protocols == ("200W",)
    assert load_config("case-study-3-energy").space.names == (
        "am_mass_fraction",
        "porosity",
        "binder_adhesion",
        "mass_loading_mg_per_cm2",
    )
