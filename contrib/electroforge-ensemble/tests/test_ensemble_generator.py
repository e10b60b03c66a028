"""The gan-ensemble generator with its shipped members (real torch networks, no mocks)."""
import numpy as np
import pytest
import torch

from electroforge.errors import ValidationError
from electroforge.registry import get_registry
from electroforge_ensemble.generator import EnsembleGenerator, probe_metrics, relative_spread

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def gen():
    return EnsembleGenerator()


def test_probe_metrics_counts_faces_and_fractions():
    lab = np.ones((4, 4, 4), np.uint8)
    lab[:2] = 0  # a pore slab: one 4x4 interface plane normal to x
    por, act, faces = probe_metrics(lab)
    assert por == pytest.approx(0.5) and act == pytest.approx(0.5)
    assert faces == pytest.approx(16 / 64)


def test_relative_spread_is_zero_for_identical_members_and_scales():
    same = np.tile([[0.4, 0.5, 0.3]], (4, 1))
    assert relative_spread(same) == 0.0
    spread = same * np.array([[0.9], [1.0], [1.1], [1.0]])
    assert relative_spread(spread) == pytest.approx(np.std([0.9, 1.0, 1.1, 1.0], ddof=1), rel=1e-9)


def test_registered_through_the_entry_point_and_declares_a_wider_range(gen):
    reg = get_registry()
    assert "gan-ensemble" in reg.names("generator")
    assert gen.n_members >= 3
    for n, (lo, hi) in gen.training_envelope.items():
        wlo, whi = gen.parameters[n]
        assert wlo <= lo and whi >= hi
    assert gen.parameters["porosity"][1] > gen.training_envelope["porosity"][1]
    assert gen.parameters["porosity"][0] < gen.training_envelope["porosity"][0]


def test_generate_with_uncertainty_returns_a_member_microstructure(gen):
    ms, u = gen.generate_with_uncertainty({"porosity": 0.4}, (32, 32, 32), seed=5)
    assert ms.labels.shape == (32, 32, 32)
    assert ms.metadata["member"] == 5 % gen.n_members
    assert ms.metadata["uncertainty"] == u
    assert 0.0 < u < 0.5
    assert abs(float((ms.labels == 0).mean()) - 0.4) < 0.08  # the member follows the porosity asked for
    again, u2 = gen.generate_with_uncertainty({"porosity": 0.4}, (32, 32, 32), seed=5)
    assert np.array_equal(again.labels, ms.labels) and u2 == u  # deterministic for a seed


def test_report_uncertainty_false_gives_zero_spread():
    g = EnsembleGenerator(report_uncertainty=False)
    _, u = g.generate_with_uncertainty({"porosity": 0.4}, (16, 16, 16), seed=1)
    assert u == 0.0


def test_bad_input_gives_one_line_errors(gen):
    with pytest.raises(ValidationError, match="does not take parameter"):
        gen.generate({"porosty": 0.3}, (16, 16, 16), 0)
    with pytest.raises(ValidationError, match="porosity=0.9 is outside its range"):
        gen.generate({"porosity": 0.9}, (16, 16, 16), 0)
    with pytest.raises(ValidationError, match="at least 2 members"):
        EnsembleGenerator(members=[gen.paths[0]])
    with pytest.raises(Exception, match="not a folder"):
        EnsembleGenerator(members="/nonexistent/folder")


def test_envelope_distance(gen):
    assert gen.envelope_distance({"porosity": 0.4}) == 0.0
    assert gen.envelope_distance({"porosity": 0.6}) == pytest.approx(0.1 / 0.25)
    assert gen.envelope_distance({"porosity": 0.2}) == pytest.approx(0.05 / 0.25)
