"""The campaign file: one row per evaluation, readable by xarray, atomic rewrites, exact read-back."""
import json
import math

import numpy as np
import pytest
import xarray as xr

from electroforge import DesignSpace, Evaluation, Metrics, Performance
from electroforge.errors import InputFileError
from electroforge.store import CampaignStore

SPACE = DesignSpace.from_bounds({"porosity": (0.25, 0.5), "am_mass_fraction": (0.85, 0.97)})


def _eval(i, ok=True):
    m = Metrics({"pore": 0.3, "active": 0.6, "binder": 0.1}, 4e5 + i, 0.2, 2.0 + i / 10, 0.1)
    perf = Performance(5.0, 18.0 + i, 10.0, 6000.0, 600.0, 230.0, 180.0, extras={"eta_electrolyte_V": 0.01})
    if ok:
        return Evaluation(i, {"porosity": 0.3, "am_mass_fraction": 0.9}, 230.0 + i, "ok", metrics=m,
                          performances={"10W": perf}, timings_s={"generate": 0.5, "total": 2.0}, seed=100 + i)
    return Evaluation(i, {"porosity": 0.49, "am_mass_fraction": 0.86}, math.nan, "failed",
                      error="characterizer 'taufactor': pore network does not percolate", seed=100 + i)


def test_rows_are_written_and_read_back(tmp_path):
    path = tmp_path / "c.nc"
    store = CampaignStore.create(path, SPACE, ["10W"], config_text="budget = 3\n",
                                 plugins={"pybamm": "1.0"}, objective_name="specific_energy_Wh_per_kg")
    for i, ok in enumerate([True, False, True]):
        store.append(_eval(i, ok))
    with xr.open_dataset(path) as ds:
        assert ds.sizes["evaluation"] == 3
        assert list(ds["porosity"].values) == [0.3, 0.49, 0.3]
        assert list(ds["status"].values) == ["ok", "failed", "ok"]
        assert "percolate" in str(ds["error"].values[1])
        assert ds["energy_Wh"].dims == ("evaluation", "protocol")
        assert ds["energy_Wh"].sel(protocol="10W").values[2] == 20.0
        assert ds.attrs["config"] == "budget = 3\n"
        assert json.loads(ds.attrs["plugins"]) == {"pybamm": "1.0"}
        assert ds.attrs["electroforge_version"]
    back = CampaignStore.open(path)
    assert [e.status for e in back.evaluations] == ["ok", "failed", "ok"]
    assert back.evaluations[2].metrics == _eval(2).metrics
    assert back.evaluations[2].performances["10W"].energy_Wh == 20.0
    assert back.evaluations[2].performances["10W"].extras == {"eta_electrolyte_V": 0.01}
    assert math.isnan(back.evaluations[1].objective) and back.evaluations[1].metrics is None
    assert back.evaluations[0].seed == 100 and back.evaluations[0].timings_s == {"generate": 0.5, "total": 2.0}


def test_existing_file_is_not_clobbered(tmp_path):
    path = tmp_path / "c.nc"
    CampaignStore.create(path, SPACE, ["1C"]).append(_eval(0))
    with pytest.raises(InputFileError, match="campaign file exists; use --resume"):
        CampaignStore.create(path, SPACE, ["1C"])
    assert len(CampaignStore.open(path).evaluations) == 1


def test_no_temporary_file_is_left_behind(tmp_path):
    store = CampaignStore.create(tmp_path / "c.nc", SPACE, ["1C"])
    store.append(_eval(0))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.nc"]


def test_parameter_names_cannot_shadow_store_variables():
    with pytest.raises(InputFileError, match="clash"):
        CampaignStore("x.nc", DesignSpace.from_bounds({"objective": (0, 1)}), [])


def test_open_rejects_non_campaign_files(tmp_path):
    xr.Dataset({"a": ("x", np.zeros(2))}).to_netcdf(tmp_path / "other.nc")
    with pytest.raises(InputFileError, match="not an electroforge campaign file"):
        CampaignStore.open(tmp_path / "other.nc")
