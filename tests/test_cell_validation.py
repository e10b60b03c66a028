"""The cell model against published cells: NMC811 in a half cell, and the Tesla 4680 teardown.

Sources (also in docs/cell-simulator.md, "Validation"):

* NMC811 vs Li, 0.1C, 3.0-4.3 V: practical capacity ~195-215 mAh/g (e.g. Noh et al., J. Power
  Sources 233, 121 (2013): ~200 mAh/g for LiNi0.8Co0.1Mn0.1O2 at 0.1C, 3.0-4.3 V); theoretical
  F / M = 275.5 mAh/g.
* Tesla 4680, first generation: Ank et al., J. Electrochem. Soc. 170, 120536 (2023),
  doi 10.1149/1945-7111/ad14d0: 355 g, 622.4 Wh/L, 232.5 Wh/kg (its abstract), hence 82.7 Wh in the 0.1330 L can;
  22.65 Ah and the electrode design below as parameterised from that teardown in BattMo's
  ``tesla_4680_before_calibration`` set: cathode 87.5 µm per side at a coating density of
  3.32 g/cm³ with 95 wt% NMC811; anode 131 µm per side (1.55 g/cm³, 94 wt% graphite); jelly roll
  71 mm high between radii 2.5 and 22.25 mm, 0.496 m² of cathode; 10 µm foils and separator;
  electrolyte 1.13 g/cm³. The validation winds a 111 µm anode (the one the roll can hold with
  the measured area) and the lithium loss fitted to the teardown's T-cell (7.06 %).
"""
from __future__ import annotations

import pytest

from electroforge.cells import (TESLA_4680_ANODE_THICKNESS_IN_CAN_M, TESLA_4680_ANODE_THICKNESS_M,
                                TESLA_4680_LITHIUM_LOSS_FRACTION, cell_from_name, tesla_4680_teardown_cathode)
from electroforge.materials import NMC811
from electroforge.model import ConstantCurrent, Electrode, Metrics

pytest.importorskip("pybamm")
from electroforge.plugins.pybamm import parameters as params  # noqa: E402
from electroforge.plugins.pybamm.simulator import PyBaMMSimulator  # noqa: E402

#: Ank 2023 (as parameterised by BattMo): the teardown cell's figures.
TEARDOWN = {"capacity_Ah": 22.65, "energy_Wh": 622.4 * 0.13295, "mass_g": 355.0,
            "energy_density_Wh_per_L": 622.4, "specific_energy_Wh_per_kg": 232.5}


@pytest.fixture(scope="module")
def sim():
    return PyBaMMSimulator()


def test_positive_electrode_is_one_material(sim):
    """c_max = rho / M of NMC811: the capacity per gram over a window is F / M x window."""
    c_max = params.positive_max_concentration(params.get_parameter_set("Chen2020"), NMC811)
    assert c_max == pytest.approx(4750.0 / 0.09728)
    assert NMC811.theoretical_capacity_Ah_per_kg == pytest.approx(275.5, abs=0.1)
    cap_p, _ = params.capacities_Ah_per_m3(params.get_parameter_set("Chen2020"), NMC811)
    window = 0.9084 - 0.2661
    assert cap_p / NMC811.active_density_kg_per_m3 == pytest.approx(275.5 * window, rel=1e-3)


def test_half_cell_starts_at_4p3_V_vs_li():
    pv = params.base_parameter_values(params.get_parameter_set("Chen2020"))
    import pybamm

    ocp = pv["Positive electrode OCP [V]"]
    x = params.PARAMETER_SETS["Chen2020"].half_cell_x_p_charged
    assert float(ocp(pybamm.Scalar(x)).evaluate()) == pytest.approx(4.30, abs=0.002)


def test_half_cell_nmc811_practical_capacity(sim):
    """0.1C, 3.0-4.3 V vs Li: within the published practical range 195-215 mAh/g."""
    cell = cell_from_name("half")
    eps, am = 0.335, 0.665  # Chen2020's positive electrode
    metrics = Metrics(volume_fractions={"pore": eps, "active": am}, specific_surface_area_per_m=3 * am / 5.22e-6,
                      binder_coverage=0.0, tortuosity_factor=eps**-0.5, effective_conductivity_S_per_m=0.18)
    perf = sim.simulate(Electrode(metrics, thickness_m=75.6e-6), cell, ConstantCurrent(0.1))
    assert 195.0 <= perf.capacity_per_g_active_mAh <= 215.0
    assert perf.voltage_V[0] == pytest.approx(4.30, abs=0.02)
    assert perf.extras["reached_cutoff"] == 1.0  # ended at the cut-off or a saturated cathode surface


