"""The fitter recovers hidden corrections from synthetic measurements (known corrections + noise).

Synthetic measurements: discharges of a typical generated NMC811 cathode (70 µm, tau 2.4) in a
half cell at 0.5C and 2C, simulated with hidden corrections and 2 mV Gaussian voltage noise,
200 samples each. Stated tolerances: every fitted correction within 5 % of the hidden value (and
within 4 standard errors of it); RMSE below the noise level.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")

from electroforge.cells import HalfCell  # noqa: E402
from electroforge.errors import ValidationError  # noqa: E402
from electroforge.model import Electrode, Metrics  # noqa: E402
from electroforge_calibrate.fit import fit_calibration, resolve_names  # noqa: E402
from electroforge_calibrate.store import load_calibration  # noqa: E402
from electroforge_calibrate.synthetic import synthetic_discharges  # noqa: E402

HIDDEN = {"tortuosity_multiplier": 1.6, "contact_resistance_Ohm_m2": 2e-3, "exchange_current_factor": 0.4}
NOISE_V = 0.002


def nmc_metrics():
    porosity = 0.33
    return Metrics(volume_fractions={"pore": porosity, "active": 0.93 * (1 - porosity), "binder": 0.07 * (1 - porosity)},
                   specific_surface_area_per_m=4e5, binder_coverage=0.2, tortuosity_factor=2.4,
                   effective_conductivity_S_per_m=0.14)


@pytest.fixture(scope="module")
def electrode():
    return Electrode(nmc_metrics(), thickness_m=70e-6)


@pytest.fixture(scope="module")
def measured(electrode):
    return synthetic_discharges(electrode, HalfCell(), [0.5, 2.0], HIDDEN, noise_V=NOISE_V, seed=1)


def _check(cal, names):
    for name in names:
        value, sd = cal.parameters[name], cal.uncertainty[name]
        assert value == pytest.approx(HIDDEN[name], rel=0.05), (name, value)
        assert math.isfinite(sd) and sd > 0 and abs(value - HIDDEN[name]) < 4 * sd + 0.01 * HIDDEN[name], (name, value, sd)
    assert cal.rmse_V < NOISE_V


def test_fit_recovers_all_three_hidden_corrections(electrode, measured, tmp_path):
    cal = fit_calibration(measured, electrode, HalfCell())
    _check(cal, list(HIDDEN))
    path = tmp_path / "cal.json"
    cal.save(path)
    again = load_calibration(path)
    assert again.parameters == pytest.approx(cal.parameters)
    assert again.provenance["measurements"][0]["current_A"] == pytest.approx(measured[0].current_A)
    assert again.provenance["fitted"] == list(HIDDEN) and again.simulator["parameter_set"] == "Chen2020"


def test_an_uncorrected_simulator_misfits_the_measurement(electrode, measured):
    """The corrections matter: with neutral values the voltage error is far above the noise."""
    from electroforge_calibrate.fit import replay, voltage_residual
    from electroforge_calibrate.simulator import CalibratedPyBaMMSimulator

    sim = CalibratedPyBaMMSimulator()
    d = measured[1]
    r = voltage_residual(replay(sim, d, electrode, HalfCell()), d, d.time_s)
    assert np.sqrt(np.mean(r**2)) > 10 * NOISE_V


def test_fit_arguments_are_validated(electrode, measured):
    with pytest.raises(ValidationError, match="unknown correction"):
        resolve_names(["tau", "warp"])
    with pytest.raises(ValidationError, match="both fitted and fixed"):
        fit_calibration(measured, electrode, HalfCell(), fit=["tau"], fixed={"tortuosity_multiplier": 1.0})
    with pytest.raises(ValidationError, match="at least one measured discharge"):
        fit_calibration([], electrode, HalfCell())


@pytest.mark.slow
def test_cli_synthesize_then_fit_from_a_tiff_image(tmp_path):
    """End to end through the console script: image -> metrics -> synthetic CSVs -> fit -> show."""
    from electroforge.registry import get_registry

    gen = get_registry().create("generator", "procedural")
    ms = gen.generate({"am_mass_fraction": 0.93, "porosity": 0.38, "binder_adhesion": 0.5}, (32, 32, 32), 3)
    tif = tmp_path / "cathode.tif"
    ms.to_file(tif)
    metrics = get_registry().create("characterizer", "taufactor").characterize(ms)
    (tmp_path / "m.json").write_text(json.dumps(metrics.to_dict()))
    exe = str(Path(sys.executable).with_name("electroforge-calibrate"))
    run = lambda *a: subprocess.run([exe, *a], capture_output=True, text=True, cwd=tmp_path, timeout=600)  # noqa: E731
    res = run("synthesize", "-m", "m.json", "--cell", "half", "--thickness", "60um", "-c", "0.5", "-c", "2",
              "--tau", "1.5", "--rc", "0", "--j0", "1", "--noise-mV", "1", "-o", "meas")
    assert res.returncode == 0, res.stderr
    res = run("fit", "meas/discharge_0.5C.csv", "meas/discharge_2C.csv", "--image", "cathode.tif",
              "--voxel-size", f"{ms.voxel_size_m * 1e6}um", "--cell", "half", "--thickness", "60um",
              "--fit", "tau", "-o", "cal.json")
    assert res.returncode == 0, res.stderr
    cal = load_calibration(tmp_path / "cal.json")
    assert cal.parameters["tortuosity_multiplier"] == pytest.approx(1.5, rel=0.05)
    assert cal.provenance["image"] == "cathode.tif"
    res = run("show", "cal.json")
    assert res.returncode == 0 and "tortuosity_multiplier" in res.stdout
    bad = run("fit", "nope.csv", "-m", "m.json", "--thickness", "60um", "-o", "x.json")
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "nope.csv" in bad.stderr
