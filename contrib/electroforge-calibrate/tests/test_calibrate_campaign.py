"""A later campaign uses a stored calibration by config: ``[simulator] name = "pybamm-calibrated"``
with ``options = {calibration = "cal.json"}`` (real procedural, taufactor, PyBaMM, sobol)."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")

from electroforge.campaign import Campaign  # noqa: E402
from electroforge.config import config_from_dict  # noqa: E402
from electroforge_calibrate.store import Calibration  # noqa: E402


def _config(simulator):
    return config_from_dict({
        "name": "calibrated-tiny", "seed": 5, "budget": 2, "batch": 1,
        "objective": "capacity_per_g_active_mAh", "protocols": ["2C"],
        "design": {"porosity": [0.32, 0.42]},
        "fixed": {"am_mass_fraction": 0.92, "binder_adhesion": 0.5, "mass_loading_mg_per_cm2": 15.0},
        "generator": {"name": "procedural", "shape": 32}, "characterizer": {"name": "taufactor"},
        "simulator": simulator, "cell": {"format": "half"}, "optimizer": {"name": "sobol"},
    }, source="calibrated-tiny")


@pytest.mark.slow
def test_campaign_uses_the_calibrated_simulator_by_name(tmp_path):
    cal = tmp_path / "cal.json"
    Calibration({"tortuosity_multiplier": 2.0, "contact_resistance_Ohm_m2": 3e-3, "exchange_current_factor": 0.3},
                simulator={"model": "DFN", "parameter_set": "Chen2020"}).save(cal)
    calibrated = Campaign(_config({"name": "pybamm-calibrated", "options": {"calibration": str(cal)}}),
                          tmp_path / "cal.nc", progress=False).run()
    plain = Campaign(_config({"name": "pybamm"}), tmp_path / "plain.nc", progress=False).run()
    assert all(e.ok for e in calibrated + plain), [e.error for e in calibrated + plain]
    for c, p in zip(calibrated, plain):
        assert c.params == p.params  # same seed, same designs, same microstructures
        assert c.metrics.tortuosity_factor == pytest.approx(p.metrics.tortuosity_factor)
        # the calibrated cell loses more voltage, so it delivers less at 2C
        assert c.objective < p.objective
        v_c = c.performances["2C"].energy_Wh / c.performances["2C"].capacity_Ah
        v_p = p.performances["2C"].energy_Wh / p.performances["2C"].capacity_Ah
        assert v_c < v_p - 0.02
