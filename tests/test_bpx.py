"""BPX parameter sets (https://bpxstandard.com) as the pybamm simulator's ``parameter_set``.

The test file (tests/data/make_bpx.py) carries the published Chen et al. 2020 values, so a BPX cell
can be checked against the built-in ``Chen2020``: a BPX file describes its own material and keeps
its own maximum concentration (63104 mol/m³), where the built-in set uses NMC811's rho / M.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from electroforge.cells import cell_from_name
from electroforge.config import load_config
from electroforge.errors import InputFileError, PluginError
from electroforge.model import ConstantCurrent, Electrode, Metrics

pytest.importorskip("pybamm")
pytest.importorskip("bpx")
from electroforge.plugins.pybamm import parameters as params  # noqa: E402
from electroforge.plugins.pybamm.simulator import PyBaMMSimulator  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent / "data"))
from make_bpx import bpx_dict, write_bpx  # noqa: E402

EPS, AM, R = 0.335, 0.665, 5.22e-6


def chen_electrode() -> Electrode:
    m = Metrics(volume_fractions={"pore": EPS, "active": AM}, specific_surface_area_per_m=3 * AM / R,
                binder_coverage=0.0, tortuosity_factor=EPS**-0.5, effective_conductivity_S_per_m=0.18)
    return Electrode(m, thickness_m=75.6e-6)


@pytest.fixture()
def bpx_file(tmp_path) -> Path:
    return write_bpx(tmp_path / "cell.bpx.json")


def test_bpx_windows_and_cutoffs_come_from_the_file(bpx_file):
    pset = params.get_parameter_set(str(bpx_file))
    assert (pset.x_p_charged, pset.x_p_discharged) == (0.2661, 0.9084)
    assert (pset.x_n_discharged, pset.x_n_charged) == (0.0279, 0.9014)
    assert (pset.lower_cutoff_V, pset.upper_cutoff_V) == (2.5, 4.2)
    assert params.positive_max_concentration(pset, None) == 63104.0  # the file's own material


def test_bpx_cell_matches_the_built_in_set_scaled_by_its_c_max(bpx_file):
    """Same windows and OCPs: at C/10 the capacity scales with the positive c_max (63104 vs rho/M)."""
    cell = cell_from_name("4680")
    bpx = PyBaMMSimulator(parameter_set=str(bpx_file)).simulate(chen_electrode(), cell, ConstantCurrent(0.1))
    ref = PyBaMMSimulator().simulate(chen_electrode(), cell, ConstantCurrent(0.1))
    c_ratio = 63104.0 / params.positive_max_concentration(params.get_parameter_set("Chen2020"),
                                                          PyBaMMSimulator.materials)
    assert bpx.capacity_per_g_active_mAh / ref.capacity_per_g_active_mAh == pytest.approx(c_ratio, rel=0.02)
    assert bpx.energy_Wh / bpx.capacity_Ah == pytest.approx(ref.energy_Wh / ref.capacity_Ah, abs=0.03)


@pytest.mark.parametrize("mutate, culprit", [
    (lambda d: d["Parameterisation"]["Positive electrode"].pop("Maximum concentration [mol.m-3]"),
     "Maximum concentration"),
    (lambda d: d["Parameterisation"]["Cell"].__setitem__("Lower voltage cut-off [V]", "low"),
     "Lower voltage cut-off"),
    (lambda d: d["Parameterisation"].pop("Electrolyte"), "Electrolyte"),
])
def test_incomplete_bpx_names_the_file_and_field(tmp_path, mutate, culprit):
    data = bpx_dict()
    mutate(data)
    path = write_bpx(tmp_path / "broken.json", data)
    with pytest.raises(InputFileError) as info:
        params.get_parameter_set(str(path))
    msg = str(info.value)
    assert msg.startswith(f"{path}: ") and culprit in msg and "\n" not in msg


def test_malformed_json_and_missing_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"Header": {"BPX": "1.0.0",}')
    with pytest.raises(InputFileError, match=r"bad.json: not valid JSON \(line 1"):
        params.get_parameter_set(str(bad))
    with pytest.raises(InputFileError, match="no such BPX file"):
        params.get_parameter_set(str(tmp_path / "nope.json"))
    with pytest.raises(PluginError, match="BPX .json file"):
        params.get_parameter_set("NotASet")


def test_bpx_from_a_config_is_relative_to_the_config(tmp_path, bpx_file):
    cfg_path = tmp_path / "my.toml"
    cfg_path.write_text('name = "bpx"\n[design]\nporosity = [0.3, 0.4]\n'
                        '[simulator]\nname = "pybamm"\noptions = {parameter_set = "cell.bpx.json"}\n')
    cfg = load_config(cfg_path)
    assert Path(cfg.simulator.options["parameter_set"]) == bpx_file.resolve()


def test_bpx_at_the_cli(tmp_path, bpx_file):
    metrics = tmp_path / "m.json"
    metrics.write_text(json.dumps(chen_electrode().metrics.to_dict()))
    exe = Path(sys.executable).parent / "electroforge"
    base = [str(exe), "simulate", "--metrics", str(metrics), "--cell", "4680", "--thickness", "75.6um",
            "--c-rate", "0.5", "--json", "--parameter-set"]
    ok = subprocess.run([*base, str(bpx_file)], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    out = json.loads(ok.stdout)
    assert out["status"] == "ok" and out["capacity_Ah"] > 20
    data = bpx_dict()
    del data["Parameterisation"]["Negative electrode"]["OCP [V]"]
    broken = write_bpx(tmp_path / "broken.json", data)
    bad = subprocess.run([*base, str(broken)], capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0
    assert str(broken) in bad.stderr and "OCP" in bad.stderr and "Traceback" not in bad.stderr
