"""Executors: in-process, process pool and Dask give the same evaluations; dead workers and
plugin failures never drop a design.

The components are the cheap fakes of tests/fakes/ef_fakes.py, installed as a throw-away
distribution on sys.path and PYTHONPATH so that spawned pool workers and Dask workers discover them
through entry points like any plugin; the optimizer (sobol), store, campaign and executors are real.
"""
from __future__ import annotations

import math

import pytest

from fakes.fakedist import config_text, install_fake_dist, on_path

from electroforge.campaign import Campaign, CampaignStopped
from electroforge.config import load_config
from electroforge.errors import PluginError
from electroforge.executors import WORKER_DIED, InProcessExecutor, ProcessPoolExecutor, make_executor
from electroforge.registry import get_registry


@pytest.fixture(scope="module")
def fake_dist(tmp_path_factory):
    with on_path(install_fake_dist(tmp_path_factory.mktemp("fakedist"))) as root:
        yield root


def cfg_of(tmp_path, **kwargs):
    path = tmp_path / "fake.toml"
    path.write_text(config_text(**kwargs))
    return load_config(path)


def rows(evaluations):
    """What must agree between executors: index, design, status, objective, seed, batch."""
    return [(e.index, e.params["x"], e.params["y"], e.status,
             None if math.isnan(e.objective) else round(e.objective, 12), e.seed, e.batch) for e in evaluations]


def run(cfg, path, **kwargs):
    return Campaign(cfg, path, registry=get_registry(), progress=False, **kwargs).run()


def test_make_executor_picks_by_options(fake_dist, tmp_path):
    cfg = cfg_of(tmp_path)
    assert isinstance(make_executor(cfg, 0, get_registry()), InProcessExecutor)
    assert isinstance(make_executor(cfg, 1, get_registry()), InProcessExecutor)
    assert isinstance(make_executor(cfg, 3), ProcessPoolExecutor)
    dask = make_executor(cfg, dask_local=2)
    assert dask.name == "dask" and dask._client is None  # nothing started before the first batch
    with pytest.raises(Exception, match="not both"):
        make_executor(cfg, scheduler="tcp://localhost:8786", dask_local=2)


def test_plugin_exception_in_each_stage_marks_only_that_evaluation_failed(fake_dist, tmp_path):
    # generator raises for y < 0.15, characterizer for 0.15 <= y < 0.3, simulator for x > 0.85
    cfg = cfg_of(tmp_path, budget=16, batch=4, gen={"raise_below_y": 0.15}, char={"raise_below_y": 0.3},
                 max_failure_fraction=1.0)
    evs = run(cfg, tmp_path / "c.nc")
    assert [e.index for e in evs] == list(range(16))
    by_reason = {}
    for e in evs:
        by_reason.setdefault(e.error, []).append(e)
    gen_err = "generator 'fakegen': RuntimeError: fake generator exploded"
    char_err = "characterizer 'fakechar': ZeroDivisionError: fake characterizer divided by zero"
    sim_err = "cell simulator 'fakesim': fake solver failure region"
    assert set(by_reason) <= {"", gen_err, char_err, sim_err}
    assert all(e.params["y"] < 0.15 for e in by_reason.get(gen_err, []))
    assert all(0.15 <= e.params["y"] < 0.3 for e in by_reason.get(char_err, []))
    assert by_reason.get(gen_err) and by_reason.get(char_err), "the Sobol design covers both failure regions"
    ok = by_reason[""]
    assert ok and all(e.ok and e.params["y"] >= 0.3 and e.params["x"] <= 0.85 for e in ok)
    assert all(not e.ok and math.isnan(e.objective) for r, es in by_reason.items() if r for e in es)


def test_failure_threshold_stops_with_a_summary_before_the_budget_is_spent(fake_dist, tmp_path):
    cfg = cfg_of(tmp_path, budget=40, batch=2, gen={"raise_below_y": 0.75}, max_failure_fraction=0.5)
    with pytest.raises(CampaignStopped) as info:
        run(cfg, tmp_path / "c.nc")
    msg = str(info.value)
    assert "\n" not in msg and "max_failure_fraction=0.5" in msg and "fake generator exploded" in msg
    n = int(msg.split(" of ")[1].split()[0])
    assert 6 <= n < 40  # stopped early, after at least MIN_EVALUATIONS_BEFORE_FAILURE_STOP


