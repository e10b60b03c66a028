"""A campaign switches chemistry by name: ``[simulator] name = "pybamm-lfp"``, nothing else changes.

Real components end to end: procedural generator (32³), taufactor characterizer, the LFP cell
simulator, the sobol optimizer and the netCDF campaign store.
"""
from __future__ import annotations

import os

import pytest
import xarray as xr

os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")

from electroforge.campaign import Campaign  # noqa: E402
from electroforge.config import config_from_dict  # noqa: E402

CONFIG = {
    "name": "lfp-tiny", "seed": 2, "budget": 2, "batch": 1,
    "objective": "capacity_per_g_active_mAh", "protocols": ["1C"],
    "design": {"porosity": [0.32, 0.45]},
    "fixed": {"am_mass_fraction": 0.92, "binder_adhesion": 0.5, "mass_loading_mg_per_cm2": 12.0},
    "generator": {"name": "procedural", "shape": 32},
    # carbon-coated LFP conducts ~1e-2 S/m (electroforge_lfp.materials), not NMC811's 0.18 S/m
    "characterizer": {"name": "taufactor", "options": {"active_conductivity_S_per_m": 1e-2}},
    "simulator": {"name": "pybamm-lfp"},
    "cell": {"format": "half"},
    "optimizer": {"name": "sobol"},
}


@pytest.mark.slow
def test_tiny_lfp_campaign_runs_end_to_end(tmp_path):
    cfg = config_from_dict(CONFIG, source="lfp-tiny")
    path = tmp_path / "lfp.nc"
    evaluations = Campaign(cfg, path, progress=False).run()
    assert len(evaluations) == 2
    assert all(e.ok for e in evaluations), [e.error for e in evaluations]
    for e in evaluations:
        perf = e.performances["1C"]
        assert 120 <= perf.capacity_per_g_active_mAh <= 170.5  # LFP, not NMC811's 200+ mAh/g
        assert 3.2 <= perf.energy_Wh / perf.capacity_Ah <= 3.45
    with xr.open_dataset(path) as ds:
        assert ds.attrs["cell_simulator"] == "pybamm-lfp"
        assert ds.sizes["evaluation"] == 2
        assert any("electroforge-lfp" in str(v) for v in ds.attrs.values())
