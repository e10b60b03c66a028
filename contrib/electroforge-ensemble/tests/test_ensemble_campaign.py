"""The ensemble's uncertainty grows outside the training envelope and changes a campaign's choices.

Real gan-ensemble members, real trieste BO and the real Campaign loop; only the characterizer and
simulator are analytic stand-ins (electroforge_ensemble.demo) so the loop takes seconds.
"""
import numpy as np
import pytest
import torch

from electroforge_ensemble.demo import run_demo
from electroforge_ensemble.generator import EnsembleGenerator

torch.set_num_threads(1)
N_SOBOL = 6  # the demo's 5-point Sobol start, rounded up to whole batches of 2


def test_uncertainty_is_larger_outside_the_training_envelope():
    gen = EnsembleGenerator()
    seeds = range(4)

    def u(por):
        return float(np.mean([gen.uncertainty({"porosity": por}, seed=s) for s in seeds]))

    inside = u(0.40)
    assert u(0.15) > 1.5 * inside  # well below the envelope the members disagree much more
    assert u(0.20) > u(0.25) > inside  # and the spread rises as the design leaves the envelope
    assert u(0.60) > inside  # above it too (less steeply)


@pytest.fixture(scope="module")
def arms(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ens")
    return {noise: run_demo(noise, tmp / f"{noise}.nc", budget=10, seed=7) for noise in (False, True)}


def test_campaign_stores_the_uncertainty_and_it_is_larger_out_of_envelope(arms):
    gen = EnsembleGenerator()
    lo, hi = gen.training_envelope["porosity"]
    noisy, quiet = arms[True], arms[False]
    assert all(e.ok for e in noisy + quiet)
    assert all(e.uncertainty == 0.0 for e in quiet)
    assert all(e.uncertainty > 0.0 for e in noisy)
    inside = [e.uncertainty for e in noisy if lo <= e.params["porosity"] <= hi]
    outside = [e.uncertainty for e in noisy if not lo <= e.params["porosity"] <= hi]
    assert inside and outside
    assert np.mean(outside) > np.mean(inside)


def test_noise_changes_the_optimizers_choices(arms):
    noisy, quiet = arms[True], arms[False]
    # the control is fair: the same Sobol start gives the same microstructures and objectives
    for a, b in zip(noisy[:N_SOBOL], quiet[:N_SOBOL]):
        assert a.params == b.params and a.objective == b.objective
    # once BO models the data, the per-observation noise moves its proposals
    later = [(a.params, b.params) for a, b in zip(noisy[N_SOBOL:], quiet[N_SOBOL:])]
    assert later and any(max(abs(pa[k] - pb[k]) for k in pa) > 1e-3 for pa, pb in later)
