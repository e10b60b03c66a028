"""Held-out check of the Tesla 4680 validation (docs/cell-simulator.md): calibrate the electrode
balance on the teardown's T-cell pOCV alone, then predict the wound 4680's capacity, energy and
Wh/L with the calibrated simulator, and compare with Ank et al. 2023's measured cell (22.65 Ah,
82.7 Wh, 622.4 Wh/L). The shipped calibration ``ank2023-tesla-4680`` is that fit."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")

from electroforge.cells import TESLA_4680_ANODE_THICKNESS_IN_CAN_M, cell_from_name, tesla_4680_teardown_cathode  # noqa: E402
from electroforge.model import ConstantCurrent  # noqa: E402
from electroforge_calibrate.balance import fit_balance  # noqa: E402
from electroforge_calibrate.pocv import ank2023_tcell_path, read_pocv_csv  # noqa: E402
from electroforge_calibrate.simulator import CalibratedPyBaMMSimulator  # noqa: E402
from electroforge_calibrate.store import load_calibration  # noqa: E402

TEARDOWN = {"capacity_Ah": 22.65, "energy_Wh": 622.4 * 0.13295, "energy_density_Wh_per_L": 622.4}


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    """Fitted here from the packaged T-cell data only (nothing of the 4680's measured figures)."""
    cell = cell_from_name("4680", anode_thickness_m=TESLA_4680_ANODE_THICKNESS_IN_CAN_M)
    result = fit_balance(read_pocv_csv(ank2023_tcell_path()), tesla_4680_teardown_cathode(), cell, fit=("lli", "kp"))
    path = tmp_path_factory.mktemp("cal") / "tcell.json"
    result.calibration.save(path)
    return CalibratedPyBaMMSimulator(calibration=str(path)), cell


def test_the_shipped_calibration_is_this_fit(calibrated):
    sim, _ = calibrated
    shipped = load_calibration("ank2023-tesla-4680")
    for name, value in shipped.parameters.items():
        assert sim.corrections[name] == pytest.approx(value, rel=1e-6)


def test_calibrated_balance_reproduces_the_tcell(calibrated):
    """The teardown's electrodes, discharged as the T-cell was (C/43 to 2.90 V): 4.22 mAh/cm² within 3 %."""
    sim, cell = calibrated
    el = tesla_4680_teardown_cathode()
    perf = sim.simulate(el, cell, ConstantCurrent(1.0 / 43.0, lower_cutoff_V=2.90))
    assert perf.capacity_Ah / sim.layout(el, cell).electrode_area_m2 * 0.1 == pytest.approx(4.221, rel=0.03)


def test_tcell_calibration_predicts_the_4680_within_5_percent(calibrated):
    """Held out: the 4680's figures at C/20 (-3.9 % Ah, -3.0 % Wh, -3.1 % Wh/L on the landed fit)."""
    sim, cell = calibrated
    perf = sim.simulate(tesla_4680_teardown_cathode(), cell, ConstantCurrent(0.05))
    for figure, measured in TEARDOWN.items():
        assert getattr(perf, figure) == pytest.approx(measured, rel=0.05), (figure, getattr(perf, figure), measured)


@pytest.mark.parametrize(
    "config", ["case-study-2-calibrated", "case-study-3-energy-calibrated", "case-study-3-power-calibrated"]
)
def test_the_calibrated_case_study_config_names_the_shipped_calibration(config):
    """The core's ``*-calibrated`` configs run their case study on this calibration."""
    from electroforge.config import load_config
    from electroforge.registry import get_registry

    cfg = load_config(config)
    assert cfg.simulator.name == "pybamm-calibrated" and cfg.cell_format == "4680"
    sim = get_registry().create("cell_simulator", cfg.simulator.name, **dict(cfg.simulator.options))
    shipped = load_calibration("ank2023-tesla-4680").parameters
    assert sim.lithium_loss_fraction == pytest.approx(shipped["lithium_loss_fraction"])
    assert sim.calibrated_cell(cell_from_name("4680")).lithium_loss_fraction == sim.lithium_loss_fraction
