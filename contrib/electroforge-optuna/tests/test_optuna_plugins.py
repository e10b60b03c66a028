"""electroforge-optuna: ``optuna-tpe`` and ``cmaes`` against the conformance kit, the campaign's
resume and failure handling, and their one-line errors.

The campaign tests use cheap analytic components registered by hand (the optimizers and the
campaign machinery are under test, not the physics): the objective is a 2-D quadratic with its
maximum 10 at (0.3, 0.7) and the simulator fails for x > 0.85, as in the core's campaign tests.
One test runs the real case study 3 through the installed command line for two evaluations.
"""
from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from electroforge import DesignSpace, Metrics, Microstructure, Performance, hookimpl
from electroforge.campaign import Campaign
from electroforge.config import config_from_dict
from electroforge.errors import EvaluationError, PluginError
from electroforge.registry import get_registry
from electroforge.store import CampaignStore
from electroforge.testing import optimizer_checks, parametrize_with_checks

from electroforge_optuna.cma import CMAESOptimizer
from electroforge_optuna.tpe import OptunaTPEOptimizer

OPTIMUM = np.array([0.3, 0.7])
SPACE = DesignSpace.from_bounds({"x": (0.0, 1.0), "y": (0.0, 1.0)})


# ---------------------------------------------------------------- conformance kit
@parametrize_with_checks([
    OptunaTPEOptimizer,
    CMAESOptimizer,
    # batches that straddle generations (q = 3 against a population of 4)
    (CMAESOptimizer, optimizer_checks(options={"population_size": 4})),
    (OptunaTPEOptimizer, optimizer_checks(options={"n_startup_trials": 2, "multivariate": True})),
])
def test_conformance(component, check):
    check(component)


def test_both_register_through_the_installed_entry_point():
    reg = get_registry()
    for name in ("optuna-tpe", "cmaes"):
        assert reg.info("optimizer", name).distribution == "electroforge-optuna"


# ---------------------------------------------------------------- analytic campaign
class _Gen:
    name = "quadgen"
    parameters = {"x": (0.0, 1.0), "y": (0.0, 1.0)}

    def generate(self, params, shape, seed):
        return Microstructure(np.zeros((4, 4, 4), np.uint8), 1e-6, metadata={"params": dict(params)})


class _Char:
    name = "quadchar"

    def characterize(self, ms):
        p = ms.metadata["params"]
        return Metrics({"pore": 0.4, "active": 0.5, "binder": 0.1}, 1e5, 0.1, 1.5, 0.1, extras={"x": p["x"], "y": p["y"]})


class _Sim:
    name = "quadsim"

    def simulate(self, electrode, cell, protocol):
        x, y = electrode.metrics.extras["x"], electrode.metrics.extras["y"]
        if x > 0.85:
            raise EvaluationError("cell simulator 'quadsim': failure region x > 0.85")
        f = 10.0 - 10.0 * ((x - OPTIMUM[0]) ** 2 + (y - OPTIMUM[1]) ** 2)
        return Performance(f, f, 1.0, 3600.0, f, f, f)


class _Plugin:
    @hookimpl
    def register_generators(self):
        return [_Gen]

    @hookimpl
    def register_characterizers(self):
        return [_Char]

    @hookimpl
    def register_cell_simulators(self):
        return [_Sim]


@pytest.fixture
def registry():
    return get_registry(plugins=[("quad", _Plugin())])


def _config(optimizer: str, budget: int, batch: int = 1, seed: int = 4, **options):
    return config_from_dict({
        "name": "quad", "seed": seed, "budget": budget, "batch": batch, "objective": "energy_Wh",
        "protocols": ["1C"], "design": {"x": [0.0, 1.0], "y": [0.0, 1.0]},
        "generator": {"name": "quadgen", "shape": 8}, "characterizer": {"name": "quadchar"},
        "simulator": {"name": "quadsim"}, "cell": {"format": "half"},
        "optimizer": {"name": optimizer, "options": options},
    })


def _rows(evaluations):
    return [(e.index, e.params["x"], e.params["y"], e.status) for e in evaluations]


@pytest.mark.parametrize("optimizer,batch,options", [
    ("optuna-tpe", 1, {}),
    ("optuna-tpe", 3, {"n_startup_trials": 4}),
    ("cmaes", 1, {"population_size": 4}),
    ("cmaes", 3, {"population_size": 4}),  # batches straddling generations
])
def test_resume_from_the_campaign_file_equals_the_uninterrupted_run(tmp_path, registry, optimizer, batch, options):
    cfg = _config(optimizer, budget=14, batch=batch, **options)
    full = Campaign(cfg, tmp_path / "full.nc", registry=registry, progress=False).run()
    seen = {"n": 0}

    def crash_after_seven(ev):
        seen["n"] += 1
        if seen["n"] == 7:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Campaign(cfg, tmp_path / "cut.nc", registry=registry, progress=False, on_evaluation=crash_after_seven).run()
    assert len(CampaignStore.open(tmp_path / "cut.nc").evaluations) == 7
    resumed = Campaign(cfg, tmp_path / "cut.nc", registry=registry, progress=False, resume=True).run()
    assert _rows(resumed) == _rows(full)
    assert len({(r[1], r[2]) for r in _rows(full)}) == 14  # and it proposed 14 distinct designs


