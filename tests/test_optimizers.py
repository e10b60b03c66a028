"""Model-free optimizers (`sobol`, `random`, `grid`), the shared observation history, failure
imputation and deduplication of the `trieste` optimizer: all without importing tensorflow."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from electroforge import DesignSpace, get_registry
from electroforge.errors import ValidationError
from electroforge.plugins.baselines import GridOptimizer, RandomOptimizer, SobolOptimizer
from electroforge.plugins.baselines.history import sobol_unit_points
from electroforge.plugins.trieste import TriesteOptimizer
from electroforge.plugins.trieste.targets import standardise_with_imputation

SPACE = DesignSpace.from_bounds({"am_mass_fraction": (0.85, 0.97), "porosity": (0.25, 0.5)})


def _values(points):
    return np.array([[p[n] for n in SPACE.names] for p in points])


def test_hook_register_optimizers_offers_sobol_random_grid_and_trieste():
    reg = get_registry()
    assert {"sobol", "random", "grid", "trieste"} <= set(reg.names("optimizer"))
    opt = reg.create("optimizer", "grid", space=SPACE, seed=0, points_per_dim=3)
    assert opt.size == 9


def test_importing_the_trieste_plugin_does_not_import_tensorflow():
    code = (
        "import sys, electroforge.plugins.trieste as t, electroforge.plugins.baselines;"
        "from electroforge import DesignSpace;"
        "o = t.TriesteOptimizer(DesignSpace.from_bounds({'a': (0, 1)}), seed=0); o.ask(2);"
        "print('tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("cls", [SobolOptimizer, RandomOptimizer])
def test_space_filling_points_are_in_bounds_distinct_and_reproducible(cls):
    opt = cls(space=SPACE, seed=3)
    pts = _values(opt.ask(16))
    assert pts.shape == (16, 2)
    assert np.all(pts >= SPACE.lower) and np.all(pts <= SPACE.upper)
    assert len(np.unique(np.round(pts, 12), axis=0)) == 16
    np.testing.assert_array_equal(pts, _values(cls(space=SPACE, seed=3).ask(16)))
    assert not np.allclose(pts, _values(cls(space=SPACE, seed=4).ask(16)))


@pytest.mark.parametrize("cls", [SobolOptimizer, RandomOptimizer, GridOptimizer])
def test_resumed_space_filling_optimizer_continues_like_an_uninterrupted_one(cls):
    a = cls(space=SPACE, seed=5)
    batches = []
    for _ in range(3):
        pts = a.ask(4)
        assert a.ask(4) == pts  # asking again without telling changes nothing
        batches.append(pts)
        a.tell(pts, [1.0] * 4, [False] * 4)
    b = cls(space=SPACE, seed=5)
    b.tell(batches[0] + batches[1], [1.0] * 8, [False] * 8)
    assert b.ask(4) == batches[2]


def test_sobol_optimizer_follows_the_scrambled_sobol_sequence_by_observation_count():
    opt = SobolOptimizer(space=SPACE, seed=11)
    unit = sobol_unit_points(2, 11, 0, 8)
    np.testing.assert_allclose(SPACE.to_unit(opt.ask(4)), unit[:4])
    opt.tell(opt.ask(4), [0.1, np.nan, 0.3, 0.2], [False, True, False, False])
    np.testing.assert_allclose(SPACE.to_unit(opt.ask(4)), unit[4:])
    # a Sobol set of 8 covers each half of each axis exactly 4 times (stratification)
    assert np.all((unit < 0.5).sum(axis=0) == 4)


def test_grid_enumerates_every_point_once_with_bounds_included_then_stops():
    opt = GridOptimizer(space=SPACE, seed=0, points_per_dim=3)
    seen = []
    while len(seen) < opt.size:
        pts = opt.ask(4)  # 9 points: 4 + 4 + 1
        seen += pts
        opt.tell(pts, [0.0] * len(pts), [False] * len(pts))
    v = _values(seen)
    assert len(v) == 9 and len(np.unique(v, axis=0)) == 9
    assert set(np.round(v[:, 1], 9)) == {0.25, 0.375, 0.5}
    assert v[0].tolist() == [0.85, 0.25] and v[-1].tolist() == [0.97, 0.5]
    with pytest.raises(ValidationError, match="all 9 grid points"):
        opt.ask(1)


def test_grid_with_one_point_per_dim_is_the_centre():
    (p,) = GridOptimizer(space=SPACE, points_per_dim=1).ask(1)
    assert p == pytest.approx({"am_mass_fraction": 0.91, "porosity": 0.375})


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: SobolOptimizer(space=SPACE).ask(0), "n must be a positive integer"),
        (lambda: SobolOptimizer(space=SPACE, seed=-1), "seed must be a non-negative"),
        (lambda: SobolOptimizer(space={"porosity": (0, 1)}), "space must be an electroforge.DesignSpace"),
        (lambda: GridOptimizer(space=SPACE, points_per_dim=0), "points_per_dim"),
        (lambda: SobolOptimizer(space=SPACE).tell([{"porosity": 0.3, "am_mass_fraction": 0.9}], [1.0, 2.0], [False]),
         "same length"),
        (lambda: SobolOptimizer(space=SPACE).tell([{"porosity": 0.3}], [1.0], [False]), "lacks parameter 'am_mass_fraction'"),
        (lambda: TriesteOptimizer(space=SPACE, batch="kriging"), "batch='kriging'"),
        (lambda: TriesteOptimizer(space=SPACE, acquisition="pi"), "acquisition='pi'"),
        (lambda: TriesteOptimizer(space=SPACE, n_initial=0), "n_initial=0"),
        (lambda: TriesteOptimizer(space=SPACE, noise_variance=-1), "noise_variance"),
    ],
)
def test_bad_optimizer_input_raises_a_one_line_validation_error(call, match):
    with pytest.raises(ValidationError, match=match) as err:
        call()
    assert "\n" not in str(err.value)


def test_non_finite_objective_is_recorded_as_a_failure_not_dropped():
    opt = SobolOptimizer(space=SPACE)
    pts = opt.ask(3)
    opt.tell(pts, [1.0, float("nan"), float("inf")], [False, False, False])
    assert len(opt.history) == 3
    assert opt.history.failed.tolist() == [False, True, True]


def test_imputed_failures_sit_below_the_worst_success_in_standardised_units():
    y = np.array([2.0, 4.0, np.nan, 6.0, 3.0])
    failed = np.array([False, False, True, False, True])  # a failure may carry a stale value
    z, mean, std = standardise_with_imputation(y, failed, margin=0.1)
    ok = ~failed
    assert mean == pytest.approx(4.0) and std == pytest.approx(np.std([2.0, 4.0, 6.0]))
    assert z[ok].mean() == pytest.approx(0.0) and z[ok].std() == pytest.approx(1.0)
    worst, spread = z[ok].min(), z[ok].max() - z[ok].min()
    assert z[2] == z[4] == pytest.approx(worst - 0.1 * spread)


def test_told_noise_is_per_row_in_standardised_units():
    opt = TriesteOptimizer(space=SPACE, seed=0, noise_variance=1e-5)
    pts = SobolOptimizer(space=SPACE).ask(3)
    opt.tell(pts, [1.0, 2.0, 3.0], [False] * 3, noise=[0.04, 0.0, 0.16])
    y, base = opt._targets_for_minimisation()
    assert y[0] > y[2]  # trieste minimises: the best objective has the lowest target
    assert base == 1e-5
    np.testing.assert_allclose(opt.row_noise(), np.array([0.04, 0.0, 0.16]) / np.var([1.0, 2.0, 3.0]))
    quiet = TriesteOptimizer(space=SPACE, seed=0)
    quiet.tell(pts, [1.0, 2.0, 3.0], [False] * 3)
    assert quiet.row_noise() is None


def test_trieste_deduplication_replaces_repeats_by_distant_points():
    opt = TriesteOptimizer(space=SPACE, seed=0)
    opt.tell([{"am_mass_fraction": 0.85, "porosity": 0.25}], [1.0], [False])
    x = np.array([[0.0, 0.0], [0.5, 0.5], [0.5, 0.5 + 1e-6], [0.9, 0.1]])
    out = opt._deduplicate(x, k=1)
    assert out.shape == (4, 2) and np.all((out >= 0) & (out <= 1))
    d = np.linalg.norm(out[:, None] - out[None], axis=2) + np.eye(4)
    assert d.min() > 0.05  # the repeats of (0,0) [observed] and (0.5,0.5) were replaced
    np.testing.assert_array_equal(out[[1, 3]], x[[1, 3]])
    np.testing.assert_array_equal(out, opt._deduplicate(x, k=1))  # seeded by (seed, k)


def test_trieste_initial_design_is_the_sobol_baselines_points():
    tri, sob = TriesteOptimizer(space=SPACE, seed=2), SobolOptimizer(space=SPACE, seed=2)
    assert tri.n_initial == 9  # max(2 * dim + 1, 9) in 2-D
    assert tri.ask(3) == sob.ask(3)
    pts = tri.ask(2)
    tri.tell(pts, [0.5, 0.6], [False, False])
    sob.tell(pts, [0.5, 0.6], [False, False])
    assert tri.ask(3) == sob.ask(3)  # k=2 < n_initial: Sobol points 2..4
