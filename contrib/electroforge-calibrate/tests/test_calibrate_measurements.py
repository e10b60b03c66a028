"""Measured-discharge CSVs: a valid file round-trips; every malformed one is a one-line InputFileError."""
from __future__ import annotations

import numpy as np
import pytest

from electroforge.errors import InputFileError
from electroforge_calibrate.measurements import read_discharge_csv, write_discharge_csv


def _good(tmp_path, n=20, current=0.004):
    path = tmp_path / "good.csv"
    t = np.linspace(0, 3600, n)
    write_discharge_csv(path, t + 5.0, 4.1 - 0.8 * t / 3600, current)
    return path


def test_valid_csv_round_trips_and_starts_at_zero(tmp_path):
    d = read_discharge_csv(_good(tmp_path))
    assert d.time_s[0] == 0.0 and d.duration_s == pytest.approx(3600.0)
    assert d.current_A == pytest.approx(0.004)
    assert d.capacity_Ah == pytest.approx(0.004)
    assert len(d.sha256) == 64


def test_columns_in_any_order_and_extra_columns_ignored(tmp_path):
    path = tmp_path / "reordered.csv"
    rows = ["cycle,current_A,voltage_V,time_s"] + [f"1,0.002,{4.0 - 0.01 * k},{10 * k}" for k in range(12)]
    path.write_text("\n".join(rows) + "\n")
    d = read_discharge_csv(path)
    assert d.voltage_V[0] == pytest.approx(4.0) and d.duration_s == pytest.approx(110.0)


@pytest.mark.parametrize("body, why", [
    ("time_s,voltage_V\n" + "1,3.5\n" * 12, "missing column(s) current_A"),
    ("time_s,voltage_V,current_A\n" + "".join(f"{k},3.5,0.01\n" for k in range(11)) + "12,abc,0.01\n",
     "voltage_V='abc' is not a number"),
    ("time_s,voltage_V,current_A\n" + "".join(f"{k},3.5,0.01\n" for k in range(5)), "need at least 10"),
    ("time_s,voltage_V,current_A\n" + "".join(f"{k % 6},3.5,0.01\n" for k in range(12)), "must increase strictly"),
    ("time_s,voltage_V,current_A\n" + "".join(f"{k},3.5,-0.01\n" for k in range(12)), "not a discharge"),
    ("time_s,voltage_V,current_A\n" + "".join(f"{k},3.5,{0.01 * (1 + k)}\n" for k in range(12)), "constant-current"),
    ("time_s,voltage_V,current_A\n" + "".join(f"{k},{30 if k == 4 else 3.5},0.01\n" for k in range(12)), "outside (0, 6] V"),
    ("time_s,voltage_V,current_A\n" + "".join(f"{k},nan,0.01\n" for k in range(12)), "not finite"),
    ("", "empty file"),
])
def test_bad_csv_is_a_one_line_error_naming_the_file(tmp_path, body, why):
    path = tmp_path / "bad.csv"
    path.write_text(body)
    with pytest.raises(InputFileError) as info:
        read_discharge_csv(path)
    msg = str(info.value)
    assert why in msg and str(path) in msg and "\n" not in msg


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="not found"):
        read_discharge_csv(tmp_path / "nope.csv")
