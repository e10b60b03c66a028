"""Training the conditional generator on tiny data: end to end, save/load identical, resume identical."""
from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from electroforge.errors import InputFileError, ValidationError
from electroforge.imageio import write_microstructure
from electroforge.plugins.gan import losses, training
from electroforge.plugins.gan.generator import GanGenerator
from electroforge.plugins.procedural import ProceduralGenerator

TINY = dict(tile=16, batch=2, slices_per_axis=4, critic_iters=1, channels=(8, 8, 8, 8), critic_channels=(8, 8),
            nz=4, checkpoint_every=2, device="cpu", calibration_size=0)
POINTS = [(0.85, 0.30, 0.0), (0.97, 0.45, 1.0), (0.85, 0.45, 1.0), (0.97, 0.30, 0.0)]


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("images")
    gen = ProceduralGenerator()
    with (folder / "labels.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "am_mass_fraction", "porosity", "binder_adhesion"])
        for i, (am, por, adh) in enumerate(POINTS):
            name = f"img{i}.tif"
            p = {"am_mass_fraction": am, "porosity": por, "binder_adhesion": adh}
            write_microstructure(gen.generate(p, (24, 24, 24), seed=i), folder / name)
            w.writerow([name, am, por, adh])
    return folder


def test_gan_load_training_set_reads_labels_and_envelope(tiny_data):
    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    assert data.param_names == ("am_mass_fraction", "porosity", "binder_adhesion")
    assert data.bounds["porosity"] == (0.30, 0.45)
    assert data.voxel_size_m == pytest.approx(4e-7)
    assert np.allclose(data.fractions()[:, 0], [p[1] for p in POINTS], atol=0.01)
    assert data.scaled.min() == 0.0 and data.scaled.max() == 1.0


def test_gan_training_runs_end_to_end_and_weights_load_identically(tiny_data, tmp_path):
    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    out = tmp_path / "w.pt"
    trainer = training.train(data, out, training.TrainConfig(steps=3, **TINY), fp16=False)
    assert trainer.step_count == 3 and len(trainer.history) == 3
    assert all(np.isfinite([h["loss_d"], h["loss_g"]]).all() for h in trainer.history)
    assert training.checkpoint_path_for(out).is_file()
    gen = GanGenerator(weights=out, device="cpu")
    for k, v in trainer.G_export.state_dict().items():  # the weight average when ema_decay > 0
        assert torch.equal(gen.net.state_dict()[k], v), k
    assert gen.parameters["porosity"] == (0.30, 0.45)
    a = gen.generate({"porosity": 0.4}, (16, 32, 20), seed=1)
    b = GanGenerator(weights=out, device="cpu").generate({"porosity": 0.4}, (16, 32, 20), seed=1)
    assert a.shape == (16, 32, 20) and np.array_equal(a.labels, b.labels)
    # the particle radius measured from the training images travels with the weights
    assert gen.particle_radius_m == pytest.approx(training.estimate_particle_radius_m(data))
    assert 0.5e-6 < a.particle_radius_m < 10e-6
    # fp16 export: the same weights rounded to half precision, a small file
    half = tmp_path / "h.pt"
    training.export_weights(trainer, half, fp16=True)
    sd = torch.load(half, weights_only=True)["state_dict"]
    assert all(sd[k].dtype == torch.float16 for k, v in trainer.G_export.state_dict().items() if v.is_floating_point())


def test_gan_training_resume_continues_exactly(tiny_data, tmp_path):
    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    straight = training.train(data, tmp_path / "a.pt", training.TrainConfig(steps=4, **TINY), fp16=False)
    training.train(data, tmp_path / "b.pt", training.TrainConfig(steps=2, **TINY), fp16=False)
    resumed = training.train(data, tmp_path / "b.pt", training.TrainConfig(steps=4, **TINY), resume=True, fp16=False)
    assert resumed.step_count == 4 and len(resumed.history) == 4
    for k, v in straight.G.state_dict().items():
        assert torch.allclose(resumed.G.state_dict()[k].float(), v.float(), atol=1e-6), k
    with pytest.raises(InputFileError, match="no checkpoint"):
        training.train(data, tmp_path / "c.pt", training.TrainConfig(steps=1, **TINY), resume=True)


def test_gan_argmax_calibration_reproduces_training_fractions(tiny_data, tmp_path):
    """The fitted phase offsets make argmax labels hit each training image's fractions."""
    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    cfg = training.TrainConfig(steps=2, **{**TINY, "calibration_size": 32})
    training.train(data, tmp_path / "cal.pt", cfg)
    gen = GanGenerator(weights=tmp_path / "cal.pt", device="cpu", match_fractions=False)
    assert gen._offset_w is not None
    fractions = data.fractions()

    def mean_pore_error():
        errs = []
        for i, p in enumerate(data.params):
            vf = gen.generate(dict(zip(data.param_names, p)), (48, 48, 48), seed=10 + i).volume_fractions()
            errs.append(abs(vf["pore"] - fractions[i, 0]))
        return float(np.mean(errs))

    calibrated = mean_pore_error()
    gen._offset_w = None
    raw = mean_pore_error()
    assert calibrated < 0.1 and calibrated < raw / 3, (calibrated, raw)


def test_gan_training_bad_labels_give_one_line_errors(tiny_data, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("image,porosity\nimg0.tif,0.3\n")
    with pytest.raises(InputFileError, match="'file' column"):
        training.load_training_set(tiny_data, bad)
    bad.write_text("file,porosity\nimg0.tif,high\n")
    with pytest.raises(InputFileError, match="numbers"):
        training.load_training_set(tiny_data, bad)
    bad.write_text("file,porosity\nmissing.tif,0.3\n")
    with pytest.raises(InputFileError, match="missing.tif"):
        training.load_training_set(tiny_data, bad)


def test_cli_train_generator_writes_weights_and_checkpoint(tiny_data, tmp_path, cli):
    out = tmp_path / "cli.pt"
    r = cli("train-generator", "--images", str(tiny_data), "--labels", str(tiny_data / "labels.csv"), "-o", str(out),
            "--tile", "16", "--batch", "1", "--steps", "1")
    assert r.returncode == 0, r.stderr
    assert out.is_file() and (tmp_path / "cli.pt.ckpt").is_file()
    assert torch.load(out, weights_only=True)["steps"] == 1
    r = cli("train-generator", "--images", str(tmp_path / "nope"), "--labels", "x.csv", "-o", str(out))
    assert r.returncode == 2 and r.stderr.startswith("error:") and "nope" in r.stderr


# ---------------------------------------------------------------- input validation (one-line errors)
def _labels(folder, rows):
    path = folder / "labels.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "porosity"])
        w.writerows(rows)
    return path


def _image(folder, name, shape=(24, 24, 24), voxel_size_m=4e-7, seed=0):
    from electroforge.model import Microstructure

    lab = np.random.default_rng(seed).integers(0, 3, shape).astype(np.uint8)
    write_microstructure(Microstructure(labels=lab, voxel_size_m=voxel_size_m), folder / name)


def test_gan_training_set_rejects_mismatched_voxel_sizes_naming_the_file(tmp_path):
    _image(tmp_path, "a.tif")
    _image(tmp_path, "b.tif", voxel_size_m=5e-7)
    csv_path = _labels(tmp_path, [["a.tif", 0.3], ["b.tif", 0.4]])
    with pytest.raises(InputFileError) as err:
        training.load_training_set(tmp_path, csv_path)
    msg = str(err.value)
    assert "b.tif" in msg and "0.5 um" in msg and "0.4 um" in msg and "\n" not in msg
    # an explicit voxel size overrides every file's own, so the same images then load
    data = training.load_training_set(tmp_path, csv_path, voxel_size_m=4e-7)
    assert data.voxel_size_m == pytest.approx(4e-7) and data.files == ("a.tif", "b.tif")


def test_gan_training_set_rejects_a_single_image(tmp_path):
    _image(tmp_path, "only.tif")
    with pytest.raises(InputFileError, match=r"only one image \(only.tif\)") as err:
        training.load_training_set(tmp_path, _labels(tmp_path, [["only.tif", 0.3]]))
    assert "\n" not in str(err.value)


def test_gan_training_set_names_the_missing_file_and_its_row(tmp_path):
    _image(tmp_path, "a.tif")
    csv_path = _labels(tmp_path, [["a.tif", 0.3], ["gone.tif", 0.4]])
    with pytest.raises(InputFileError, match=r"labels.csv:3: names gone.tif, which is not in") as err:
        training.load_training_set(tmp_path, csv_path)
    assert "\n" not in str(err.value)


def test_gan_training_set_and_trainer_reject_images_smaller_than_the_tile(tmp_path):
    _image(tmp_path, "big.tif", shape=(32, 32, 32))
    _image(tmp_path, "flat.tif", shape=(32, 32, 12))
    csv_path = _labels(tmp_path, [["big.tif", 0.3], ["flat.tif", 0.4]])
    with pytest.raises(InputFileError, match=r"flat.tif: shape \(32, 32, 12\) has an edge shorter than the 16-voxel"):
        training.load_training_set(tmp_path, csv_path, tile=16)
    data = training.load_training_set(tmp_path, csv_path)  # no tile given: the trainer checks
    with pytest.raises(ValidationError, match=r"training image flat.tif: shape \(32, 32, 12\)"):
        training.Trainer(data, training.TrainConfig(**TINY))


# ---------------------------------------------------------------- EMA, schedule, resume, monitor
EMA = {**TINY, "ema_decay": 0.9, "lr_half_life_steps": 2}


def test_gan_ema_is_exported_and_differs_from_the_live_generator(tiny_data, tmp_path):
    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    trainer = training.train(data, tmp_path / "e.pt", training.TrainConfig(steps=3, **EMA), fp16=False)
    assert trainer.G_export is trainer.G_ema
    gen = GanGenerator(weights=tmp_path / "e.pt", device="cpu")
    live, avg = trainer.G.state_dict(), trainer.G_ema.state_dict()
    weights = [k for k, v in live.items() if v.is_floating_point() and "running" not in k and "weight" in k]
    assert any(not torch.equal(live[k], avg[k]) for k in weights)
    for k, v in avg.items():
        assert torch.equal(gen.net.state_dict()[k], v), k
    # the learning rate halves every lr_half_life_steps updates
    assert [h["lr"] for h in trainer.history] == pytest.approx([2e-4, 2e-4 * 0.5 ** 0.5, 1e-4])


def test_gan_resume_with_ema_continues_identically(tiny_data, tmp_path):
    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    straight = training.train(data, tmp_path / "a.pt", training.TrainConfig(steps=4, **EMA), fp16=False)
    training.train(data, tmp_path / "b.pt", training.TrainConfig(steps=2, **EMA), fp16=False)
    resumed = training.train(data, tmp_path / "b.pt", training.TrainConfig(steps=4, **EMA), resume=True, fp16=False)
    assert [h["loss_g"] for h in resumed.history] == [h["loss_g"] for h in straight.history]
    for k, v in straight.G_ema.state_dict().items():
        assert torch.equal(resumed.G_ema.state_dict()[k], v), k


def test_gan_resume_refuses_a_checkpoint_of_another_design(tiny_data, tmp_path):
    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    plain = {**TINY, "ema_decay": 0.0}
    training.train(data, tmp_path / "a.pt", training.TrainConfig(steps=1, **plain), fp16=False)
    wider = {**plain, "channels": (16, 8, 8, 8)}
    with pytest.raises(InputFileError, match=r"a.pt.ckpt: checkpoint was trained with channels=\(8, 8, 8, 8\), this run has \(16, 8, 8, 8\)"):
        training.train(data, tmp_path / "a.pt", training.TrainConfig(steps=2, **wider), resume=True)
    with pytest.raises(InputFileError, match="ema_decay"):
        training.train(data, tmp_path / "a.pt", training.TrainConfig(steps=2, **EMA), resume=True)


def test_gan_monitor_records_history_without_changing_training(tiny_data, tmp_path):
    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    calls = []

    def monitor(trainer):
        calls.append(trainer.step_count)
        torch.randn(1000)  # consuming random numbers here must not change the training run
        return {"score": float(trainer.step_count)}

    plain = training.train(data, tmp_path / "p.pt", training.TrainConfig(steps=4, **EMA), fp16=False)
    watched = training.train(data, tmp_path / "m.pt", training.TrainConfig(steps=4, **EMA), fp16=False,
                             monitor=monitor, monitor_every=2)
    assert calls == [2, 4]
    assert watched.fidelity == [{"step": 2.0, "score": 2.0}, {"step": 4.0, "score": 4.0}]
    for k, v in plain.G_ema.state_dict().items():
        assert torch.equal(watched.G_ema.state_dict()[k], v), k
    # the records travel with the checkpoint
    resumed = training.Trainer(data, training.TrainConfig(steps=4, **EMA))
    resumed.load_checkpoint(training.checkpoint_path_for(tmp_path / "m.pt"))
    assert resumed.fidelity == watched.fidelity


def test_gan_best_weights_are_those_of_the_lowest_monitor_score(tiny_data, tmp_path):
    """``best_out`` keeps the export of the best-scoring step (here step 2 of 4: the score rises
    after it, as when a run drifts), and exporting it does not change the training run."""
    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    scores = {2: 1.0, 4: 3.0}
    seen = {}

    def monitor(trainer):
        seen[trainer.step_count] = {k: v.clone() for k, v in trainer.G_export.state_dict().items()}
        return {"score": scores[trainer.step_count]}

    cfg = training.TrainConfig(**{**EMA, "steps": 4, "calibration_size": 16})
    plain = training.train(data, tmp_path / "p.pt", cfg, fp16=False)
    best = tmp_path / "best.pt"
    watched = training.train(data, tmp_path / "m.pt", cfg, fp16=False, monitor=monitor, monitor_every=2, best_out=best)
    assert training.best_fidelity_score(watched) == 1.0
    payload = torch.load(best, weights_only=False)
    assert payload["steps"] == 2 and payload["phase_offsets"] is not None
    for k, v in seen[2].items():
        assert torch.equal(payload["state_dict"][k], v), k
    for k, v in plain.G_ema.state_dict().items():
        assert torch.equal(watched.G_ema.state_dict()[k], v), k


def test_gan_fidelity_monitor_scores_a_trainer_against_a_reference(tiny_data):
    from electroforge.plugins.gan.fidelity import REPORTED, TARGETS, FidelityMonitor

    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    trainer = training.Trainer(data, training.TrainConfig(**EMA))
    trainer.step()
    points = [{"am_mass_fraction": 0.9, "porosity": 0.4, "binder_adhesion": 0.5}]
    mon = FidelityMonitor(ProceduralGenerator(), points, size=16, seeds=1, ref_seeds=1, calibration_size=16, r_max=6)
    rec = mon(trainer)
    assert {"score", "raw_score", "vf_abs", "s2_abs", "chord_active_rel"} <= set(rec)
    assert all(k in TARGETS or k in REPORTED or k.endswith("score") for k in (k.removeprefix("raw_") for k in rec))
    assert rec["score"] > 0 and mon.noise_floor["score"] >= 0
    # a generator that returns the reference's own volumes scores 0
    proc = ProceduralGenerator()

    class Copy:
        def generate(self, params, shape, seed):
            return proc.generate(params, shape, seed=10_000 + seed)

    assert mon.evaluate(Copy())["score"] == 0.0


def test_gan_particle_radius_is_given_or_measured_from_the_images(tiny_data):
    """Given: used as is; not given: the distance-transform estimate, which is exact for a ball."""
    given = training.load_training_set(tiny_data, tiny_data / "labels.csv", particle_radius_m=2.5e-6)
    assert given.particle_radius_or_estimate_m() == 2.5e-6
    with pytest.raises(InputFileError, match="particle radius"):
        training.load_training_set(tiny_data, tiny_data / "labels.csv", particle_radius_m=-1.0)
    g = np.arange(48) - 23.5
    ball = ((g[:, None, None] ** 2 + g[None, :, None] ** 2 + g[None, None, :] ** 2) <= 20.0 ** 2).astype(np.uint8)
    data = training.TrainingSet([ball, ball], np.array([[0.0], [1.0]]), ("x",), {"x": (0.0, 1.0)}, 1e-6,
                                phases=("pore", "active"))
    assert training.estimate_particle_radius_m(data) == pytest.approx(20e-6, rel=0.07)


def test_gan_s2_term_matches_the_fidelity_estimator_and_is_differentiable():
    from electroforge.plugins.gan.fidelity import two_point_correlation

    labels = ProceduralGenerator().generate({"porosity": 0.35}, (20, 22, 24), seed=3).labels
    onehot = torch.nn.functional.one_hot(torch.from_numpy(labels.astype(np.int64)), 3).permute(3, 0, 1, 2)[None]
    s2 = training.two_point_correlation_torch(onehot.double(), 8)[0]  # (axes, phases, r)
    for ax in range(3):
        for ph in range(3):
            assert np.allclose(s2[ax, ph].numpy(), two_point_correlation(labels, ph, ax, 8)), (ax, ph)
    p = torch.rand(1, 3, 6, 6, 6, requires_grad=True)
    training.two_point_correlation_torch(p, 3).sum().backward()
    assert p.grad is not None and torch.isfinite(p.grad).all()


def _probabilities_after_training(data, cfg: dict, steps: int = 40):
    """Train ``steps`` updates with ``cfg``; the generator's phase probabilities at every training
    condition (fixed latent seed), and the trainer."""
    trainer = training.Trainer(data, training.TrainConfig(steps=steps, **cfg))
    for _ in range(steps):
        trainer.step()
    torch.manual_seed(0)
    with torch.no_grad():
        fake = torch.softmax(trainer.G.logits(trainer._latent(len(POINTS)), trainer.cond), dim=1)
    return fake, trainer


def test_gan_s2_term_is_off_by_default_and_pulls_s2_towards_the_images(tiny_data):
    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    cfg = dict(TINY, vf_weight=0.0, lr=2e-3, critic_iters=1, ema_decay=0.0)
    assert training.Trainer(data, training.TrainConfig(steps=1, **cfg)).s2_targets is None
    with pytest.raises(ValidationError, match="s2_weight"):
        training.TrainConfig(s2_weight=-1.0)
    targets = losses.image_s2(data.volumes, 3, TINY["tile"] // 2)

    def s2_rmse_after(s2_weight: float) -> float:
        fake, trainer = _probabilities_after_training(data, dict(cfg, s2_weight=s2_weight))
        err = training.two_point_correlation_torch(fake, trainer.s2_r_max) - targets
        return float(err.pow(2).mean().sqrt())

    # the same seed and updates, with and without the term (and no volume-fraction term)
    without, with_s2 = s2_rmse_after(0.0), s2_rmse_after(1e3)
    assert with_s2 < 0.7 * without, (with_s2, without)


def test_gan_soft_coverage_is_the_characterizers_on_labels_and_differentiable():
    from electroforge.plugins.taufactor import geometry

    labels = ProceduralGenerator().generate({"binder_adhesion": 0.8}, (20, 22, 24), seed=5).labels
    faces = geometry.face_counts(labels, 1, 3)  # faces of the active phase with each label
    onehot = torch.nn.functional.one_hot(torch.from_numpy(labels.astype(np.int64)), 3).permute(3, 0, 1, 2)[None]
    cov = training.soft_binder_coverage(onehot.double(), active=1, binder=2)
    assert float(cov[0]) == pytest.approx(faces[2] / faces.sum(), rel=1e-12)
    p = torch.softmax(torch.randn(2, 3, 6, 6, 6), dim=1).requires_grad_(True)
    c = training.soft_binder_coverage(p, 1, 2)
    assert c.shape == (2,) and bool(((c >= 0) & (c <= 1)).all())
    c.sum().backward()
    assert p.grad is not None and torch.isfinite(p.grad).all()


def test_gan_coverage_term_is_off_by_default_and_pulls_coverage_towards_the_images(tiny_data):
    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    cfg = dict(TINY, vf_weight=0.0, lr=2e-3, critic_iters=1, ema_decay=0.0)
    assert training.Trainer(data, training.TrainConfig(steps=1, **cfg)).coverage_targets is None
    with pytest.raises(ValidationError, match="coverage_weight"):
        training.TrainConfig(coverage_weight=float("nan"))
    two_phase = training.TrainingSet([v.clip(0, 1) for v in data.volumes], data.params, data.param_names,
                                     data.bounds, data.voxel_size_m, ("pore", "solid"))
    with pytest.raises(ValidationError, match="no phase named 'active' or 'binder'"):
        training.Trainer(two_phase, training.TrainConfig(steps=1, coverage_weight=1.0, **cfg))
    targets = losses.image_coverage(data.volumes, 3, 1, 2)
    assert float(targets.max() - targets.min()) > 0.1  # adhesion 0 vs 1: the term has something to learn

    def coverage_rmse_after(weight: float) -> float:
        fake, _ = _probabilities_after_training(data, dict(cfg, coverage_weight=weight))
        return float((training.soft_binder_coverage(fake, 1, 2) - targets).pow(2).mean().sqrt())

    without, with_term = coverage_rmse_after(0.0), coverage_rmse_after(100.0)
    assert with_term < 0.7 * without, (with_term, without)


def test_gan_erosion_curve_is_a_binary_erosion_on_labels_and_differentiable():
    """On labels, entry r is the fraction of the phase at least r voxels deep: scipy's binary
    erosion by the same alternating 26-/6-neighbourhoods, on the interior where it is defined."""
    from scipy import ndimage as ndi

    labels = ProceduralGenerator().generate({"porosity": 0.35}, (30, 32, 34), seed=3).labels
    onehot = torch.nn.functional.one_hot(torch.from_numpy(labels.astype(np.int64)), 3).permute(3, 0, 1, 2)[None]
    curve = training.erosion_curve_torch(onehot.double(), 4)[0]
    cube, cross = ndi.generate_binary_structure(3, 3), ndi.generate_binary_structure(3, 1)
    for ph in range(3):
        eroded = labels == ph
        for r in range(1, 5):
            eroded = ndi.binary_erosion(eroded, cube if r % 2 else cross, border_value=1)
            assert float(curve[ph, r - 1]) == pytest.approx(eroded[r:-r, r:-r, r:-r].mean(), abs=1e-12), (ph, r)
    assert bool((curve[:, 1:] <= curve[:, :-1]).all())  # deeper is rarer
    # a ball of radius 6: its interior survives 4 erosions, a thin slab does not survive 2
    g = np.arange(24) - 11.5
    ball = torch.tensor((g[:, None, None] ** 2 + g[None, :, None] ** 2 + g[None, None, :] ** 2) <= 36.0)
    slab = torch.zeros(24, 24, 24)
    slab[10:12] = 1
    assert float(training.erosion_curve_torch(ball[None, None].double(), 4)[0, 0, 3]) > 0
    assert float(training.erosion_curve_torch(slab[None, None], 2)[0, 0, 1]) == 0
    p = torch.softmax(torch.randn(2, 3, 12, 12, 12), dim=1).requires_grad_(True)
    training.erosion_curve_torch(p, 3).sum().backward()
    assert p.grad is not None and torch.isfinite(p.grad).all() and bool((p.grad != 0).any())
    with pytest.raises(ValueError, match="erosion depth 6"):
        training.erosion_curve_torch(p, 6)


def test_gan_erosion_term_is_off_by_default_and_pulls_the_curves_towards_the_images(tiny_data):
    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    cfg = dict(TINY, vf_weight=0.0, lr=2e-3, critic_iters=1, ema_decay=0.0, erosion_radius=3)
    assert training.Trainer(data, training.TrainConfig(steps=1, **cfg)).erosion_targets is None
    with pytest.raises(ValidationError, match="erosion_weight"):
        training.TrainConfig(erosion_weight=-2.0)
    with pytest.raises(ValidationError, match="erosion_radius=8 must lie in"):
        training.TrainConfig(**dict(cfg, erosion_radius=8))
    solid = training.TrainingSet([v.clip(1, 2) - 1 for v in data.volumes], data.params, data.param_names,
                                 data.bounds, data.voxel_size_m, ("solid", "binder"))
    with pytest.raises(ValidationError, match="no phase named 'pore' or 'active'"):
        training.Trainer(solid, training.TrainConfig(steps=1, erosion_weight=1.0, **cfg))
    trainer = training.Trainer(data, training.TrainConfig(steps=1, erosion_weight=1.0, **cfg))
    targets = trainer.erosion_targets
    assert targets.shape == (len(POINTS), 2, 3) and float(targets[:, :, 0].min()) > 0

    def erosion_rmse_after(weight: float) -> float:
        fake, _ = _probabilities_after_training(data, dict(cfg, erosion_weight=weight))
        return float((training.erosion_curve_torch(fake[:, [0, 1]], 3) - targets).pow(2).mean().sqrt())

    without, with_term = erosion_rmse_after(0.0), erosion_rmse_after(1e3)
    assert with_term < 0.7 * without, (with_term, without)


def test_gan_euler_characteristic_is_skimages_and_its_density_is_unbiased():
    """The dual-complex count equals scikit-image's 6-connected Euler number; the density estimator
    gives a Bernoulli(p) voxel field's exact expectation p - 3p^2 + 3p^4 - p^8 per voxel."""
    from skimage.measure import euler_number

    labels = ProceduralGenerator().generate({"porosity": 0.35}, (20, 22, 24), seed=3).labels
    onehot = torch.nn.functional.one_hot(torch.from_numpy(labels.astype(np.int64)), 3).permute(3, 0, 1, 2)[None]
    chi = training.euler_characteristic_torch(onehot.double())[0]
    assert [int(c) for c in chi] == [euler_number(labels == ph, connectivity=1) for ph in range(3)]
    ball = torch.zeros(1, 1, 16, 16, 16)
    ball[0, 0, 4:12, 4:12, 4:12] = 1
    assert float(training.euler_characteristic_torch(ball)[0, 0]) == 1.0  # one component, no loop
    ring = ball.clone()
    ring[0, 0, 6:10, 6:10, :] = 0  # a square tube through the block: one tunnel
    assert float(training.euler_characteristic_torch(ring)[0, 0]) == 0.0
    g = torch.Generator().manual_seed(1)
    for p in (0.3, 0.6):
        field = (torch.rand(1, 1, 48, 48, 48, generator=g) < p).double()
        expected = 1000 * (p - 3 * p**2 + 3 * p**4 - p**8)
        assert float(training.euler_density_torch(field)[0, 0]) == pytest.approx(expected, abs=8.0), p


def test_gan_euler_straight_through_gradient_is_the_change_a_flip_makes():
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(1, 2, 7, 7, 7, generator=g, requires_grad=True)
    labels = training.straight_through_labels(logits, torch.softmax(logits, 1))
    hard = labels.detach()
    assert torch.allclose(hard, hard.round(), atol=1e-6) and torch.allclose(hard.sum(1), torch.ones(1), atol=1e-6)
    hard = hard.round()
    chi = training.euler_characteristic_torch(labels)
    (grad,) = torch.autograd.grad(chi[0, 1], labels)
    for x, y, z in [(0, 0, 0), (3, 3, 3), (2, 5, 1), (6, 1, 4)]:
        on, off = hard.clone(), hard.clone()
        on[0, 1, x, y, z], off[0, 1, x, y, z] = 1, 0
        change = training.euler_characteristic_torch(on)[0, 1] - training.euler_characteristic_torch(off)[0, 1]
        assert float(grad[0, 1, x, y, z]) == pytest.approx(float(change), abs=1e-4), (x, y, z)


def test_gan_euler_straight_through_descent_reaches_a_topology_target_in_both_directions():
    """Gradient descent on free logits through the straight-through labels moves the Euler
    characteristic of pore and active to a target 2 per 1,000 voxels above or below the start
    (more separate pieces or more loops) while the volume fractions stay put."""
    labels = ProceduralGenerator().generate({"porosity": 0.35}, (24, 24, 24), seed=3).labels
    onehot = torch.nn.functional.one_hot(torch.from_numpy(labels.astype(np.int64)), 3).permute(3, 0, 1, 2)[None].float()
    g = torch.Generator().manual_seed(0)
    for direction in (+1.0, -1.0):
        logits = (4 * onehot + 0.5 * torch.randn(onehot.shape, generator=g)).requires_grad_(True)
        start = training.euler_density_torch(training.straight_through_labels(logits, logits)[:, :2]).detach()[0]
        target = start + 2.0 * direction
        opt = torch.optim.Adam([logits], lr=0.05)
        for _ in range(60):
            opt.zero_grad()
            lab = training.straight_through_labels(logits, torch.softmax(logits / 0.25, dim=1))
            chi = training.euler_density_torch(lab[:, :2])[0]
            ((chi - target) ** 2).mean().backward()
            opt.step()
        assert float((chi.detach() - target).abs().max()) < 0.3, (direction, chi, target)
        assert float((lab.detach().mean(dim=(2, 3, 4)) - onehot.mean(dim=(2, 3, 4))).abs().max()) < 0.02


def test_gan_euler_term_is_off_by_default_validated_and_recorded(tiny_data):
    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    cfg = dict(TINY, critic_iters=1, ema_decay=0.0)
    assert training.Trainer(data, training.TrainConfig(steps=1, **cfg)).euler_targets is None
    with pytest.raises(ValidationError, match="euler_weight"):
        training.TrainConfig(euler_weight=-1.0)
    solid = training.TrainingSet([v.clip(1, 2) - 1 for v in data.volumes], data.params, data.param_names,
                                 data.bounds, data.voxel_size_m, ("solid", "binder"))
    with pytest.raises(ValidationError, match="no phase named 'pore' or 'active'"):
        training.Trainer(solid, training.TrainConfig(steps=1, euler_weight=1.0, **cfg))
    trainer = training.Trainer(data, training.TrainConfig(steps=1, euler_weight=1.0, **cfg))
    assert trainer.euler_targets.shape == (len(POINTS), 2)
    assert float(trainer.euler_targets[:, 0].max()) < 0  # the pore networks have loops
    without = training.Trainer(data, training.TrainConfig(steps=1, **cfg))
    rec = trainer.step()
    without.step()
    assert rec["euler_rmse"] > 0
    changed = [not torch.equal(p, q) for p, q in zip(trainer.G.parameters(), without.G.parameters())]
    assert any(changed)  # the same seed and data: only the term differs


def test_gan_euler_term_on_a_larger_volume_is_validated_and_drawn_at_that_size(tiny_data, monkeypatch):
    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    cfg = dict(TINY, critic_iters=1, ema_decay=0.0, euler_weight=1.0)
    with pytest.raises(ValidationError, match="euler_tile"):
        training.TrainConfig(euler_tile=TINY["tile"] // 2, **{k: v for k, v in cfg.items()})
    with pytest.raises(ValidationError, match="euler_tile"):
        training.TrainConfig(euler_tile=TINY["tile"] + 1, **cfg)
    big = 2 * TINY["tile"]
    trainer = training.Trainer(data, training.TrainConfig(steps=1, euler_tile=big, **cfg))
    seen = []
    real = training.euler_density_torch
    monkeypatch.setattr(losses, "euler_density_torch", lambda p: seen.append(p.shape) or real(p))
    rec = trainer.step()
    assert seen == [(1, 2, big, big, big)]  # one extra volume of the requested edge, pore and active
    assert rec["euler_rmse"] > 0


def test_gan_argmax_offsets_converge_from_far_off_fractions():
    """Logits spread over a few units and raw fractions 0.1 off the target (as a half-trained
    generator gives): the offsets bring the argmax fractions to the target."""
    g = torch.Generator().manual_seed(0)
    logits = 4.0 * torch.randn(3, 60_000, generator=g) + torch.tensor([[2.0], [0.0], [-1.5]])
    target = torch.tensor([0.50, 0.347, 0.153])
    raw = torch.bincount(logits.argmax(0), minlength=3) / logits.shape[1]
    assert float((raw - target).abs().max()) > 0.05
    b = training.argmax_offsets(logits, target)
    got = torch.bincount((logits + b[:, None]).argmax(0), minlength=3) / logits.shape[1]
    assert float((got - target).abs().max()) < 0.003, got


def test_gan_recalibration_replaces_only_the_offsets(tiny_data, tmp_path):
    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    cfg = training.TrainConfig(steps=2, **{**TINY, "calibration_size": 0})
    training.train(data, tmp_path / "raw.pt", cfg)
    out = training.recalibrate_weights(tmp_path / "raw.pt", data, tmp_path / "cal.pt", size=32, seeds=2)
    raw, cal = torch.load(tmp_path / "raw.pt", weights_only=True), torch.load(out, weights_only=True)
    assert raw["phase_offsets"] is None and cal["phase_offsets"]["features"] == "quadratic"
    assert all(torch.equal(raw["state_dict"][k], cal["state_dict"][k]) for k in raw["state_dict"])
    assert cal["fraction_model"]["features"] == "linear"  # 4 images: too few for the 10 quadratic terms
    gen = GanGenerator(weights=out, device="cpu", match_fractions=False)
    errs = [abs(gen.generate(dict(zip(data.param_names, p)), (48, 48, 48), seed=i).volume_fractions()["pore"]
                - data.fractions()[i, 0]) for i, p in enumerate(data.params)]
    assert float(np.mean(errs)) < 0.1


def test_gan_3d_critic_is_off_by_default_and_its_real_tiles_are_image_crops(tiny_data):
    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    plain = training.Trainer(data, training.TrainConfig(steps=1, **TINY))
    assert plain.D3 is None and "wasserstein3d" not in plain.step()
    with pytest.raises(ValidationError, match="critic3d_weight"):
        training.TrainConfig(critic3d_weight=-1.0, **TINY)
    trainer = training.Trainer(data, training.TrainConfig(steps=1, critic3d_weight=1.0, **TINY))
    t = TINY["tile"]
    real = trainer._real_tiles([0, 2])
    assert real.shape == (2, len(data.phases), t, t, t)
    assert torch.equal(real.sum(dim=1), torch.ones(2, t, t, t))
    labels = real[1].argmax(dim=0).numpy()
    vol = np.asarray(data.volumes[2])
    assert any(np.array_equal(vol[i:i + t, j:j + t, k:k + t], labels)
               for i in range(vol.shape[0] - t + 1) for j in range(vol.shape[1] - t + 1) for k in range(vol.shape[2] - t + 1))
    rec = trainer.step()
    assert np.isfinite(rec["wasserstein3d"])


def test_gan_3d_critic_resumes_exactly_and_starts_fresh_on_a_checkpoint_without_one(tiny_data, tmp_path):
    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    cfg = {**TINY, "critic3d_weight": 1.0}
    straight = training.train(data, tmp_path / "a.pt", training.TrainConfig(steps=4, **cfg), fp16=False)
    training.train(data, tmp_path / "b.pt", training.TrainConfig(steps=2, **cfg), fp16=False)
    resumed = training.train(data, tmp_path / "b.pt", training.TrainConfig(steps=4, **cfg), resume=True, fp16=False)
    assert [h["wasserstein3d"] for h in resumed.history] == [h["wasserstein3d"] for h in straight.history]
    for k, v in straight.D3.state_dict().items():
        assert torch.equal(resumed.D3.state_dict()[k], v), k
    # a checkpoint trained without the 3D critic: resumed with one, the generator continues and the critic is new
    training.train(data, tmp_path / "c.pt", training.TrainConfig(steps=2, **TINY), fp16=False)
    added = training.train(data, tmp_path / "c.pt", training.TrainConfig(steps=3, **cfg), resume=True, fp16=False)
    assert added.step_count == 3 and "wasserstein3d" not in added.history[1] and "wasserstein3d" in added.history[2]


# ---------------------------------------------------------------- the particle design (issue 28)
PARTICLE = {**TINY, "channels": (8, 8, 8, 8), "noise_stages": 2, "ema_decay": 0.9, "critic3d_weight": 1.0,
            "critic3d_channels": (4, 8), "critic3d_pool": 2, "subpixel": True}


def test_gan_subpixel_stages_are_the_plain_stages_in_values_gradients_and_noise_draws():
    from electroforge.plugins.gan.nets import CondGenerator3D

    torch.manual_seed(0)
    net = CondGenerator3D(3, 4, (8, 6, 4), 3, noise_stages=2)
    with torch.no_grad():
        for st in net.stages:
            st.norm.weight.uniform_(0.5, 1.5)
            st.norm.bias.uniform_(-0.5, 0.5)
    z, c = torch.randn(2, 4, 3, 2, 4), torch.rand(2, 3)
    out = {}
    for sub in (False, True):
        net.subpixel = sub
        net.zero_grad()
        torch.manual_seed(1)
        y = net.logits(z, c)
        after = torch.rand(1)
        (y * torch.linspace(-1, 1, y.numel()).reshape(y.shape)).sum().backward()
        out[sub] = (y.detach(), [p.grad.clone() for p in net.parameters()], after)
    assert torch.allclose(out[True][0], out[False][0], atol=1e-5)
    for a, b in zip(out[True][1], out[False][1]):
        assert torch.allclose(a, b, atol=1e-4 * float(b.abs().max()) + 1e-7)
    assert out[True][2] == out[False][2]  # the same random draws


def test_gan_pooled_3d_critic_judges_the_coarse_volume_and_is_validated():
    from electroforge.plugins.gan.nets import CondCritic3D

    torch.manual_seed(0)
    d = CondCritic3D(3, 3, tile=16, channels=(4, 8), pool=2)
    x, c = torch.softmax(torch.randn(2, 3, 16, 16, 16), 1), torch.rand(2, 3)
    # a volume whose 2x2x2 blocks hold the same phase fractions looks the same to it
    blocks = torch.nn.functional.avg_pool3d(x, 2)
    same = torch.nn.functional.interpolate(blocks, scale_factor=2, mode="nearest")
    assert torch.allclose(d(x, c), d(same, c), atol=1e-6)
    assert not torch.allclose(d(x, c), d(x.flip(2), c), atol=1e-6)
    with pytest.raises(ValidationError, match="critic3d_pool"):
        training.TrainConfig(**{**PARTICLE, "critic3d_pool": 3})


def test_gan_particle_design_resumes_exactly(tiny_data, tmp_path):
    """The issue-28 design (sub-pixel training, pooled 3D critic with its own channels, EMA):
    two steps, checkpoint, two more equal four straight steps, all networks included."""
    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    straight = training.train(data, tmp_path / "a.pt", training.TrainConfig(steps=4, **PARTICLE), fp16=False)
    training.train(data, tmp_path / "b.pt", training.TrainConfig(steps=2, **PARTICLE), fp16=False)
    resumed = training.train(data, tmp_path / "b.pt", training.TrainConfig(steps=4, **PARTICLE), resume=True, fp16=False)
    assert [h["loss_g"] for h in resumed.history] == [h["loss_g"] for h in straight.history]
    assert [h["wasserstein3d"] for h in resumed.history] == [h["wasserstein3d"] for h in straight.history]
    for a, b in ((resumed.G_ema, straight.G_ema), (resumed.D3, straight.D3), (resumed.Ds, straight.Ds)):
        for k, v in b.state_dict().items():
            assert torch.equal(a.state_dict()[k], v), k
    gen = GanGenerator(weights=tmp_path / "a.pt", device="cpu")  # its weights load in the plugin
    assert gen.tile == 16 and gen.generate({}, (20, 16, 24), seed=0).labels.shape == (20, 16, 24)
    with pytest.raises(InputFileError, match="critic3d_pool=2, this run has 1"):
        training.train(data, tmp_path / "b.pt", training.TrainConfig(steps=5, **{**PARTICLE, "critic3d_pool": 1}),
                       resume=True)


def test_gan_checkpoint_older_than_the_particle_options_still_resumes(tiny_data, tmp_path):
    """A checkpoint written before critic3d_channels / critic3d_pool / subpixel existed (the
    committed ones) was trained at their defaults and resumes with them."""
    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    cfg = {**TINY, "critic3d_weight": 1.0}
    training.train(data, tmp_path / "a.pt", training.TrainConfig(steps=2, **cfg), fp16=False)
    ckpt = training.checkpoint_path_for(tmp_path / "a.pt")
    st = torch.load(ckpt, weights_only=False)
    for k in ("critic3d_channels", "critic3d_pool", "subpixel"):
        del st["config"][k]
    torch.save(st, ckpt)
    resumed = training.train(data, tmp_path / "a.pt", training.TrainConfig(steps=3, **cfg), resume=True, fp16=False)
    assert resumed.step_count == 3 and "wasserstein3d" in resumed.history[2]


def test_gan_training_checkpoints_on_wall_time_as_well_as_on_steps(tiny_data, tmp_path):
    """With checkpoint_minutes the loop saves once that much time has passed since the last save,
    between the step-count checkpoints (here 0 minutes: after every update)."""
    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    cfg = training.TrainConfig(steps=3, **{**TINY, "checkpoint_every": 100})
    for name, minutes, expected in (("t.pt", 0.0, [1, 2]), ("u.pt", None, [])):
        ckpt = training.checkpoint_path_for(tmp_path / name)
        saved_steps = []

        def watch(rec, ckpt=ckpt, saved_steps=saved_steps):  # called after each update, before its save
            if ckpt.is_file():
                saved_steps.append(torch.load(ckpt, weights_only=False)["step"])

        training.train(data, tmp_path / name, cfg, callback=watch, fp16=False, checkpoint_minutes=minutes)
        # 0 minutes: saved after every update; none: only at the step count (100) and at the end
        assert saved_steps == expected, name


def test_gan_fraction_model_is_exact_for_a_quadratic_composition(tiny_data):
    """The response surface recovers fractions that are a quadratic of the condition, and falls
    back to linear with fewer images than quadratic terms."""
    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    assert training.fraction_model(data)["features"] == "linear"
    rng = np.random.default_rng(0)
    scaled = rng.random((12, 3))

    def composition(c):
        pore = 0.25 + 0.25 * c[1]
        active = (1 - pore) * (0.8 + 0.1 * c[0])
        return np.array([pore, active, 1 - pore - active])

    class Fake:
        def __init__(self):
            self.scaled = scaled

        def fractions(self):
            return np.stack([composition(c) for c in scaled])

    model = training.fraction_model(Fake())
    assert model["features"] == "quadratic"
    c = torch.tensor([0.3, 0.7, 0.5], dtype=torch.float64)
    np.testing.assert_allclose(training.predict_fractions(model, c).numpy(), composition(c.numpy()), atol=1e-9)


@pytest.mark.parametrize("target", [(0.3, 0.6, 0.1), (0.5, 0.0, 0.5), (0.05, 0.9, 0.05)])
def test_gan_match_fractions_gives_the_target_composition(target):
    """Offsets from match_fractions make argmax labels of correlated logits hit the target."""
    torch.manual_seed(0)
    field = torch.nn.functional.avg_pool3d(torch.randn(1, 2, 70, 70, 70), 7, 1)[0]  # spatially correlated
    rel = field.reshape(2, -1) + torch.tensor([[0.5], [-0.3]])
    b = training.match_fractions(rel, torch.tensor(target))
    labels = torch.cat([torch.zeros(1, rel.shape[1]), rel + b[1:, None]], 0).argmax(0)
    got = torch.bincount(labels, minlength=3).double() / labels.numel()
    assert b[0] == 0
    np.testing.assert_allclose(got.numpy(), target, atol=3e-3)


def test_gan_generator_matches_the_composition_of_the_parameters(tiny_data, tmp_path):
    """With the fraction model the weights carry, labels at any condition have the predicted
    fractions (the untrained network's own are far off); match_fractions=False gives them back."""
    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    training.train(data, tmp_path / "g.pt", training.TrainConfig(steps=1, **TINY))
    assert torch.load(tmp_path / "g.pt", weights_only=True)["fraction_model"] is not None
    matched = GanGenerator(weights=tmp_path / "g.pt", device="cpu")
    raw = GanGenerator(weights=tmp_path / "g.pt", device="cpu", match_fractions=False)
    p = {"am_mass_fraction": 0.9, "porosity": 0.4, "binder_adhesion": 0.3}
    c = torch.tensor([(0.9 - 0.85) / 0.12, (0.4 - 0.30) / 0.15, 0.3])
    want = training.predict_fractions(matched.fraction_model, c).numpy()
    vf = matched.generate(p, (40, 40, 40), seed=1).volume_fractions()
    np.testing.assert_allclose([vf[k] for k in ("pore", "active", "binder")], want, atol=0.01)
    vf_raw = raw.generate(p, (40, 40, 40), seed=1).volume_fractions()
    assert max(abs(vf_raw[k] - w) for k, w in zip(("pore", "active", "binder"), want)) > 0.02


def test_gan_recalibrate_script_adds_the_fraction_model_and_refuses_another_envelope(tiny_data, tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "recalibrate_gan.py"
    spec = importlib.util.spec_from_file_location("recalibrate_gan", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    data = training.load_training_set(tiny_data, tiny_data / "labels.csv")
    training.train(data, tmp_path / "g.pt", training.TrainConfig(steps=1, **TINY))
    old = torch.load(tmp_path / "g.pt", weights_only=True)
    del old["fraction_model"]  # as written before 0.3
    torch.save(old, tmp_path / "old.pt")
    assert module.main([str(tmp_path / "old.pt"), "--out", str(tmp_path / "new.pt"), "--data", str(tiny_data),
                        "--fractions-only"]) == 0
    new = torch.load(tmp_path / "new.pt", weights_only=True)
    assert new["fraction_model"] == training.fraction_model(data)
    assert all(torch.equal(old["state_dict"][k], new["state_dict"][k]) for k in old["state_dict"])
    old["bounds"] = {**old["bounds"], "porosity": [0.2, 0.6]}
    torch.save(old, tmp_path / "other.pt")
    assert module.main([str(tmp_path / "other.pt"), "--data", str(tiny_data), "--fractions-only"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "envelope" in err and str(tiny_data) in err
