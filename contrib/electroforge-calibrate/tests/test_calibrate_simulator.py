"""The ``pybamm-calibrated`` simulator: neutral corrections reproduce ``pybamm``; each correction
acts with the physics it stands for; calibration files load with one-line errors; entry point."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")

from electroforge.cells import HalfCell  # noqa: E402
from electroforge.errors import EvaluationError, InputFileError, PluginError  # noqa: E402
from electroforge.model import ConstantCurrent, Electrode, Metrics  # noqa: E402
from electroforge.plugins.pybamm.simulator import PyBaMMSimulator  # noqa: E402
from electroforge_calibrate.simulator import CalibratedPyBaMMSimulator  # noqa: E402
from electroforge_calibrate.store import Calibration, load_calibration  # noqa: E402


def nmc_electrode(tau=2.4):
    porosity = 0.33
    m = Metrics(volume_fractions={"pore": porosity, "active": 0.93 * (1 - porosity), "binder": 0.07 * (1 - porosity)},
                specific_surface_area_per_m=4e5, binder_coverage=0.2, tortuosity_factor=tau,
                effective_conductivity_S_per_m=0.14)
    return Electrode(m, thickness_m=70e-6)


@pytest.fixture(scope="module")
def neutral():
    return CalibratedPyBaMMSimulator()


def test_neutral_corrections_reproduce_the_builtin_simulator(neutral):
    el, cell = nmc_electrode(), HalfCell()
    ref = PyBaMMSimulator().simulate(el, cell, ConstantCurrent(1.0))
    cal = neutral.simulate(el, cell, ConstantCurrent(1.0))
    assert cal.capacity_Ah == pytest.approx(ref.capacity_Ah, rel=2e-3)
    v = np.interp(ref.time_s, cal.time_s, cal.voltage_V)
    assert np.max(np.abs(v - ref.voltage_V)[:-3]) < 2e-3


def test_contact_resistance_is_an_ohmic_drop(neutral):
    """At t=0 the only difference is Ohm's law: dV = I * R_c / A."""
    el, cell = nmc_electrode(), HalfCell()
    r_c = 2e-3  # Ohm m² (20 Ohm cm²)
    base = neutral.simulate(el, cell, ConstantCurrent(1.0))
    sim = CalibratedPyBaMMSimulator(contact_resistance_Ohm_m2=r_c)
    perf = sim.simulate(el, cell, ConstantCurrent(1.0))
    current = perf.extras["mean_current_A"]
    expected = current * r_c / cell.area_m2
    assert base.voltage_V[0] - perf.voltage_V[0] == pytest.approx(expected, rel=0.03)
    assert perf.capacity_Ah < base.capacity_Ah  # the cut-off comes earlier


def test_tortuosity_multiplier_equals_a_more_tortuous_electrode():
    el, cell = nmc_electrode(tau=2.4), HalfCell()
    scaled = CalibratedPyBaMMSimulator(tortuosity_multiplier=1.5).simulate(el, cell, ConstantCurrent(2.0))
    direct = PyBaMMSimulator().simulate(nmc_electrode(tau=3.6), cell, ConstantCurrent(2.0))
    plain = PyBaMMSimulator().simulate(el, cell, ConstantCurrent(2.0))
    assert scaled.capacity_Ah == pytest.approx(direct.capacity_Ah, rel=2e-3)
    assert scaled.capacity_Ah < plain.capacity_Ah


def test_slower_kinetics_lower_the_voltage(neutral):
    el, cell = nmc_electrode(), HalfCell()
    base = neutral.simulate(el, cell, ConstantCurrent(1.0))
    slow = CalibratedPyBaMMSimulator(exchange_current_factor=0.1).simulate(el, cell, ConstantCurrent(1.0))
    assert slow.energy_Wh / slow.capacity_Ah < base.energy_Wh / base.capacity_Ah - 0.005


def test_calibration_file_drives_the_simulator_and_options_override(tmp_path):
    path = tmp_path / "cal.json"
    Calibration({"tortuosity_multiplier": 1.7, "contact_resistance_Ohm_m2": 1e-3, "exchange_current_factor": 0.5},
                {"tortuosity_multiplier": 0.02}, rmse_V=0.002, n_points=10,
                simulator={"model": "SPMe", "parameter_set": "Chen2020"}).save(path)
    sim = CalibratedPyBaMMSimulator(calibration=str(path))
    assert sim.corrections == {"tortuosity_multiplier": 1.7, "contact_resistance_Ohm_m2": 1e-3,
                               "exchange_current_factor": 0.5, "lithium_loss_fraction": 0.0,
                               "cathode_capacity_factor": 1.0, "anode_capacity_factor": 1.0}  # balance: neutral
    assert sim.model == "SPMe"  # the model the calibration was fitted with
    over = CalibratedPyBaMMSimulator(calibration=str(path), tortuosity_multiplier=1.2, model="DFN")
    assert over.tortuosity_multiplier == 1.2 and over.contact_resistance_Ohm_m2 == 1e-3 and over.model == "DFN"
    assert load_calibration(path).uncertainty["tortuosity_multiplier"] == 0.02


@pytest.mark.parametrize("content, why", [
    (None, "calibration file not found"),
    ("{not json", "not a calibration JSON"),
    (json.dumps({"format": "something-else"}), "not a calibration file"),
    (json.dumps({"format": "electroforge-calibration", "version": 9, "parameters": {}}), "version 9"),
    (json.dumps({"format": "electroforge-calibration", "version": 1, "parameters": {"tortuosity_multiplier": -1}}),
     "outside"),
    (json.dumps({"format": "electroforge-calibration", "version": 1, "parameters": {"warp_factor": 9}}),
     "unknown correction"),
])
def test_bad_calibration_file_is_a_one_line_error(tmp_path, content, why):
    path = tmp_path / "cal.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputFileError) as info:
        CalibratedPyBaMMSimulator(calibration=str(path))
    assert why in str(info.value) and "\n" not in str(info.value)


def test_out_of_range_option_and_failures_name_the_component():
    with pytest.raises(PluginError, match="contact_resistance_Ohm_m2=-1 is outside"):
        CalibratedPyBaMMSimulator(contact_resistance_Ohm_m2=-1)
    m = nmc_electrode().metrics
    bad = Electrode(Metrics(m.volume_fractions, 4e5, 0.2, float("inf"), 0.14), thickness_m=70e-6)
    with pytest.raises(EvaluationError, match="^cell simulator 'pybamm-calibrated': .*percolate"):
        CalibratedPyBaMMSimulator().simulate(bad, HalfCell(), ConstantCurrent(1.0))


def test_registered_through_its_own_entry_point():
    from electroforge.registry import get_registry

    reg = get_registry()
    info = reg.info("cell_simulator", "pybamm-calibrated")
    assert info.distribution == "electroforge-calibrate" and info.plugin == "calibrate"
    assert reg.get("cell_simulator", "pybamm") is PyBaMMSimulator  # the built-in is untouched


def test_listed_by_electroforge_plugins():
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).with_name("electroforge")
    out = subprocess.run([str(exe), "plugins", "--json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    rows = {(r["kind"], r["name"]): r for r in json.loads(out.stdout)}
    row = rows[("cell_simulator", "pybamm-calibrated")]
    assert row["distribution"] == "electroforge-calibrate" and row["status"] == "ok"
