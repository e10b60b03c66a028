"""Representativity analysis (electroforge.rve): statistics, bias, recommendation, plot, CLI."""
from __future__ import annotations

import json
import math
import types

import numpy as np
import pytest
from scipy.stats import t as student_t

import electroforge
from electroforge import Metrics, Microstructure
from electroforge.errors import ValidationError
from electroforge.plots_rve import plot_rve
from electroforge.rve import MetricStats, _stats, analyse, cube_origins, metric_values
from electroforge.plugins.taufactor.synthetic import synthetic_electrode


def _fake_characterizer(bias_vox: float = 0.0):
    """Metrics from the crop's porosity, with a tortuosity that is biased by bias_vox/edge."""

    def characterize(ms: Microstructure) -> Metrics:
        vf = ms.volume_fractions()
        eps = vf["pore"]
        if eps == 0:
            return Metrics(vf, 0.0, 0.0, math.inf, 0.0)
        tau = eps ** -0.5 * (1 + bias_vox / ms.shape[0])
        return Metrics(vf, 1e5 * (1 - eps), 0.3, tau, 0.2 * (1 - eps) + 0.01)

    return characterize


@pytest.fixture(scope="module")
def noisy_volume():
    rng = np.random.default_rng(0)
    lab = (rng.random((64, 64, 64)) < 0.6).astype(np.uint8)  # active 60 %, pore 40 %, voxel-scale noise
    return Microstructure(labels=lab, voxel_size_m=4e-7, phases=("pore", "active"))


def test_cube_origins_tile_disjoint_cubes_inside_the_volume():
    origins = cube_origins((100, 64, 70), 32)
    assert len(origins) == 3 * 2 * 2
    occupied = np.zeros((100, 64, 70), int)
    for o in origins:
        assert all(0 <= a and a + 32 <= n for a, n in zip(o, (100, 64, 70)))
        occupied[o[0]:o[0] + 32, o[1]:o[1] + 32, o[2]:o[2] + 32] += 1
    assert occupied.max() == 1


def test_confidence_interval_is_student_t_and_cubes_needed_meets_the_target():
    values = [2.0, 2.2, 1.9, 2.1, 2.05]
    st = _stats(values)
    sd = np.std(values, ddof=1)
    assert st.std == pytest.approx(sd)
    assert st.ci95 == pytest.approx(student_t.ppf(0.975, 4) * sd / math.sqrt(5))
    n = st.cubes_needed(0.01)
    goal = 0.01 * st.mean
    assert student_t.ppf(0.975, n - 1) * sd / math.sqrt(n) <= goal
    assert student_t.ppf(0.975, n - 2) * sd / math.sqrt(n - 1) > goal
    one = _stats([3.0])
    assert one.mean == 3.0 and math.isinf(one.ci95) and one.cubes_needed(0.01) is None
    assert MetricStats(1.0, 0.0, 0.0).cubes_needed(0.01) == 2


def test_analyse_reports_statistics_bias_and_a_recommendation(noisy_volume):
    res = analyse(noisy_volume, _fake_characterizer(bias_vox=2.0), sizes=(8, 16, 32, 64, 200), count=6,
                  target_ci=0.01, seed=1)
    assert [s.edge_vox for s in res.sizes] == [8, 16, 32, 64]  # 200 does not fit
    counts = {s.edge_vox: (s.count, s.available) for s in res.sizes}
    assert counts == {8: (6, 512), 16: (6, 64), 32: (6, 8), 64: (1, 1)}
    # fluctuations shrink with the cube size (voxel-scale noise: std ~ edge^-1.5)
    stds = [res.sizes[i].stats["volume_fraction_pore"].std for i in range(3)]
    assert stds[0] > stds[1] > stds[2] > 0
    # the bias of tau relative to the largest edge is the planted one (porosity bias is tiny here)
    bias = res.tortuosity_bias()
    assert bias[64] == 0.0
    assert bias[8] == pytest.approx((1 + 2 / 8) / (1 + 2 / 64) - 1, abs=0.02)
    # every edge below the largest is significantly biased (the single 64³ cube has no CI): no advice
    assert res.recommendation is None
    assert "significant tortuosity bias" in res.note and "64: 1 usable cube" in res.note
    # without the planted bias an edge qualifies and its count meets the target for every metric
    res = analyse(noisy_volume, _fake_characterizer(), sizes=(8, 16, 32, 64), count=6, target_ci=0.01, seed=1)
    rec = res.recommendation
    assert rec is not None and rec.edge_vox in (8, 16, 32)
    size = next(s for s in res.sizes if s.edge_vox == rec.edge_vox)
    for name in res.target_metrics:
        assert rec.count >= size.stats[name].cubes_needed(0.01)
    assert rec.seconds == pytest.approx(rec.count * size.seconds_per_cube)
    d = json.loads(json.dumps(res.to_dict(), default=str))
    assert d["recommendation"]["edge_vox"] == rec.edge_vox and len(d["sizes"]) == 4