#: Ank 2023's three-electrode T-cell (supplementary T-cell_pOCV_data.txt, packaged with
#: electroforge-calibrate): 4.22 mAh/cm² discharged at 0.092 mA on 0.942 cm² (~C/43) to 2.90 V.
TCELL_mAh_per_cm2 = 4.221


def _teardown_cell(**kw):
    return cell_from_name("4680", anode_thickness_m=TESLA_4680_ANODE_THICKNESS_IN_CAN_M,
                          lithium_loss_fraction=TESLA_4680_LITHIUM_LOSS_FRACTION, **kw)


@pytest.fixture(scope="module")
def teardown_perf(sim):
    cell = _teardown_cell()
    return sim.layout(tesla_4680_teardown_cathode(), cell), sim.simulate(tesla_4680_teardown_cathode(), cell, ConstantCurrent(0.05))


def test_teardown_electrode_holds_the_tcells_capacity_per_area(sim):
    """With the lithium loss the T-cell's pOCV measures (7.06 %), the teardown's electrodes
    discharged as the T-cell was (C/43 to 2.90 V) deliver its 4.22 mAh/cm² within 3 %; without it
    (the published layers, the neutral cell) they deliver 12 % more (4.71 mAh/cm²; 4.88 at C/20
    to 2.5 V): the capacity the 0.2 model got right only because its electrode area was too small."""
    el = tesla_4680_teardown_cathode()
    protocol = ConstantCurrent(1.0 / 43.0, lower_cutoff_V=2.90)
    for cell, expected, tol in ((_teardown_cell(), TCELL_mAh_per_cm2, 0.03),
                                (cell_from_name("4680", anode_thickness_m=TESLA_4680_ANODE_THICKNESS_M), 4.71, 0.02)):
        perf = sim.simulate(el, cell, protocol)
        per_area = perf.capacity_Ah / sim.layout(el, cell).electrode_area_m2 * 0.1  # Ah/m² -> mAh/cm²
        assert per_area == pytest.approx(expected, rel=tol), (per_area, expected)


def test_4680_teardown_geometry(teardown_perf):
    layout, _ = teardown_perf
    # the teardown's layers with a 111 µm anode in its 2.5-22.25 mm roll: 3.5 m of winding and the
    # measured 0.496 m² of cathode (131 µm would give 3.2 m and 0.454 m²: docs/cell-simulator.md)
    assert 3.4 < layout.winding_length_m < 3.6
    assert layout.electrode_area_m2 == pytest.approx(0.496, rel=0.005)
    assert layout.volume_L == pytest.approx(0.13295, rel=1e-3)
    assert layout.mass_kg == pytest.approx(sum(layout.mass_breakdown_kg.values()))


@pytest.mark.parametrize("figure", ["capacity_Ah", "energy_Wh", "energy_density_Wh_per_L"])
def test_4680_teardown_within_5_percent(teardown_perf, figure):
    """The teardown's electrode design in the 4680 preset with the anode the roll holds and the
    T-cell's lithium loss, at C/20 (near-equilibrium, where the teardown's own 82.7 Wh / 22.65 Ah
    = 3.65 V mean voltage sits): within 5 % of Ank 2023 (-3.6 %, -2.7 %, -2.7 %)."""
    _, perf = teardown_perf
    value = getattr(perf, figure)
    assert value == pytest.approx(TEARDOWN[figure], rel=0.05), (figure, value, TEARDOWN[figure])


def test_4680_teardown_mass_and_specific_energy(teardown_perf):
    """Mass from the teardown's layers plus an estimated can and hardware (docs/cell-simulator.md):
    the model is 6.7 % heavier than the 355 g cell (the housing estimate, 80 g, is the least
    certain part; the thinner anode leaves room for 9 % more of the denser cathode coating), so
    Wh/kg, which also carries the energy's -2.7 %, lands ~9 % low: asserted within the
    documented 8 % (mass) and 10 % (Wh/kg), not the 5 % the other figures meet."""
    layout, perf = teardown_perf
    assert layout.mass_kg * 1e3 == pytest.approx(TEARDOWN["mass_g"], rel=0.08)
    assert perf.specific_energy_Wh_per_kg == pytest.approx(TEARDOWN["specific_energy_Wh_per_kg"], rel=0.10)
    assert perf.energy_Wh / perf.capacity_Ah == pytest.approx(3.65, abs=0.05)  # NMC811/graphite mean voltage
