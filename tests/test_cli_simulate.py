"""``electroforge simulate`` end to end (subprocess, real pybamm plugin)."""
from __future__ import annotations

import json

import pytest

from electroforge.model import Performance

METRICS = {"volume_fractions": {"pore": 0.33, "active": 0.60, "binder": 0.07}, "specific_surface_area_per_m": 4.0e5,
           "binder_coverage": 0.2, "tortuosity_factor": 2.4, "effective_conductivity_S_per_m": 0.14,
           "status": "ok", "error": ""}


@pytest.fixture
def metrics_file(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(METRICS))
    return path


def test_simulate_json_4680_at_10W(cli, metrics_file):
    r = cli("simulate", "--metrics", str(metrics_file), "--cell", "4680", "--loading", "20mg/cm2", "--power", "10W",
            "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == "ok" and out["error"] == ""
    assert set(Performance.SCALARS) <= set(out)
    assert out["mean_power_W"] == pytest.approx(10.0, rel=1e-3)
    assert 500 < out["energy_density_Wh_per_L"] < 900
    assert "eta_reaction_V" in out["extras"]
    # the cell can be checked, not only the energy: its mass by part adds up to the cell's mass
    parts = {k: v for k, v in out["extras"].items() if k.startswith("mass_") and k != "mass_loading_kg_per_m2"}
    assert {"mass_cathode_coating_kg", "mass_anode_coating_kg", "mass_can_kg", "mass_electrolyte_kg"} <= set(parts)
    assert sum(parts.values()) == pytest.approx(out["extras"]["cell_mass_kg"], rel=1e-9)
    r = cli("simulate", "--metrics", str(metrics_file), "--cell", "4680", "--loading", "20mg/cm2", "--power", "10W")
    assert r.returncode == 0 and "cell mass" in r.stdout and "anode coating" in r.stdout


def test_simulate_failed_design_json_and_table(cli, metrics_file, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**METRICS, "tortuosity_factor": "inf"}))
    r = cli("simulate", "--metrics", str(bad), "--cell", "half", "--thickness", "80um", "--c-rate", "1", "--json")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["status"] == "failed" and "percolate" in out["error"] and out["capacity_Ah"] == "nan"
    r = cli("simulate", "--metrics", str(bad), "--cell", "half", "--thickness", "80um", "--c-rate", "1")
    assert r.returncode == 2 and r.stderr.startswith("error: cell simulator 'pybamm'")
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_simulate_sweep_prints_and_plots(cli, metrics_file, tmp_path):
    png = tmp_path / "ragone.png"
    r = cli("simulate", "--metrics", str(metrics_file), "--cell", "4680", "--loading", "20mg/cm2",
            "--sweep-power", "10:200:3", "--plot", str(png))
    assert r.returncode == 0, r.stderr
    assert "Ragone" in r.stdout and "Wh/L" in r.stdout
    assert png.stat().st_size > 10_000


@pytest.mark.parametrize("args, culprit", [
    (["--loading", "20mg/cm2", "--thickness", "80um", "--power", "10W"], "--loading"),
    (["--loading", "20mg/cm2"], "--power"),
    (["--loading", "20parsecs", "--power", "10W"], "20parsecs"),
    (["--loading", "20mg/cm2", "--power", "10W", "--cell", "18650x"], "18650x"),
])
def test_simulate_user_errors_are_one_line(cli, metrics_file, args, culprit):
    r = cli("simulate", "--metrics", str(metrics_file), *args)
    assert r.returncode == 2
    assert r.stderr.startswith("error: ") and culprit in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_simulate_missing_or_broken_metrics_file(cli, tmp_path):
    r = cli("simulate", "--metrics", str(tmp_path / "nope.json"), "--loading", "20", "--power", "10W")
    assert r.returncode == 2 and "nope.json" in r.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"volume_fractions": {"pore": 0.3}}')
    r = cli("simulate", "--metrics", str(broken), "--loading", "20", "--power", "10W")
    assert r.returncode == 2 and "broken.json" in r.stderr and "missing" in r.stderr
