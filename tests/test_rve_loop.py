"""Representativity in the loop: cubes per design until a CI target, stored, and told to BO as noise.

Real procedural generator and taufactor characterizer on small cubes; the cell simulator is a cheap
analytic stand-in (the loop is under test, not the cell physics); the store and the trieste
optimizer are the real ones.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr
from scipy.stats import t as student_t

from electroforge import Metrics, Performance, hookimpl
from electroforge.campaign import Campaign
from electroforge.config import config_from_dict
from electroforge.errors import InputFileError, ValidationError
from electroforge.model import Evaluation
from electroforge.registry import get_registry
from electroforge.rve import (MIN_CUBES_FOR_CI, characterize_to_target, check_target, relative_ci95,
                              relative_standard_error)
from electroforge.store import CampaignStore


# ------------------------------------------------------------------ statistics
def test_relative_ci95_is_the_student_t_half_width_over_the_mean():
    v = [2.0, 2.2, 1.9, 2.1, 2.3]
    n, mean, sd = len(v), np.mean(v), np.std(v, ddof=1)
    expected = student_t.ppf(0.975, n - 1) * sd / math.sqrt(n) / mean
    assert relative_ci95(v) == pytest.approx(expected, rel=1e-12)
    assert relative_standard_error(v) == pytest.approx(sd / math.sqrt(n) / mean, rel=1e-12)
    assert relative_ci95([3.0]) == math.inf and relative_ci95([1.0, math.inf]) == math.inf
    assert relative_ci95([2.0, 2.0, 2.0]) == 0.0


@pytest.mark.parametrize("target, cubes, msg", [(-1, 16, "target_ci"), (1.5, 16, "target_ci"), (0.01, 0, "max_cubes"),
                                                (0.01, 2.5, "max_cubes")])
def test_bad_targets_are_one_line_errors(target, cubes, msg):
    with pytest.raises(ValidationError, match=msg) as exc:
        check_target(target, cubes)
    assert "\n" not in str(exc.value)


def _metric(tau: float) -> Metrics:
    return Metrics({"pore": 0.4, "active": 0.5, "binder": 0.1}, 1e5, 0.2, tau, 0.1)


def test_sampling_stops_at_the_target_or_the_cap():
    taus = [2.0, 2.4, 1.6, 2.1, 1.9, 2.0, 2.05, 1.95] + [2.0] * 100
    made = []

    def cube(k):
        made.append(k)
        return k

    char = lambda k: _metric(taus[k])  # noqa: E731
    # off: exactly n_cubes
    assert characterize_to_target(cube, char, n_cubes=2).n_cubes == 2
    # loose target: the first CI that qualifies, never before MIN_CUBES_FOR_CI
    s = characterize_to_target(cube, char, target_ci=0.5, max_cubes=50)
    assert s.n_cubes == MIN_CUBES_FOR_CI and s.stopped == "target"
    # tight target: one more cube at a time until the CI of the mean tau is within it
    s = characterize_to_target(cube, char, target_ci=0.03, max_cubes=50)
    ci = [relative_ci95(taus[:k]) for k in range(1, 51)]
    first = next(k for k in range(MIN_CUBES_FOR_CI, 51) if ci[k - 1] <= 0.03)
    assert s.n_cubes == first and s.stopped == "target"
    extras = s.ci_extras()
    assert extras["n_cubes"] == first and extras["tortuosity_factor_ci95"] <= 0.03
    # unreachable target: the cap
    s = characterize_to_target(cube, char, target_ci=1e-6, max_cubes=5)
    assert s.n_cubes == 5 and s.stopped == "max_cubes"
    assert s.tortuosity_relative_standard_error() == pytest.approx(relative_standard_error(taus[:5]))
    # a cube that does not percolate stops the sampling
    s = characterize_to_target(cube, lambda k: _metric(math.inf if k == 1 else 2.0), target_ci=0.01, max_cubes=9)
    assert s.n_cubes == 2 and s.stopped == "failed"


def test_prefetching_the_next_cube_changes_nothing_but_the_overlap():
    """Generating cube k+1 while cube k is characterised: same cubes, same metrics, same stop, at
    most one cube generated in vain; an error in a cube that is never used is dropped."""
    taus = [2.0, 2.4, 1.6, 2.1, 1.9, 2.0, 2.05, 1.95] + [2.0] * 40
    runs = {}
    for prefetch in (False, True):
        made = []

        def cube(k, made=made):
            made.append(k)
            return k

        s = characterize_to_target(cube, lambda k: _metric(taus[k]), target_ci=0.03, max_cubes=30,
                                   prefetch=prefetch)
        runs[prefetch] = (s, sorted(made))
    (seq, made_seq), (pre, made_pre) = runs[False], runs[True]
    assert [m.tortuosity_factor for m in pre.metrics] == [m.tortuosity_factor for m in seq.metrics]
    assert pre.stopped == seq.stopped and pre.n_cubes == seq.n_cubes
    assert made_pre[:len(made_seq)] == made_seq and len(made_pre) <= len(made_seq) + 1

    def cube_fails_late(k):
        if k >= MIN_CUBES_FOR_CI:
            raise RuntimeError("never needed")
        return k

    s = characterize_to_target(cube_fails_late, lambda k: _metric(2.0), target_ci=0.5, max_cubes=10)
    assert s.n_cubes == MIN_CUBES_FOR_CI and s.stopped == "target"


# ------------------------------------------------------------------ in a campaign
class TauSim:
    """A stand-in cell: energy falls with the electrolyte tortuosity (so cube noise is objective noise)."""

    name = "tausim"

    def simulate(self, electrode, cell, protocol):
        f = 10.0 / electrode.metrics.tortuosity_factor
        return Performance(f, f, 1.0, 3600.0, f, f, f)


class _Plugin:
    @hookimpl
    def register_cell_simulators(self):
        return [TauSim]


@pytest.fixture(scope="module")
def registry():
    return get_registry(plugins=[("tausim", _Plugin())])


def _config(**characterizer):
    return config_from_dict({
        "name": "rve-loop", "seed": 1, "budget": 3, "batch": 1, "objective": "energy_Wh", "protocols": ["1C"],
        "design": {"porosity": [0.30, 0.45]}, "fixed": {"am_mass_fraction": 0.9, "binder_adhesion": 0.5},
        "generator": {"name": "procedural", "shape": 24},
        "characterizer": {"name": "taufactor", "options": {"threads": 1}, **characterizer},
        "simulator": {"name": "tausim"}, "cell": {"format": "half"}, "optimizer": {"name": "sobol"},
    })


def test_spare_core_discounts_this_process_own_load(monkeypatch):
    """A campaign that kept both cores busy prefetching must not read its own load as another
    process's: the load average minus this process's CPU rate decides (measured bug: prefetch off
    from the second evaluation on)."""
    from electroforge import rve

    clock = {"wall": 0.0, "cpu": 0.0}
    monkeypatch.setattr(rve.time, "monotonic", lambda: clock["wall"])
    monkeypatch.setattr(rve.time, "process_time", lambda: clock["cpu"])
    monkeypatch.setattr(rve.os, "cpu_count", lambda: 2)
    own = rve._OwnCpuRate()
    monkeypatch.setattr(rve, "_OWN_CPU", own)
    # 10 minutes of this process using two cores: its rate converges to 2, like the load average
    for _ in range(60):
        clock["wall"] += 10.0
        clock["cpu"] += 20.0
        own.update()
    assert own.rate == pytest.approx(2.0, rel=1e-3)
    monkeypatch.setattr(rve.os, "getloadavg", lambda: (2.05, 2.0, 2.0))
    assert rve.spare_core()  # all of the load is our own
    monkeypatch.setattr(rve.os, "getloadavg", lambda: (3.0, 3.0, 3.0))
    assert not rve.spare_core()  # another process holds a core
    # calls closer than 5 s apart do not change the estimate
    before = own.rate
    clock["wall"] += 1.0
    assert own.update() == before


def test_campaign_with_target_ci_stores_n_cubes_and_cis(tmp_path, registry):
    cfg = _config(target_ci=0.04, max_cubes=6)
    path = tmp_path / "loop.nc"
    evs = Campaign(cfg, path, registry=registry, progress=False).run()
    assert all(e.ok for e in evs)
    with xr.open_dataset(path) as ds:
        n = ds["n_cubes"].values
        ci = ds["tortuosity_factor_ci95"].values
        assert "effective_conductivity_S_per_m_ci95" in ds and "metric_n_cubes" not in ds
        unc = ds["uncertainty"].values
    assert np.all((n >= MIN_CUBES_FOR_CI) & (n <= 6))
    assert np.all((ci <= 0.04) | (n == 6))
    assert np.all(unc > 0)  # the CI of the mean tortuosity is told as noise
    for e, k in zip(evs, n):
        assert e.metrics.extras["n_cubes"] == k
        # the stored relative standard error of mean tau is what became the noise
        assert e.uncertainty == pytest.approx(e.metrics.extras["tortuosity_factor_ci95"]
                                              / student_t.ppf(0.975, k - 1), rel=1e-9)
    back = CampaignStore.open(path).evaluations
    assert [b.metrics.extras["n_cubes"] for b in back] == list(n)
    # without a target: one cube, n_cubes = 1, no CI, no noise
    plain = Campaign(_config(), tmp_path / "plain.nc", registry=registry, progress=False).run()
    assert all(e.metrics.extras["n_cubes"] == 1 and math.isnan(e.metrics.extras["tortuosity_factor_ci95"])
               and e.uncertainty == 0.0 for e in plain)


def test_old_campaign_files_without_cube_counts_stay_readable(tmp_path, registry):
    path = tmp_path / "new.nc"
    Campaign(_config(), path, registry=registry, progress=False).run()
    with xr.open_dataset(path) as ds:
        old = ds.load().drop_vars([v for v in ds.data_vars if v == "n_cubes" or v.endswith("_ci95")])
    old.to_netcdf(tmp_path / "old.nc")
    rows = CampaignStore.open(tmp_path / "old.nc").evaluations
    assert len(rows) == 3 and all("n_cubes" not in r.metrics.extras for r in rows)


def test_config_and_cli_reject_bad_targets(tmp_path):
    with pytest.raises(InputFileError, match="target_ci"):
        _config(target_ci=-1)
    with pytest.raises(InputFileError, match="max_cubes"):
        _config(target_ci=0.01, max_cubes=0)
    cfg = _config(target_ci=0.01, max_cubes=4)
    assert (cfg.target_ci, cfg.max_cubes) == (0.01, 4)
    with pytest.raises(ValidationError, match="target_ci"):
        cfg.with_overrides(target_ci=-1.0)


def test_a_noisier_observation_gets_a_larger_noise_variance_in_the_model(tmp_path, registry):
    """Campaign._tell -> trieste tell(noise=...) -> the fitted GP's likelihood variance per training row."""
    from electroforge.plugins.trieste import TriesteOptimizer

    cfg = _config(target_ci=0.01)
    opt = TriesteOptimizer(space=cfg.space, seed=0, n_initial=3)
    xs = [0.31, 0.34, 0.37, 0.40, 0.43]
    rel_se = [0.002, 0.002, 0.05, 0.002, 0.002]  # the third design's cubes scattered most
    rows = [Evaluation(index=i, params={"porosity": x}, objective=4.0 + 10 * x - 12 * x * x, status="ok",
                       uncertainty=u) for i, (x, u) in enumerate(zip(xs, rel_se))]
    Campaign(cfg, tmp_path / "unused.nc", registry=registry, progress=False)._tell(opt, rows)
    opt.ask(1)  # fits the GP
    gpr = opt.last_model.model
    var = np.asarray(gpr.likelihood.variance_at(gpr.data[0])).ravel()
    assert var.shape == (5,)
    assert var[2] > 10 * max(var[[0, 1, 3, 4]])
    assert np.allclose(var[[0, 1, 3, 4]], var[0], rtol=0.05)


@pytest.mark.parametrize("args, msg", [(["--target-ci", "-1"], "target_ci=-1.0"), (["--max-cubes", "0"], "max_cubes=0"),
                                       (["--target-ci", "1.5"], "target_ci=1.5")])
def test_optimize_rejects_bad_targets_in_one_line(cli, tmp_path, args, msg):
    res = cli("optimize", "quickstart", "-o", str(tmp_path / "x.nc"), "--quiet", *args)
    assert res.returncode == 2
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and msg in lines[0]
    assert not (tmp_path / "x.nc").exists()