def test_non_percolating_cubes_are_counted_as_failed_and_left_out():
    lab = np.ones((32, 32, 32), np.uint8)
    lab[:16, :, :] = 0  # pores only in the lower half: those cubes have a pore, the others none
    ms = Microstructure(labels=lab, voxel_size_m=1e-6, phases=("pore", "active"))
    res = analyse(ms, _fake_characterizer(), sizes=(16,), count=8, warmup=False)
    s = res.sizes[0]
    assert s.count == 8 and s.failed == 4 and s.ok == 4
    assert len(s.samples["tortuosity_factor"]) == 4
    assert all(v == 1.0 for v in s.samples["volume_fraction_pore"])


def test_bad_arguments_are_one_line_errors(noisy_volume):
    fake = _fake_characterizer()
    with pytest.raises(ValidationError, match="fits"):
        analyse(noisy_volume, fake, sizes=(96, 128))
    with pytest.raises(ValidationError, match="target_ci"):
        analyse(noisy_volume, fake, sizes=(16,), target_ci=5)
    with pytest.raises(ValidationError, match="unknown metric"):
        analyse(noisy_volume, fake, sizes=(16, 32), count=3, target_metrics=("nonsense",))


def test_plot_is_written(noisy_volume, tmp_path):
    res = analyse(noisy_volume, _fake_characterizer(), sizes=(8, 16, 32), count=4)
    out = plot_rve(res, tmp_path / "rve.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_metric_values_flattens_the_contract_fields():
    m = Metrics({"pore": 0.4, "active": 0.6}, 1e5, 0.2, 2.0, 0.1)
    v = metric_values(m)
    assert v["volume_fraction_pore"] == 0.4 and v["effective_diffusivity_ratio"] == pytest.approx(0.2)


def test_rve_with_taufactor_on_a_synthetic_electrode():
    from electroforge.plugins.taufactor import TauFactorCharacterizer

    ms = Microstructure(labels=synthetic_electrode(48, radius_vox=3.0, seed=4), voxel_size_m=4e-7)
    res = analyse(ms, TauFactorCharacterizer(threads=1).characterize, sizes=(16, 24), count=3, seed=0)
    for s in res.sizes:
        assert s.ok >= 2
        tau = s.stats["tortuosity_factor"]
        assert 1.0 < tau.mean < 5.0 and math.isfinite(tau.ci95)
        assert s.seconds_per_cube > 0


class _CheckerboardGenerator:
    """A fake generator: random pore/active voxels at a porosity parameter."""

    name = "fakegen"
    parameters = {"porosity": (0.2, 0.6)}

    def generate(self, params, shape, seed):
        rng = np.random.default_rng(seed)
        lab = (rng.random(shape) >= params["porosity"]).astype(np.uint8)
        return Microstructure(labels=lab, voxel_size_m=5e-7, phases=("pore", "active"),
                              metadata={"generator": self.name})


def test_rve_command_with_a_generator_from_the_registry(tmp_path, capsys, monkeypatch):
    from electroforge.cli import main
    from electroforge.cli._common import STATE
    from electroforge.registry import get_registry
    import electroforge.plugins.taufactor as tf_plugin

    fake = types.SimpleNamespace(register_generators=electroforge.hookimpl(lambda: [_CheckerboardGenerator]))
    monkeypatch.setattr(STATE, "_registry", get_registry(autoload=False, plugins=[("fake", fake),
                                                                                  ("taufactor", tf_plugin)]))
    plot = tmp_path / "g.png"
    rc = main(["rve", "--generator", "fakegen", "-p", "porosity=0.5", "--shape", "24", "--seed", "3",
               "--sizes", "8,12,24", "--count", "3", "--option", "threads=1", "--plot", str(plot), "--json"])
    out = capsys.readouterr().out
    assert rc == 0, out
    data = json.loads(out)
    assert [s["edge_vox"] for s in data["sizes"]] == [8, 12, 24]
    assert data["characterizer"] == "taufactor" and data["voxel_size_m"] == 5e-7
    assert plot.is_file()
    rc = main(["rve", "--generator", "fakegen", "-p", "porosity=0.9", "--shape", "24"])
    assert rc == 2
    assert "outside its envelope" in capsys.readouterr().err


def test_unresolved_bias_above_the_target_is_a_warning_not_silence():
    rng = np.random.default_rng(5)
    blocks = rng.choice([0.2, 0.7], size=(8, 8, 8))  # porosity varies in 8-voxel blocks: noisy small cubes
    porosity = np.kron(blocks, np.ones((8, 8, 8)))
    lab = (rng.random((64, 64, 64)) >= porosity).astype(np.uint8)
    ms = Microstructure(labels=lab, voxel_size_m=1e-6, phases=("pore", "active"))
    res = analyse(ms, _fake_characterizer(bias_vox=1.5), sizes=(16, 64), count=6, seed=0, warmup=False)
    assert res.recommendation is not None and res.recommendation.edge_vox == 16
    assert abs(res.tortuosity_bias()[16]) > 0.01
    assert res.warnings and "within the noise" in res.warnings[0]