def test_optimizer_exception_is_a_one_line_plugin_error(fake_dist, tmp_path):
    from electroforge import hookimpl

    class BadOpt:
        name = "badopt"

        def __init__(self, space, seed=0):
            pass

        def ask(self, n):
            raise RuntimeError("no more ideas")

        def tell(self, *a, **k):  # pragma: no cover - never reached
            pass

    class Plug:
        @hookimpl
        def register_optimizers(self):
            return [BadOpt]

    cfg = cfg_of(tmp_path, optimizer="badopt", budget=2, batch=1)
    reg = get_registry(plugins=[("badopt", Plug())])
    with pytest.raises(PluginError, match=r"^optimizer 'badopt' failed in ask: RuntimeError: no more ideas$"):
        Campaign(cfg, tmp_path / "c.nc", registry=reg, progress=False).run()


def test_process_pool_equals_in_process_and_a_dead_worker_drops_nothing(fake_dist, tmp_path):
    """Two spawned workers; one design kills its worker the first time (re-run, then equal to the
    in-process result), designs with x > 0.9 kill theirs every time (recorded as failed)."""
    base = cfg_of(tmp_path, budget=4, batch=4)
    reference = run(base, tmp_path / "ref.nc")
    die = tmp_path / "die-once"
    die.write_text("")
    cfg = cfg_of(tmp_path, budget=4, batch=4, gen={"die_once_file": str(die), "die_always_x": 0.9})
    pooled = run(cfg, tmp_path / "pool.nc", workers=2)
    assert not die.exists(), "a worker should have died on the marker file"
    assert [e.index for e in pooled] == list(range(4))
    killers = [e for e in pooled if e.params["x"] > 0.9]
    assert killers, "the first Sobol batch (seed 3) has a design with x > 0.9"
    assert all(e.status == "failed" and e.error == WORKER_DIED for e in killers)
    same = [r for r, e in zip(rows(pooled), pooled) if e.params["x"] <= 0.9]
    assert same == [r for r, e in zip(rows(reference), reference) if e.params["x"] <= 0.9]
    assert [e.status for e in pooled] == [e.status for e in reference]  # x > 0.9 fails in fakesim too


def test_pool_timeout_marks_only_the_hanging_design_failed(fake_dist, tmp_path):
    cfg = cfg_of(tmp_path, budget=3, batch=3, timeout_s=2.0, gen={"hang_above_x": 0.9, "hang_s": 60.0})
    ex = ProcessPoolExecutor(cfg, workers=2)
    jobs = [(0, {"x": 0.2, "y": 0.5}, 0), (1, {"x": 0.4, "y": 0.6}, 0), (2, {"x": 0.95, "y": 0.5}, 0)]
    try:
        got = {e.index: e for e in ex.run(jobs)}
    finally:
        ex.abort()
    assert set(got) == {0, 1, 2}
    assert got[0].ok and got[1].ok
    assert got[2].status == "failed" and got[2].error == "evaluation exceeded timeout_s=2"


@pytest.mark.filterwarnings("ignore")
def test_dask_local_cluster_equals_in_process_even_when_a_worker_dies(fake_dist, tmp_path):
    """A LocalCluster of two worker processes; the first evaluation to find the marker file kills
    its worker mid-batch: the scheduler re-runs that design on the surviving/restarted worker."""
    pytest.importorskip("distributed")
    base = cfg_of(tmp_path, budget=8, batch=4)
    reference = run(base, tmp_path / "ref.nc")
    die = tmp_path / "die-once"
    die.write_text("")
    cfg = cfg_of(tmp_path, budget=8, batch=4, gen={"die_once_file": str(die)})
    dasked = run(cfg, tmp_path / "dask.nc", dask_local=2)
    assert not die.exists(), "a Dask worker should have died on the marker file"
    assert rows(dasked) == rows(reference)
    assert [e.error for e in dasked] == [e.error for e in reference]
