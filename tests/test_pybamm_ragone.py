"""Ragone curves (electroforge.ragone): sweep with the real pybamm simulator, crossover, plot."""
from __future__ import annotations

import pytest

from electroforge.cells import cell_from_name
from electroforge.errors import ValidationError
from electroforge.model import Electrode, Metrics, Performance
from electroforge.ragone import crossover_power_W, gain_percent, parse_sweep, plot_ragone, ragone_curve, value_at_power


def _perf(power_W, wh_per_L):
    return Performance(capacity_Ah=1, energy_Wh=1, mean_power_W=power_W, duration_s=1,
                       energy_density_Wh_per_L=wh_per_L, specific_energy_Wh_per_kg=1, capacity_per_g_active_mAh=1)


def test_crossover_interpolates_in_log_power():
    energy = [_perf(p, e) for p, e in ((10, 800), (100, 600), (1000, 100))]
    power = [_perf(p, e) for p, e in ((10, 600), (100, 560), (1000, 400))]
    # difference +200 at 10 W, +40 at 100 W, -300 at 1000 W: zero at log10 P = 2 + 40/340
    assert crossover_power_W(energy, power) == pytest.approx(10 ** (2 + 40 / 340), rel=1e-9)
    assert crossover_power_W(energy, energy[:1]) is None  # too few points
    assert crossover_power_W(energy, [_perf(p, e - 1000) for p, e in ((10, 800), (1000, 100))]) is None


def test_value_at_power_and_gain_over_a_baseline():
    design = [_perf(p, e) for p, e in ((10, 800), (100, 600))]
    baseline = [_perf(p, e) for p, e in ((10, 400), (100, 500), (1000, 100))]
    # halfway in log power between 10 and 100 W: the mean of the two values
    assert value_at_power(design, 10 ** 1.5) == pytest.approx(700)
    assert value_at_power(design, 1000) is None  # the design cannot deliver 1 kW
    assert gain_percent(design, baseline, 10) == pytest.approx(100.0)
    assert gain_percent(design, baseline, 100) == pytest.approx(20.0)
    assert gain_percent(design, baseline, 1000) is None


def test_parse_sweep():
    powers = parse_sweep("5:300:12")
    assert len(powers) == 12 and powers[0] == pytest.approx(5) and powers[-1] == pytest.approx(300)
    assert powers[1] / powers[0] == pytest.approx(powers[-1] / powers[-2])  # log-spaced
    with pytest.raises(ValidationError, match="--sweep-power"):
        parse_sweep("300:5:3")


def test_ragone_sweep_trades_energy_for_power_and_thick_and_thin_cross(tmp_path):
    pytest.importorskip("pybamm")
    from electroforge.plugins.pybamm.simulator import PyBaMMSimulator

    def electrode(porosity, loading):
        m = Metrics(volume_fractions={"pore": porosity, "active": 0.93 * (1 - porosity), "binder": 0.07 * (1 - porosity)},
                    specific_surface_area_per_m=4e5, binder_coverage=0.2, tortuosity_factor=porosity**-0.7,
                    effective_conductivity_S_per_m=0.14)
        return Electrode(m, mass_loading_kg_per_m2=loading)

    sim = PyBaMMSimulator()
    cell = cell_from_name("4680")
    powers = [10.0, 60.0, 200.0, 400.0, 50000.0]  # 50 kW is beyond either design: skipped, not raised
    energy_cell = ragone_curve(sim, electrode(0.25, 0.30), cell, powers)    # thick and dense
    power_cell = ragone_curve(sim, electrode(0.45, 0.10), cell, powers)     # thin and porous
    assert 3 <= len(energy_cell) < len(powers) and 3 <= len(power_cell) < len(powers)
    for curve in (energy_cell, power_cell):
        whl = [p.energy_density_Wh_per_L for p in curve]
        assert all(a > b for a, b in zip(whl, whl[1:]))  # more power, less energy
    assert energy_cell[0].energy_density_Wh_per_L > power_cell[0].energy_density_Wh_per_L
    assert energy_cell[-1].energy_density_Wh_per_L < power_cell[-1].energy_density_Wh_per_L
    cross = crossover_power_W(energy_cell, power_cell)
    assert cross is not None and 10.0 < cross < 400.0
    out = plot_ragone({"energy cell": energy_cell, "power cell": power_cell}, tmp_path / "r.png", crossover=cross)
    assert out.stat().st_size > 10_000
