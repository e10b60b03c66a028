"""The `trieste` Bayesian optimizer with real tensorflow/gpflow/trieste: it beats the Sobol
baseline on a smooth analytic objective, steers away from a failing region, is deterministic for
a seed, and a resumed optimizer (one tell of all observations) asks what an uninterrupted one asks."""
from __future__ import annotations

import numpy as np
import pytest

from electroforge import DesignSpace
from electroforge.plugins.baselines import SobolOptimizer
from electroforge.plugins.trieste import TriesteOptimizer

SPACE = DesignSpace.from_bounds({"am_mass_fraction": (0.85, 0.97), "porosity": (0.25, 0.5)})
OPTIMUM_UNIT = np.array([0.62, 0.31])  # interior maximum, value 1


def bump(p) -> float:
    """A smooth objective to maximise: an anisotropic Gaussian bump, max 1 at OPTIMUM_UNIT."""
    u = SPACE.to_unit(p)
    return float(np.exp(-0.5 * (((u[0] - OPTIMUM_UNIT[0]) / 0.15) ** 2 + ((u[1] - OPTIMUM_UNIT[1]) / 0.2) ** 2)))


def fails(p) -> bool:
    """A failing region covering 40% of the box (think: non-percolating pores), next to the optimum."""
    u = SPACE.to_unit(p)
    return bool(u[0] > 0.75 or u[1] > 0.8)


def evaluations_to_reach(opt, target: float, budget: int, batch: int = 1) -> int:
    """Run ask/tell until an objective >= target is observed; return how many evaluations it took."""
    n = 0
    while n < budget:
        pts = opt.ask(batch)
        ys = [bump(p) for p in pts]
        opt.tell(pts, ys, [False] * len(pts))
        for y in ys:
            n += 1
            if y >= target:
                return n
    return budget + 1


@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow)])
def test_trieste_reaches_within_1pc_of_the_optimum_in_far_fewer_evaluations_than_sobol(seed):
    bo = evaluations_to_reach(TriesteOptimizer(space=SPACE, seed=seed), 0.99, budget=30)
    sobol = evaluations_to_reach(SobolOptimizer(space=SPACE, seed=seed), 0.99, budget=400)
    assert bo <= 30, f"BO did not get within 1% in 30 evaluations (seed {seed})"
    assert sobol >= 3 * bo, f"BO {bo} vs Sobol {sobol} evaluations"


def test_trieste_steers_away_from_a_failing_region_and_still_finds_a_good_design():
    opt = TriesteOptimizer(space=SPACE, seed=0, n_initial=5)  # 10 model-based asks of the 15
    model_based_failures, best = [], 0.0
    for i in range(15):
        (p,) = opt.ask(1)
        f = fails(p)
        y = float("nan") if f else bump(p)
        opt.tell([p], [y], [f])
        if i >= opt.n_initial:
            model_based_failures.append(f)
        best = max(best, 0.0 if f else y)
    sobol = SobolOptimizer(space=SPACE, seed=0).ask(256)
    sobol_rate = np.mean([fails(p) for p in sobol])
    assert sobol_rate == pytest.approx(0.4, abs=0.03)
    assert np.mean(model_based_failures) <= 0.5 * sobol_rate, model_based_failures
    assert best >= 0.95


def test_trieste_resume_from_stored_observations_equals_the_uninterrupted_run():
    def evaluate(pts):
        return [bump(p) for p in pts], [False] * len(pts)

    a = TriesteOptimizer(space=SPACE, seed=7, n_initial=5)
    batches = []
    for _ in range(3):  # Sobol (k=0), Sobol (k=3 < 5), then a model-based batch (k=6)
        pts = a.ask(3)
        batches.append(pts)
        a.tell(pts, *evaluate(pts))
    third = SPACE.to_unit(batches[2])

    b = TriesteOptimizer(space=SPACE, seed=7, n_initial=5)
    told = batches[0] + batches[1]
    b.tell(told, *evaluate(told))
    resumed = SPACE.to_unit(b.ask(3))
    np.testing.assert_allclose(resumed, third, atol=1e-6)
    np.testing.assert_allclose(SPACE.to_unit(b.ask(3)), resumed, atol=1e-6)  # asking again: same

    # the model-based batch is q distinct points inside the bounds, not Sobol points
    values = np.array([[p[n] for n in SPACE.names] for p in batches[2]])
    assert np.all(values >= SPACE.lower) and np.all(values <= SPACE.upper)
    assert min(np.linalg.norm(third[i] - third[j]) for i in range(3) for j in range(i)) > 1e-3
    assert not np.allclose(third, SPACE.to_unit(SobolOptimizer(space=SPACE, seed=7).ask(9))[6:])


