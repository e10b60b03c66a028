"""The multigrid CG transport solver against taufactor as-is (its own SOR ``solve``) and against exact answers.

Agreement within 0.5 % on tau and sigma_eff over: taufactor's own test geometries (blocks, strips, a
slanted strip, a dead end, multi-phase strips), high-contrast three-phase electrodes (CBD 10 and
100 S/m vs NMC 0.18 S/m), dead-end pores and a barely percolating random pore network.
Everything runs the real solvers on small volumes.
"""
from __future__ import annotations

import contextlib
import io
import math
import warnings

import numpy as np
import pytest
import torch

from electroforge import Microstructure
from electroforge.plugins.taufactor import TauFactorCharacterizer, geometry, multigrid, solvers
from electroforge.plugins.taufactor.synthetic import synthetic_electrode

SIGMA_AM, SIGMA_CBD = 0.18, 10.0
AGREE = 5e-3  # the bound against taufactor as-is


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def stock_tau(mask) -> float:
    """taufactor out of the box: ``Solver(img).solve()``."""
    import taufactor as tf

    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = tf.Solver(np.ascontiguousarray(mask, dtype=np.uint8), device="cpu")
        s.solve(verbose=False)
    return float(np.atleast_1d(s.tau)[0])


def stock_sigma(labels, cond) -> tuple[float, float]:
    """taufactor out of the box: ``MultiPhaseSolver(img, cond).solve()`` -> (sigma_eff, tau)."""
    import taufactor as tf

    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = tf.MultiPhaseSolver(np.ascontiguousarray(labels, dtype=np.uint8), cond=cond, device="cpu")
        tau = s.solve(verbose=False)
    return float(np.atleast_1d(s.D_eff)[0]), float(np.atleast_1d(tau)[0])


# ------------------------------------------------------------------ geometries
def _block(shape, blocked_side=True):
    img = np.ones(shape, bool)
    if blocked_side:
        img[:, :, 0] = False  # taufactor's "uniform block": one insulating side layer
    return img


def _strip(n=20, t=10):
    img = np.zeros((n, n, n), bool)
    img[:, :t, :t] = True
    return img


def _slanted_strip(n=20):
    img = np.zeros((n, n + 1, n + 1), bool)
    for i in range(n):
        img[i, i:i + 2, i:i + 2] = True
    return img


def _dead_ends(n=24):
    """A straight 3x3 channel through x with three dead-end branches hanging off it."""
    img = np.zeros((n, 16, 16), bool)
    img[:, 6:9, 6:9] = True
    img[4, 9:15, 6:9] = True  # side branches one voxel thick in x (no bypass), in +y, -y and +z
    img[12, 1:6, 7] = True
    img[18, 7, 9:16] = True
    return img


def _barely_percolating(n=32, p=0.36, seed=5):
    """Random pores just above 6-connected site percolation (p_c ~ 0.312): a tenuous spanning cluster."""
    rng = np.random.default_rng(seed)
    img = rng.random((n, n, n)) < p
    assert geometry.through_x_fraction(img) > 0
    return img


def _procedural(n=32, porosity=0.30, seed=3):
    """The procedural generator's three-phase electrode (the campaigns' default material)."""
    from electroforge.registry import get_registry

    gen = get_registry().create("generator", "procedural")
    ms = gen.generate({"am_mass_fraction": 0.92, "porosity": porosity, "binder_adhesion": 0.7}, (n, n, n), seed)
    return np.asarray(ms.labels)


BINARY_CASES = {
    "uniform block": lambda: _block((20, 20, 20)),
    "rectangular block, long x": lambda: _block((40, 20, 20)),
    "rectangular block, long z": lambda: _block((20, 20, 40)),
    "strip of ones": _strip,
    "slanted strip": _slanted_strip,
    "dead-end branches": _dead_ends,
    "synthetic electrode pores": lambda: synthetic_electrode(32, radius_vox=4.0, seed=2) == 0,
    "barely percolating": _barely_percolating,
    "procedural electrode pores": lambda: _procedural() == 0,
}


@pytest.mark.parametrize("name", list(BINARY_CASES))
def test_tortuosity_agrees_with_taufactor_as_is(name):
    mask = BINARY_CASES[name]()
    ours = solvers.multigrid_tortuosity(mask)
    ref = stock_tau(mask)
    assert ours.converged
    assert ours.tau == pytest.approx(ref, rel=AGREE)


