"""The ``pybamm-lfp`` simulator: LFP physics against NMC811 (the built-in ``pybamm``) on one electrode.

Physical facts: LFP's two-phase plateau (a flat ~3.4 V vs Li over the middle of the discharge)
against NMC811's sloping ~3.8 V; a specific capacity near LFP's theoretical 170 mAh/g; and a
4680 of LFP stores less energy per litre than one of NMC811.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")

from electroforge.cells import HalfCell, cell_from_name  # noqa: E402
from electroforge.errors import EvaluationError, PluginError  # noqa: E402
from electroforge.model import ConstantCurrent, ConstantPower, Electrode, Metrics  # noqa: E402
from electroforge.plugins.pybamm.simulator import PyBaMMSimulator  # noqa: E402
from electroforge_lfp.simulator import LFPSimulator  # noqa: E402


def metrics(porosity=0.33, tau=2.4):
    return Metrics(volume_fractions={"pore": porosity, "active": 0.93 * (1 - porosity), "binder": 0.07 * (1 - porosity)},
                   specific_surface_area_per_m=4e5, binder_coverage=0.2, tortuosity_factor=tau,
                   effective_conductivity_S_per_m=0.14)


ELECTRODE = Electrode(metrics(), mass_loading_kg_per_m2=0.2)  # 20 mg/cm²


@pytest.fixture(scope="module")
def lfp():
    return LFPSimulator()


@pytest.fixture(scope="module")
def half_c10(lfp):
    return lfp.simulate(ELECTRODE, HalfCell(), ConstantCurrent(0.1)), \
        PyBaMMSimulator().simulate(ELECTRODE, HalfCell(), ConstantCurrent(0.1))


def _mean_v(perf):
    return perf.energy_Wh / perf.capacity_Ah


def _plateau_span_V(perf):
    """Voltage range over the middle 20-80 % of the discharge."""
    t = perf.time_s / perf.time_s[-1]
    grid = np.linspace(0.2, 0.8, 61)
    v = np.interp(grid, t, perf.voltage_V)
    return float(v.max() - v.min())


def test_lfp_plateau_is_flat_and_lower_than_nmc(half_c10):
    lfp, nmc = half_c10
    assert 3.25 <= _mean_v(lfp) <= 3.45  # LiFePO4/FePO4 two-phase plateau ~3.4 V vs Li
    assert 3.7 <= _mean_v(nmc) <= 3.9
    assert _mean_v(nmc) - _mean_v(lfp) > 0.3
    assert _plateau_span_V(lfp) < 0.06 < 0.15 < _plateau_span_V(nmc)


def test_lfp_specific_capacity_near_theoretical(half_c10):
    lfp, nmc = half_c10
    assert 150 <= lfp.capacity_per_g_active_mAh <= 170.5  # theoretical LiFePO4: 170 mAh/g
    assert nmc.capacity_per_g_active_mAh > 200


def test_lfp_density_makes_a_thicker_coating_for_the_same_loading(lfp):
    """3.6 g/cm³ LFP vs 4.75 g/cm³ NMC811: the same 20 mg/cm² needs a thicker coating."""
    t_lfp = lfp.layout(ELECTRODE, HalfCell()).cathode_thickness_m
    t_nmc = PyBaMMSimulator().layout(ELECTRODE, HalfCell()).cathode_thickness_m
    assert t_lfp / t_nmc == pytest.approx(1.25, rel=0.05)


def test_lfp_4680_full_cell_voltage_and_energy_below_nmc(lfp):
    cell = cell_from_name("4680")
    p_lfp = lfp.simulate(ELECTRODE, cell, ConstantPower(10.0))
    p_nmc = PyBaMMSimulator().simulate(ELECTRODE, cell, ConstantPower(10.0))
    assert 3.0 <= _mean_v(p_lfp) <= 3.3 < 3.55 <= _mean_v(p_nmc)  # LFP/graphite ~3.2 V, NMC/graphite ~3.6 V
    assert p_lfp.energy_density_Wh_per_L < 0.65 * p_nmc.energy_density_Wh_per_L
    assert p_lfp.extras["end_voltage_V"] == pytest.approx(2.0, abs=0.02)  # LFP's 2.0 V cut-off


def test_options_are_validated():
    with pytest.raises(PluginError, match="parameter_set is 'Prada2013'"):
        LFPSimulator(parameter_set="Chen2020")
    with pytest.raises(PluginError, match="reactive_area="):
        LFPSimulator(reactive_area="bogus")
    with pytest.raises(PluginError, match="particle_radius_m=0.001 is outside"):
        LFPSimulator(particle_radius_m=1e-3)


def test_bad_design_is_a_failed_evaluation_naming_the_component(lfp):
    bad = Electrode(Metrics(metrics().volume_fractions, 4e5, 0.2, float("inf"), 0.14), thickness_m=60e-6)
    with pytest.raises(EvaluationError, match="^cell simulator 'pybamm-lfp': .*percolate"):
        lfp.simulate(bad, HalfCell(), ConstantCurrent(1.0))


def test_registered_through_its_own_entry_point():
    from electroforge.registry import get_registry

    info = get_registry().info("cell_simulator", "pybamm-lfp")
    assert info.distribution == "electroforge-lfp" and info.plugin == "lfp" and info.obj is LFPSimulator


def test_listed_by_electroforge_plugins():
    import json
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).with_name("electroforge")
    out = subprocess.run([str(exe), "plugins", "--json"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    rows = {(r["kind"], r["name"]): r for r in json.loads(out.stdout)}
    row = rows[("cell_simulator", "pybamm-lfp")]
    assert row["distribution"] == "electroforge-lfp" and row["status"] == "ok"