@pytest.mark.parametrize("optimizer,options", [("optuna-tpe", {}), ("cmaes", {"population_size": 6})])
def test_learns_the_optimum_and_avoids_the_failing_region(tmp_path, registry, optimizer, options):
    """Over 36 evaluations the last 12 proposals lie closer to the optimum than the first 12 and
    fail less often than the first 12, and every proposal is inside the bounds."""
    evs = Campaign(_config(optimizer, budget=36, **options), tmp_path / "c.nc", registry=registry, progress=False).run()
    x = np.array([[e.params["x"], e.params["y"]] for e in evs])
    assert np.all((x >= 0.0) & (x <= 1.0))
    dist = np.linalg.norm(x - OPTIMUM, axis=1)
    assert np.median(dist[-12:]) < 0.6 * np.median(dist[:12])
    failed = np.array([not e.ok for e in evs])
    assert failed.sum() < len(evs)  # failures were recorded and told; the campaign went on
    assert failed[-12:].sum() <= failed[:12].sum()
    best = max(e.objective for e in evs if e.ok)
    assert best > 9.8  # within 0.045 (unit cube) of the optimum


def test_a_failed_design_is_told_not_dropped():
    """A failure ranks below every success: TPE after a batch in which one design failed proposes
    something else than after the same batch told as a success."""
    good = OptunaTPEOptimizer(space=SPACE, seed=1, n_startup_trials=3)
    bad = OptunaTPEOptimizer(space=SPACE, seed=1, n_startup_trials=3)
    pts = good.ask(3)
    good.tell(pts, [3.0, 2.0, 1.0], [False, False, False])  # the first design is the best ...
    bad.tell(pts, [math.nan, 2.0, 1.0], [True, False, False])  # ... or failed: then it ranks last
    assert good.ask(2) != bad.ask(2)
    cma = CMAESOptimizer(space=SPACE, seed=1, population_size=4)
    p = cma.ask(4)
    cma.tell(p, [math.nan] * 4, [True] * 4)  # a whole generation failed
    assert len(cma.ask(4)) == 4 and cma.generation == 1


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("cls,name", [(OptunaTPEOptimizer, "optuna-tpe"), (CMAESOptimizer, "cmaes")])
def test_an_unknown_option_is_a_one_line_error_naming_plugin_and_option(cls, name):
    with pytest.raises(PluginError) as info:
        cls(space=SPACE, seed=0, n_startup_trails=5)
    msg = str(info.value)
    assert "\n" not in msg and f"optimizer {name!r}" in msg and "'n_startup_trails'" in msg


def test_a_bad_population_is_a_one_line_error():
    with pytest.raises(PluginError, match=r"optimizer 'cmaes': population_size=3 must be an integer >= 4"):
        CMAESOptimizer(space=SPACE, seed=0, population_size=3)


@pytest.mark.parametrize("cls,module", [(OptunaTPEOptimizer, "optuna"), (CMAESOptimizer, "cmaes")])
def test_a_missing_backend_is_a_one_line_error_saying_what_to_install(monkeypatch, cls, module):
    monkeypatch.setitem(sys.modules, module, None)  # `import optuna` now raises ImportError
    with pytest.raises(PluginError) as info:
        cls(space=SPACE, seed=0)
    msg = str(info.value)
    assert "\n" not in msg and f"optimizer {cls.name!r} needs the {module} package" in msg and "pip install" in msg


EXE = Path(sys.executable).with_name("electroforge")


@pytest.mark.parametrize("name", ["optuna-tpe", "cmaes"])
def test_case_study_3_runs_with_the_optimizer_chosen_on_the_command_line(tmp_path, name):
    """``electroforge optimize case-study-3-power --optimizer NAME`` on the real pipeline (16³
    cubes, two evaluations): the campaign file records the optimizer and two evaluations."""
    out = tmp_path / "cs3p.nc"
    env = {**os.environ, "PYBAMM_DISABLE_TELEMETRY": "true"}
    proc = subprocess.run(
        [str(EXE), "optimize", "case-study-3-power", "--optimizer", name, "--budget", "2", "--shape", "16",
         "-o", str(out), "--quiet"], capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    store = CampaignStore.open(out)
    assert store.attributes["optimizer"] == name
    assert len(store.evaluations) == 2
