"""The fidelity measures (S2, chord lengths, particle size), errors and score on known structures."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

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
                        "euler_pore_abs", "euler_binder_abs", "psd_w1_rel", "psd_ks", "chord_pore_w1_rel",
                        "chord_pore_ks", "chord_active_w1_rel", "chord_active_ks", "chord_binder_w1_rel",
                        "chord_binder_ks"}
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
    assert {"euler_active_abs", "euler_pore_abs"} <= set(fd.REPORTED) and not set(fd.REPORTED) & set(fd.TARGETS)
    assert fd.score(err) == fd.score(without)


# ---------------------------------------------------------------- realism measures (issue 28)
def _balls(centres_radii, n=48):
    g = np.arange(n)
    x, y, z = np.meshgrid(g, g, g, indexing="ij")
    mask = np.zeros((n, n, n), dtype=bool)
    for (cx, cy, cz), r in centres_radii:
        mask |= (x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2 <= r * r
    return mask


def test_euler_characteristic_of_a_binder_shell_and_its_seed_spread():
    """An active ball in a pore shell in a binder shell in pores: the ball 1, the binder shell 2
    (a sphere: one component, one cavity), the pores 2 + 2 (the outer region and the inner
    shell, each a sphere); mean_measures keeps the seed-to-seed spread that compare divides by."""
    g = np.arange(40) - 19.5
    x, y, z = np.meshgrid(g, g, g, indexing="ij")
    r = np.sqrt(x ** 2 + y ** 2 + z ** 2)
    labels = np.full((40, 40, 40), fd.PORE, dtype=np.uint8)
    labels[r <= 12] = fd.BINDER
    labels[r <= 9] = fd.PORE
    labels[r <= 6] = fd.ACTIVE
    m = fd.morphology(labels, r_max=4)
    per = 1000.0 / 40 ** 3
    assert m["euler_active"] == pytest.approx(per)
    assert m["euler_binder"] == pytest.approx(2 * per)
    assert m["euler_pore"] == pytest.approx(4 * per)
    ref = fd.mean_measures([{"euler_binder": 1.0}, {"euler_binder": 3.0}])
    assert ref["euler_binder"] == 2.0 and ref["euler_binder_std"] == pytest.approx(math.sqrt(2.0))
    err = fd.compare({**fd.morphology(labels, r_max=4), "euler_binder": 2.0 + 2 * math.sqrt(2.0)},
                     {**fd.morphology(labels, r_max=4), **ref})
    assert err["euler_binder_spread"] == pytest.approx(2.0)


def test_particle_radius_histogram_recovers_the_radii_of_separate_balls():
    mask = _balls([((12, 12, 12), 4), ((34, 12, 12), 4), ((12, 34, 30), 8), ((34, 34, 30), 8)])
    hist = fd.particle_radius_histogram(mask)
    centres = 0.5 * (fd.RADIUS_BINS[1:] + fd.RADIUS_BINS[:-1])
    assert hist.sum() == pytest.approx(1.0)
    picked = centres[hist > 0]
    # one maximum per ball, at its centre, where the distance to the nearest outside voxel is the
    # radius to within half a voxel (sqrt(r^2 + 1) for these digital balls)
    assert set(np.round(picked - 0.25).astype(int)) == {4, 8} and hist[hist > 0] == pytest.approx([0.5, 0.5])
    # the distance: zero against itself; a shift of every radius by one voxel is a W1 of one voxel
    other = fd.particle_radius_histogram(_balls([((12, 12, 12), 5), ((34, 12, 12), 5), ((12, 34, 30), 9),
                                                 ((34, 34, 30), 9)]))
    assert fd.distribution_distances(hist, hist, centres) == (0.0, 0.0)
    w1, ks = fd.distribution_distances(hist, other, centres)
    assert w1 == pytest.approx(1.0) and ks == pytest.approx(0.5)


def test_chord_length_histogram_counts_runs_along_all_axes():
    mask = np.zeros((6, 6, 6), dtype=bool)
    mask[1:4, 2, 2] = True  # one run of 3 along x; six runs of 1 along y and z (three voxels, two axes)
    assert sorted(fd.chord_lengths(mask, 0)) == [3]
    hist = fd.chord_length_histogram(mask)
    assert hist[0] == pytest.approx(6 / 7) and hist[2] == pytest.approx(1 / 7) and hist.sum() == pytest.approx(1.0)
    full = fd.chord_length_histogram(np.ones((4, 5, 200), dtype=bool))
    assert full[3] > 0 and full[4] > 0 and full[-1] > 0  # 4, 5 and a run longer than CHORD_MAX in the last bin


def test_classifier_two_sample_test_is_at_chance_for_one_generator_and_certain_for_different_ones():
    rng = np.random.default_rng(0)

    def noise(n):  # independent voxels, 30 % active
        return [(rng.random((16, 16, 16)) < 0.3).astype(np.uint8) for _ in range(n)]

    def blobs(n):  # the same active fraction in smooth blobs
        out = []
        for _ in range(n):
            f = ndimage.gaussian_filter(rng.random((16, 16, 16)), 2.0, mode="wrap")
            out.append((f > np.quantile(f, 0.7)).astype(np.uint8))
        return out

    kw = dict(crop=16, crops_per_volume=64, epochs=8, seed=0)
    a, b = noise(3), blobs(3)
    same = fd.classifier_two_sample_accuracy(a, noise(3), **kw)
    different = fd.classifier_two_sample_accuracy(a, b, **kw)
    assert abs(same - 0.5) < 0.15
    assert different > 0.95
    assert fd.classifier_two_sample_accuracy(a, b, **kw) == different  # deterministic for a seed
    with pytest.raises(ValueError, match="more than n_test"):
        fd.classifier_two_sample_accuracy(noise(1), noise(3), **kw)
