"""The fidelity measures (S2, chord lengths, particle size), errors and score on known structures."""
from __future__ import annotations

import math

import numpy as np
import pytest

from electroforge.model import Microstructure
from electroforge.plugins.gan import fidelity as fd


def test_s2_of_stripes_is_exact_along_and_across_them():
    # phase 1 in slabs of 4 voxels every 8 along axis 0, constant along axes 1 and 2
    lab = np.zeros((32, 8, 8), dtype=np.uint8)
    for start in range(0, 32, 8):
        lab[start:start + 4] = 1
    s2_across = fd.two_point_correlation(lab, 1, axis=0, r_max=8)
    s2_along = fd.two_point_correlation(lab, 1, axis=1, r_max=4)
    assert s2_across[0] == pytest.approx(0.5)
    assert s2_across[4] == pytest.approx(0.0)  # shifted by a slab: never both in phase 1
    assert s2_across[8] == pytest.approx(0.5)  # one period
    assert s2_across[2] == pytest.approx(8 / 30)  # 2 pairs in each of 4 slabs, 30 pair positions
    assert np.allclose(s2_along, 0.5)


def test_s2_of_independent_voxels_decays_to_fraction_squared():
    rng = np.random.default_rng(0)
    lab = (rng.random((64, 64, 64)) < 0.3).astype(np.uint8)
    s2 = fd.two_point_correlation(lab, 1, axis=2, r_max=5)
    assert s2[0] == pytest.approx(0.3, abs=0.01)
    assert np.allclose(s2[1:], 0.09, atol=0.005)


def test_mean_chord_length_counts_runs_including_cut_ones():
    m = np.zeros((10, 1, 1), dtype=bool)
    m[0:3] = True  # a run of 3 cut by the face
    m[5:6] = True  # a run of 1
    m[8:10] = True  # a run of 2 cut by the other face
    assert fd.mean_chord_length_voxels(m, 0) == pytest.approx(2.0)
    assert fd.mean_chord_length_voxels(m, 1) == pytest.approx(1.0)
    assert fd.mean_chord_length_voxels(np.zeros((4, 4, 4), bool), 0) == 0.0


def test_particle_diameter_of_a_ball_is_close_to_its_diameter():
    n, r = 48, 12.0
    x, y, z = np.ogrid[:n, :n, :n]
    lab = (((x - 24) ** 2 + (y - 24) ** 2 + (z - 24) ** 2) <= r * r).astype(np.uint8)
    m = fd.morphology(lab)
    assert m["particle_d"] == pytest.approx(2 * r, rel=0.1)
    assert m["vf"].sum() == pytest.approx(1.0) and m["s2"].shape == (3, 3, 25) and m["chord"].shape == (2, 3)


def test_compare_is_zero_against_itself_and_the_score_scales_with_target():
    rng = np.random.default_rng(1)
    lab = rng.integers(0, 3, (24, 24, 24)).astype(np.uint8)
    ms = Microstructure(labels=lab, voxel_size_m=4e-7)
    a = fd.mean_measures([fd.measure(ms)])
    err = fd.compare(a, a)
    assert set(err) == {"vf_abs", "s2_abs", "chord_active_rel", "chord_pore_rel", "particle_d_rel", "euler_active_abs",
                        "euler_pore_abs"}
    assert all(v == 0.0 for v in err.values()) and fd.score(err) == 0.0
    assert fd.score({"vf_abs": 0.02, "s2_abs": 0.0}) == pytest.approx(1.0)  # (2 + 0) / 2
    assert fd.score({"tortuosity_rel": math.inf}) == 100.0  # capped, so one blocked point cannot hide the rest


def test_mean_measures_skips_blocked_tortuosity_and_counts_it():
    rows = [{"tortuosity": 2.0, "vf": np.array([1.0, 0, 0])}, {"tortuosity": math.inf, "vf": np.array([0.0, 1, 0])}]
    m = fd.mean_measures(rows)
    assert m["tortuosity"] == 2.0 and m["blocked"] == 1 and np.allclose(m["vf"], [0.5, 0.5, 0]) and m["n"] == 2


def test_euler_characteristic_counts_particles_minus_loops_and_is_reported_not_scored():
    """One ball: +1; a ring (a solid torus): 0; two separate balls: +2 (per 1,000 voxels of the box)."""
    g = np.arange(40) - 19.5
    x, y, z = np.meshgrid(g, g, g, indexing="ij")
    ball = (x ** 2 + y ** 2 + z ** 2 <= 8.0 ** 2)
    ring = ((np.sqrt(x ** 2 + y ** 2) - 12.0) ** 2 + z ** 2 <= 4.0 ** 2)
    two = ((x - 10) ** 2 + y ** 2 + z ** 2 <= 6.0 ** 2) | ((x + 10) ** 2 + y ** 2 + z ** 2 <= 6.0 ** 2)
    per = 1000.0 / 40 ** 3
    for mask, chi in ((ball, 1), (ring, 0), (two, 2)):
        labels = np.where(mask, fd.ACTIVE, fd.PORE).astype(np.uint8)
        assert fd.morphology(labels, r_max=4)["euler_active"] == pytest.approx(chi * per)
    a = fd.mean_measures([fd.morphology(np.where(ball, fd.ACTIVE, fd.PORE).astype(np.uint8), r_max=4)])
    b = fd.mean_measures([fd.morphology(np.where(ring, fd.ACTIVE, fd.PORE).astype(np.uint8), r_max=4)])
    err = fd.compare(a, b)
    assert err["euler_active_abs"] == pytest.approx(per)
    # the pores around one ball: one component with one cavity (2); around a ring: one tunnel more (1)
    assert err["euler_pore_abs"] == pytest.approx(per)
    without = {k: v for k, v in err.items() if not k.startswith("euler_")}
    assert set(fd.REPORTED) == {"euler_active_abs", "euler_pore_abs"} and not set(fd.REPORTED) & set(fd.TARGETS)
    assert fd.score(err) == fd.score(without)