def test_unit_tortuosity_and_analytic_dead_ends():
    # straight paths: tau = 1 to solver precision (taufactor's tests ask for 5 decimals)
    for build in (lambda: _block((20, 20, 20)), _strip):
        assert solvers.multigrid_tortuosity(build()).tau == pytest.approx(1.0, abs=1e-5)
    # dead ends add porosity but carry no current: tau = eps_total / eps_channel exactly
    mask = _dead_ends()
    channel = np.zeros_like(mask)
    channel[:, 6:9, 6:9] = True
    expected = mask.mean() / channel.mean()
    assert expected > 1.1
    assert solvers.multigrid_tortuosity(mask).tau == pytest.approx(expected, rel=1e-5)


def test_taufactor_dead_end_and_empty_give_infinite_tortuosity():
    solid = np.zeros((10, 50, 50), bool)
    solid[:8, 25, 25] = True  # taufactor's dead-end test
    res = solvers.multigrid_tortuosity(solid)
    assert math.isinf(res.tau) and res.d_eff == 0.0
    ms = Microstructure(labels=np.where(solid, 0, 1).astype(np.uint8), voxel_size_m=1e-6)
    assert math.isinf(TauFactorCharacterizer(threads=1).characterize(ms).tortuosity_factor)


# ------------------------------------------------------------------ multi-phase
def _strips_123():
    img = np.ones((20, 20, 20), np.uint8)
    img[:, :, :10] = 2
    img[:, :10, 10:] = 3
    return img, {1: 1.0, 2: 0.5, 3: 2.0}