@pytest.mark.slow
@pytest.mark.parametrize("method", ["qei", "ts"])
def test_trieste_other_batch_methods_return_q_distinct_in_bound_points(method):
    opt = TriesteOptimizer(space=SPACE, seed=1, batch=method)
    pts = opt.ask(6)
    opt.tell(pts, [bump(p) for p in pts], [False] * 6)
    batch = SPACE.to_unit(opt.ask(4))
    assert batch.shape == (4, 2) and np.all((batch >= 0) & (batch <= 1))
    assert min(np.linalg.norm(batch[i] - batch[j]) for i in range(4) for j in range(i)) > 1e-3


def test_trieste_shared_gp_session_carries_nothing_from_one_optimizer_to_another():
    """The GP and its traced functions are kept per process; a fit for other data in between
    (another optimizer, other noise) must not change what an optimizer asks."""
    def told(seed, n):
        opt = TriesteOptimizer(space=SPACE, seed=seed, n_initial=5)
        pts = SobolOptimizer(space=SPACE, seed=seed).ask(n)
        opt.tell(pts, [bump(p) for p in pts])
        return opt

    first = SPACE.to_unit(told(4, 7).ask(1))
    other = told(9, 11)
    other.tell(other.ask(1), [0.3], noise=[0.01])
    other.ask(2)
    np.testing.assert_allclose(SPACE.to_unit(told(4, 7).ask(1)), first, atol=1e-9)


def test_trieste_matern32_kernel_finds_the_bump_and_is_its_own_gp():
    m32 = TriesteOptimizer(space=SPACE, seed=0, kernel="matern32")
    assert evaluations_to_reach(m32, 0.99, budget=30) <= 30
    assert m32.last_model.model.kernel.__class__.__name__ == "Matern32"
    m52 = TriesteOptimizer(space=SPACE, seed=0)
    m52.tell([SPACE.from_unit(x) for x in m32.history.x_unit], list(m32.history.objectives), list(m32.history.failed))
    m52.ask(1)
    assert m52.last_model.model.kernel.__class__.__name__ == "Matern52"


def test_trieste_unknown_kernel_is_a_one_line_error_naming_the_plugin():
    from electroforge.errors import ValidationError

    with pytest.raises(ValidationError, match=r"optimizer 'trieste': kernel='rbf' is not one of \('matern52', 'matern32'\)"):
        TriesteOptimizer(space=SPACE, kernel="rbf")


def test_trieste_failed_acquisition_optimisation_proposes_space_filling_points_not_an_error(monkeypatch):
    """trieste raises FailedOptimizationError when every L-BFGS-B run of the acquisition fails (seen
    with local penalisation in the race); the campaign must go on with distinct, in-bound points."""
    from electroforge.plugins.trieste import _tf

    m = _tf.load()

    class FailingRule:
        def acquire_single(self, *args, **kwargs):
            raise m.FailedOptimizationError("Acquisition function optimization failed")

    def make(seed=3):
        opt = TriesteOptimizer(space=SPACE, seed=seed, n_initial=4)
        pts = opt.ask(6)
        opt.tell(pts, [bump(p) for p in pts], [False] * 6)
        monkeypatch.setattr(opt, "_rule", lambda session, n: (FailingRule(), False))
        return opt

    with pytest.warns(RuntimeWarning, match="acquisition optimisation failed after 6 observations"):
        out = make().ask(4)
    unit = SPACE.to_unit(out)
    assert unit.shape == (4, 2) and np.all((unit >= 0) & (unit <= 1))
    seen = make().history.x_unit
    to_seen = np.linalg.norm(unit[:, None, :] - seen[None, :, :], axis=2)
    pairwise = np.linalg.norm(unit[:, None, :] - unit[None, :, :], axis=2) + np.eye(4)
    assert to_seen.min() > 0.05 and pairwise.min() > 0.05  # away from the observations and each other
    with pytest.warns(RuntimeWarning):
        assert make().ask(4) == out  # still a function of (seed, observations)
