"""Training the conditional generator on tiny data: end to end, save/load identical, resume identical."""
from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from electroforge.errors import InputFileError
from electroforge.imageio import write_microstructure
from electroforge.plugins.gan import training
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
    for k, v in trainer.G.state_dict().items():
        assert torch.equal(gen.net.state_dict()[k], v), k
    assert gen.parameters["porosity"] == (0.30, 0.45)
    a = gen.generate({"porosity": 0.4}, (16, 32, 20), seed=1)
    b = GanGenerator(weights=out, device="cpu").generate({"porosity": 0.4}, (16, 32, 20), seed=1)
    assert a.shape == (16, 32, 20) and np.array_equal(a.labels, b.labels)
    # fp16 export: the same weights rounded to half precision, a small file
    half = tmp_path / "h.pt"
    training.export_weights(trainer, half, fp16=True)
    sd = training.torch.load(half, weights_only=True)["state_dict"]
    assert all(sd[k].dtype == torch.float16 for k, v in trainer.G.state_dict().items() if v.is_floating_point())


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
    gen = GanGenerator(weights=tmp_path / "cal.pt", device="cpu")
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
    assert training.torch.load(out, weights_only=True)["steps"] == 1
    r = cli("train-generator", "--images", str(tmp_path / "nope"), "--labels", "x.csv", "-o", str(out))
    assert r.returncode == 2 and r.stderr.startswith("error:") and "nope" in r.stderr