def _mph_vs_solver(n=40):
    img = np.ones((n, n, n), np.uint8)
    img[n // 2:] = 2
    img[:, : n // 5] = 0
    img[:, n // 2:] = 1
    return img, {1: 1.0, 2: 1e-4}


MULTI_CASES = {
    "ones block": lambda: (np.ones((20, 20, 20), np.uint8), {1: 1.0}),
    "halves block": lambda: (np.ones((20, 20, 20), np.uint8), {1: 0.5}),
    "strips of ones, twos, threes": _strips_123,
    "multiphase vs solver geometry (1e4 contrast)": _mph_vs_solver,
    "electrode, CBD 10 S/m": lambda: (synthetic_electrode(32, radius_vox=4.0, seed=2), {1: SIGMA_AM, 2: SIGMA_CBD}),
    "electrode 2, CBD 10 S/m": lambda: (synthetic_electrode(32, radius_vox=4.0, seed=7), {1: SIGMA_AM, 2: SIGMA_CBD}),
    "electrode, CBD 100 S/m": lambda: (synthetic_electrode(32, radius_vox=4.0, seed=2), {1: SIGMA_AM, 2: 100.0}),
    "procedural electrode, CBD 10 S/m": lambda: (_procedural(), {1: SIGMA_AM, 2: SIGMA_CBD}),
}


@pytest.mark.parametrize("name", list(MULTI_CASES))
def test_conductivity_agrees_with_taufactor_as_is(name):
    labels, cond = MULTI_CASES[name]()
    ours = solvers.multigrid_conductivity(labels, cond)
    ref_sigma, ref_tau = stock_sigma(labels, cond)
    assert ours.converged
    assert ours.d_eff == pytest.approx(ref_sigma, rel=AGREE)
    assert ours.tau == pytest.approx(ref_tau, rel=AGREE)


def test_series_and_parallel_layers_are_exact():
    par = np.full((20, 16, 8), 1, np.uint8)
    par[:, 10:] = 2
    f = 6 / 16
    res = solvers.multigrid_conductivity(par, {1: SIGMA_AM, 2: SIGMA_CBD})
    assert res.d_eff == pytest.approx((1 - f) * SIGMA_AM + f * SIGMA_CBD, rel=1e-5)
    ser = np.full((20, 8, 8), 1, np.uint8)
    ser[10:] = 2
    # taufactor's discretisation: the potentials sit on virtual layers one voxel outside each end, so a
    # column is 21 links in series: virtual-0 and 9 links in NMC (10/sigma_am), the interface link
    # (harmonic pair: 0.5/sigma_am + 0.5/sigma_cbd), 9 links in CBD and CBD-virtual (10/sigma_cbd)
    r = 10.5 / SIGMA_AM + 10.5 / SIGMA_CBD
    expected = (20 + 1) / r
    res = solvers.multigrid_conductivity(ser, {1: SIGMA_AM, 2: SIGMA_CBD})
    assert res.d_eff == pytest.approx(expected, rel=3e-4)  # the default rtol
    tight = solvers.multigrid_conductivity(ser, {1: SIGMA_AM, 2: SIGMA_CBD}, rtol=1e-7)
    assert tight.d_eff == pytest.approx(expected, rel=1e-5)  # float32 arithmetic


# ------------------------------------------------------------------ the solver itself
def test_direct_fallback_and_multigrid_agree():
    labels = synthetic_electrode(24, radius_vox=3.0, seed=4)
    c = np.zeros(labels.shape, np.float32)
    c[labels == 1], c[labels == 2] = SIGMA_AM, SIGMA_CBD
    c[~geometry.spanning_mask(c > 0)] = 0
    t = torch.from_numpy(c)
    problem = (solvers._harmonic_pairs(t, 0), solvers._harmonic_pairs(t, 1), solvers._harmonic_pairs(t, 2), t[0], t[-1])
    it = multigrid.solve_conductance(*problem, rtol=1e-7, kcycle=True)
    exact = multigrid.solve_conductance_direct(*problem)
    assert it.converged and it.iterations > 2
    assert it.conductance == pytest.approx(exact.conductance, rel=2e-5)
    assert exact.flux_spread < 1e-9
    # the energy estimate bounds the conductance from above
    rough = multigrid.solve_conductance(*problem, rtol=1e-2, kcycle=True)
    assert rough.conductance >= exact.conductance * (1 - 1e-6)


def test_odd_shapes_and_thin_volumes():
    for shape in ((17, 9, 5), (5, 33, 20), (1, 8, 8), (30, 1, 1)):
        mask = np.ones(shape, bool)
        assert solvers.multigrid_tortuosity(mask).tau == pytest.approx(1.0, abs=1e-5), shape


def test_characterizer_default_is_multigrid_and_matches_sor():
    ms = Microstructure(labels=synthetic_electrode(32, radius_vox=3.0, seed=2), voxel_size_m=4e-7)
    mg = TauFactorCharacterizer(threads=1).characterize(ms)
    sor = TauFactorCharacterizer(threads=1, solver="sor").characterize(ms)
    assert mg.extras["tortuosity_iterations"] < 30 < sor.extras["tortuosity_iterations"]
    assert mg.tortuosity_factor == pytest.approx(sor.tortuosity_factor, rel=AGREE)
    assert mg.effective_conductivity_S_per_m == pytest.approx(sor.effective_conductivity_S_per_m, rel=AGREE)
    assert mg.extras["tortuosity_converged"] == 1.0 and mg.extras["conductivity_converged"] == 1.0


@pytest.mark.parametrize("bad", [{"solver": "amg"}, {"rtol": 0}, {"rtol": 0.5}])
def test_bad_solver_options_are_one_line_errors(bad):
    from electroforge.errors import ValidationError

    with pytest.raises(ValidationError) as exc:
        TauFactorCharacterizer(**bad)
    assert "\n" not in str(exc.value)


def test_table_surface_area_equals_scikit_image_marching_cubes():
    rng = np.random.default_rng(0)
    volumes = [rng.random((20, 17, 23)) < 0.5, synthetic_electrode(32, radius_vox=4.0, seed=2) == 1,
               synthetic_electrode(32, radius_vox=4.0, seed=2) == 2]
    for mask in volumes:
        ref = geometry.surface_area_marching_cubes(mask)
        assert ref > 100
        assert geometry.surface_area_voxels(mask) == pytest.approx(ref, rel=1e-6)


def test_unconverged_multigrid_falls_back_to_direct_or_more_iterations(monkeypatch):
    mask = synthetic_electrode(24, radius_vox=3.0, seed=4) == 0
    ref = solvers.multigrid_tortuosity(mask, rtol=1e-7)
    direct = solvers.multigrid_tortuosity(mask, iter_limit=1)  # small cluster: sparse direct solve
    assert direct.converged and direct.tau == pytest.approx(ref.tau, rel=1e-5)
    monkeypatch.setattr(solvers, "DIRECT_FALLBACK_MAX_UNKNOWNS", 0)
    more = solvers.multigrid_tortuosity(mask, iter_limit=2)  # large cluster: 10x the iterations
    assert more.converged and more.iterations > 2 and more.tau == pytest.approx(ref.tau, rel=5e-4)
