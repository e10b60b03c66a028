"""pOCV files: the packaged Ank 2023 T-cell data reads as documented; every malformed file is a
one-line InputFileError naming the file and what is wrong."""
from __future__ import annotations

import numpy as np
import pytest

from electroforge.errors import InputFileError
from electroforge_calibrate.pocv import PocvStep, ank2023_tcell_path, read_pocv_csv, write_pocv_csv

HEADER = "time_s,current_A,voltage_V,cathode_potential_V,anode_potential_V"


def _rows(n=12, t0=0.0, current=1e-4, v0=4.1):
    return "".join(f"{t0 + 10 * k},{current},{v0 - 0.01 * k},{v0 + 0.1 - 0.01 * k},0.1\n" for k in range(n))


def test_packaged_tcell_data_is_the_published_measurement():
    """Ank et al. 2023's T-cell: a 0.942 cm² cathode, 0.092 mA, charge then discharge between
    4.2 V and 2.9 V; 4.24 mAh/cm² in, 4.22 mAh/cm² out (the paper's 99.4 % efficiency)."""
    data = read_pocv_csv(ank2023_tcell_path())
    assert [s.name for s in data.steps] == ["charge", "discharge"]
    assert all(len(s.time_s) == 300 and s.has_electrodes for s in data.steps)
    assert data.electrode_area_m2 == pytest.approx(0.9417e-4, rel=1e-3)
    charge, discharge = data.steps
    assert discharge.current_A == pytest.approx(9.21e-5, rel=0.01) and charge.current_A < 0
    cm2 = data.electrode_area_m2 * 1e4
    assert discharge.capacity_Ah * 1e3 / cm2 == pytest.approx(4.221, abs=0.005)
    assert charge.capacity_Ah * 1e3 / cm2 == pytest.approx(4.245, abs=0.005)
    # full cell = cathode - anode, both against the same reference
    assert np.allclose(discharge.voltage_V, discharge.cathode_potential_V - discharge.anode_potential_V, atol=2e-5)
    assert discharge.voltage_V[0] == pytest.approx(4.187, abs=0.002) and discharge.voltage_V[-1] == pytest.approx(2.90, abs=0.002)
    assert discharge.anode_potential_V[-1] > 0.7  # the anode runs empty first
    assert len(data.sha256) == 64


def test_round_trip_and_steps_from_the_current_sign(tmp_path):
    t = np.linspace(0, 3600, 20)
    steps = [PocvStep("charge", t, -1e-4, 3.5 + t / 7200, 3.6 + t / 7200, np.full(20, 0.1)),
             PocvStep("discharge", t, 1e-4, 4.0 - t / 7200, 4.1 - t / 7200, np.full(20, 0.1))]
    path = tmp_path / "p.csv"
    write_pocv_csv(path, steps, electrode_area_m2=1e-4, comments=("a test",))
    back = read_pocv_csv(path)
    assert [s.name for s in back.steps] == ["charge", "discharge"] and back.electrode_area_m2 == 1e-4
    assert back.steps[1].capacity_Ah == pytest.approx(1e-4)
    # without a step column, the sign of the current splits the steps
    no_step = tmp_path / "nostep.csv"
    no_step.write_text(HEADER + "\n" + _rows(12, current=-1e-4) + _rows(12, t0=1000, current=1e-4))
    assert [s.name for s in read_pocv_csv(no_step).steps] == ["charge", "discharge"]
    assert read_pocv_csv(no_step).electrode_area_m2 is None


@pytest.mark.parametrize("body, why", [
    ("time_s,voltage_V\n" + "1,3.5\n" * 12, "missing column(s) current_A"),
    ("time,current_A,voltage_V\n" + _rows(), "column 'time' has no SI unit in its name; rename it time_s"),
    ("time_s,I/mA,voltage_V\n" + _rows(), "column 'I/mA' has no SI unit in its name; rename it current_A (amperes)"),
    ("time_s,current_A,voltage_V,cathode_potential_V\n" + _rows(), "cathode_potential_V without anode_potential_V"),
    (HEADER + "\n" + _rows(11) + "200,1e-4,nan,4,0.1\n", "voltage_V=nan is not finite"),
    (HEADER + "\n" + _rows(11) + "200,1e-4,abc,4,0.1\n", "voltage_V='abc' is not a number"),
    (HEADER + "\n" + _rows(12) + "50,1e-4,3.0,3.1,0.1\n", "time_s must increase strictly (data row 13)"),
    (HEADER + "\n" + _rows(12).replace(",4.1,", ",7.5,", 1), "voltage_V=7.5 is outside (0, 6] V"),
    (HEADER + "\n" + _rows(5), "only 5 data row(s)"),
    ("step," + HEADER + "\n" + "".join(f"rest,{r}" for r in _rows().splitlines(True)), "step='rest' must be charge or discharge"),
    (HEADER + "\n" + "".join(f"{10 * k},{1e-4 * (1 + k % 2)},3.9,4.0,0.1\n" for k in range(20)), "off its median current"),
    ("# electrode_area_m2: -1\n" + HEADER + "\n" + _rows(), "electrode_area_m2=-1.0 must be a finite area > 0"),
])
def test_malformed_files_are_one_line_errors(tmp_path, body, why):
    path = tmp_path / "bad.csv"
    path.write_text(body)
    with pytest.raises(InputFileError) as err:
        read_pocv_csv(path)
    msg = str(err.value)
    assert why in msg and str(path) in msg and "\n" not in msg


def test_missing_file_and_missing_step(tmp_path):
    with pytest.raises(InputFileError, match="nope.csv: pOCV file not found"):
        read_pocv_csv(tmp_path / "nope.csv")
    path = tmp_path / "d.csv"
    path.write_text(HEADER + "\n" + _rows())
    with pytest.raises(InputFileError, match="no charge step"):
        read_pocv_csv(path).step("charge")
