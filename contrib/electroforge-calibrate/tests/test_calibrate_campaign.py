"""A later campaign uses a stored calibration by config: ``[simulator] name = "pybamm-calibrated"``
with ``options = {calibration = "cal.json"}`` (real procedural, taufactor, PyBaMM, sobol)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")

from electroforge.campaign import Campaign  # noqa: E402
from electroforge.config import config_from_dict  # noqa: E402
from electroforge_calibrate.store import Calibration  # noqa: E402


def _config(simulator, **changes):
    """A tiny real campaign (half cell, 2C) on ``simulator``; ``changes`` replace top-level keys."""
    return config_from_dict(
        {
            "name": "calibrated-tiny",
            "seed": 5,
            "budget": 2,
            "batch": 1,
            "objective": "capacity_per_g_active_mAh",
            "protocols": ["2C"],
            "design": {"porosity": [0.32, 0.42]},
            "fixed": {"am_mass_fraction": 0.92, "binder_adhesion": 0.5, "mass_loading_mg_per_cm2": 15.0},
            "generator": {"name": "procedural", "shape": 32},
            "characterizer": {"name": "taufactor"},
            "simulator": simulator,
            "cell": {"format": "half"},
            "optimizer": {"name": "sobol"},
            **changes,
        },
        source="calibrated-tiny",
    )


@pytest.mark.slow
def test_campaign_uses_the_calibrated_simulator_by_name(tmp_path):
    cal = tmp_path / "cal.json"
    Calibration(
        {"tortuosity_multiplier": 2.0, "contact_resistance_Ohm_m2": 3e-3, "exchange_current_factor": 0.3},
        simulator={"model": "DFN", "parameter_set": "Chen2020"},
    ).save(cal)
    calibrated = Campaign(
        _config({"name": "pybamm-calibrated", "options": {"calibration": str(cal)}}),
        tmp_path / "cal.nc",
        progress=False,
    ).run()
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


@pytest.mark.slow
def test_a_ragone_baseline_is_simulated_by_the_compared_campaigns_cell_model(tmp_path):
    """``ragone --baseline``: the baseline design goes into the first campaign's cell *and* cell
    simulator, so against a calibrated 4680 (7 % of the lithium lost) it delivers less than the
    same design in the uncalibrated cell, by about the lost lithium."""
    from electroforge.ragone import best_design_curve
    from electroforge.store import CampaignStore

    def full_cell(simulator, path):
        cfg = _config(
            simulator,
            name="ragone-tiny",
            seed=3,
            budget=1,
            objective="energy_density_Wh_per_L",
            protocols=["10W"],
            design={"porosity": [0.30, 0.40]},
            fixed={"am_mass_fraction": 0.95, "binder_adhesion": 0.5, "mass_loading_mg_per_cm2": 20.0},
            generator={"name": "procedural", "shape": 24},
            cell={"format": "4680"},
        )
        assert all(e.ok for e in Campaign(cfg, path, progress=False).run())
        return CampaignStore.open(path)

    calibrated = full_cell(
        {"name": "pybamm-calibrated", "options": {"calibration": "ank2023-tesla-4680"}}, tmp_path / "cal.nc"
    )
    baseline_cfg = _config({"name": "pybamm"}).with_overrides(budget=1)
    Campaign(baseline_cfg, tmp_path / "half.nc", progress=False).run()
    baseline = CampaignStore.open(tmp_path / "half.nc")
    in_own_model = best_design_curve(baseline, [10.0], cell_format="4680")
    in_calibrated = best_design_curve(baseline, [10.0], cell_format="4680", simulator_from=calibrated)
    loss = 1 - in_calibrated[0].energy_Wh / in_own_model[0].energy_Wh
    assert 0.03 < loss < 0.12, loss
