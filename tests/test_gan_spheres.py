"""The spheres design (plugins/gan/sphere_nets.py): an exact sphere render, the pruning exactness,
training that resumes exactly, and weights that load and generate in the plugin."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from electroforge.errors import InputFileError, ValidationError
from electroforge.plugins.gan import training
from electroforge.plugins.gan.generator import GanGenerator
from electroforge.plugins.gan.sphere_nets import SphereGenerator3D

from tests.test_gan_training import TINY, tiny_data  # noqa: F401  (the module-scoped fixture)

PHASES = ("pore", "active", "binder")
SPHERES = {**TINY, "output": "spheres", "channels": (8, 8), "sphere_cell": 8, "sphere_slots": 2,
           "binder_channels": (4, 4), "ema_decay": 0.9}


def _one_sphere(net: SphereGenerator3D, n: int, centre: tuple[float, float, float], radius: float):
    """Centres and radii of ``n``³ inner cells (plus margin) with a single sphere at ``centre``
    (voxels from the volume's origin) and every other slot empty (the lowest radius)."""
    m, q = n + 2, net.cell
    centres = torch.full((1, net.slots, 3, m, m, m), q / 2)
    radii = torch.full((1, net.slots, m, m, m), -net.feature_clip)
    cell = [int(x // q) + 1 for x in centre]
    centres[0, 0, :, cell[0], cell[1], cell[2]] = torch.tensor([x - (i - 1) * q for x, i in zip(centre, cell)])
    radii[0, 0, cell[0], cell[1], cell[2]] = radius
    return centres, radii


def test_sphere_render_is_the_signed_distance_to_a_sphere_and_its_volume():
    net = SphereGenerator3D(3, 4, (8,), PHASES, cell=16, slots=2)
    r, centre = 6.3, (15.2, 17.0, 9.6)  # a sphere across cell boundaries
    field = net.render(*_one_sphere(net, 2, centre, r))[0, 0]
    x = torch.stack(torch.meshgrid(*[torch.arange(32.0) + 0.5] * 3, indexing="ij"))
    exact = r - ((x - torch.tensor(centre).reshape(3, 1, 1, 1)) ** 2).sum(0).add(1e-2).sqrt()  # the render's smoothing
    assert torch.allclose(field, exact.clamp_min(-net.feature_clip), atol=2e-3)
    assert float((field > 0).sum()) == pytest.approx(4 / 3 * math.pi * r ** 3, rel=0.02)
    assert float(field.min()) == -net.feature_clip  # floored: pruned candidates cannot matter


def test_sphere_render_pruning_and_chunking_change_nothing():
    torch.manual_seed(0)
    net = SphereGenerator3D(3, 4, (8,), PHASES, cell=16, slots=3).eval()
    z, c = torch.randn(1, 4, 4, 4, 4), torch.rand(1, 3)
    centres, radii = net.particles(z, c)
    whole = net.render(centres, radii)
    assert torch.equal(whole, net.render(centres, radii, chunk=3))
    # brute force over all 27·slots candidates of every voxel
    q, n = net.cell, 2
    x = torch.stack(torch.meshgrid(*[torch.arange(n * q, dtype=torch.float32) + 0.5] * 3, indexing="ij"), -1)
    best = torch.full((n * q,) * 3, -1e9)
    second = best.clone()
    for s in range(net.slots):
        for i in range(n + 2):
            for j in range(n + 2):
                for k in range(n + 2):
                    o = torch.tensor([i - 1, j - 1, k - 1], dtype=torch.float32) * q
                    f = radii[0, s, i, j, k] - ((x - o - centres[0, s, :, i, j, k]) ** 2).sum(-1).add(1e-2).sqrt()
                    second = torch.maximum(second, torch.minimum(best, f))
                    best = torch.maximum(best, f)
    assert torch.allclose(whole[0, 0], best.clamp_min(-net.feature_clip), atol=1e-4)
    assert torch.allclose(whole[0, 1], second.clamp_min(-net.feature_clip), atol=1e-4)


def test_sphere_inference_path_equals_the_training_path():
    """Inference (no autograd) takes a running top-2 and closed-form relative logits; both must
    give what the differentiable path gives, in any phase order."""
    torch.manual_seed(3)
    for phases in (PHASES, ("binder", "pore", "active")):
        net = SphereGenerator3D(3, 4, (8,), phases, cell=8, slots=2).eval()
        z, c = torch.randn(1, 4, 4, 4, 4), torch.rand(1, 3)
        centres, radii = net.particles(z, c)
        with_grad = net.render(centres, radii)
        assert with_grad.requires_grad
        with torch.no_grad():
            assert torch.allclose(net.render(centres, radii, chunk=5), with_grad, atol=1e-6)
        torch.manual_seed(4)
        logits = net.logits(z, c).detach()
        torch.manual_seed(4)  # the same binder noise
        rel = net.relative_logits(z, c, chunk=5)
        assert torch.allclose(rel, logits[:, 1:] - logits[:, :1], atol=1e-4)


def test_sphere_logits_are_log_probabilities_in_the_images_phase_order():
    net = SphereGenerator3D(3, 4, (8,), ("binder", "pore", "active"), cell=8, slots=1)
    logits = net.logits(torch.randn(2, 4, 4, 4, 4), torch.rand(2, 3))
    assert logits.shape == (2, 3, 16, 16, 16)
    assert torch.allclose(logits.exp().sum(1), torch.ones(2, 16, 16, 16), atol=1e-5)
    with pytest.raises(ValueError, match="needs exactly the phases"):
        SphereGenerator3D(3, 4, (8,), ("pore", "solid"), cell=8)


def test_spheres_design_trains_resumes_exactly_and_generates(tiny_data, tmp_path):  # noqa: F811
    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    straight = training.train(data, tmp_path / "a.pt", training.TrainConfig(steps=4, **SPHERES), fp16=False)
    training.train(data, tmp_path / "b.pt", training.TrainConfig(steps=2, **SPHERES), fp16=False)
    resumed = training.train(data, tmp_path / "b.pt", training.TrainConfig(steps=4, **SPHERES), resume=True, fp16=False)
    assert [h["loss_g"] for h in resumed.history] == [h["loss_g"] for h in straight.history]
    for k, v in straight.G_ema.state_dict().items():
        assert torch.equal(resumed.G_ema.state_dict()[k], v), k
    gen = GanGenerator(weights=tmp_path / "a.pt", device="cpu")
    assert gen.tile == 8
    a = gen.generate({"porosity": 0.4}, (20, 16, 12), seed=3)
    assert a.labels.shape == (20, 16, 12)
    assert np.array_equal(a.labels, gen.generate({"porosity": 0.4}, (20, 16, 12), seed=3).labels)
    # fraction matching: the composition is the fraction model's, whatever the network draws
    target = gen.fraction_model and np.bincount(a.labels.ravel(), minlength=3) / a.labels.size
    assert target is not None and abs(target[0] - 0.4) < 0.02
    with pytest.raises(InputFileError, match="output='voxels', this run has 'spheres'"):
        st = torch.load(training.checkpoint_path_for(tmp_path / "b.pt"), weights_only=False)
        st["config"]["output"] = "voxels"
        torch.save(st, training.checkpoint_path_for(tmp_path / "b.pt"))
        training.train(data, tmp_path / "b.pt", training.TrainConfig(steps=5, **SPHERES), resume=True)


def test_spheres_design_options_are_validated():
    with pytest.raises(ValidationError, match="output='blobs'"):
        training.TrainConfig(output="blobs")
    with pytest.raises(ValidationError, match="tile=20 must be a multiple of 16"):
        training.TrainConfig(output="spheres", tile=20)
