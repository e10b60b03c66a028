"""Lithium inventory and electrode balance in the cell model (docs/cell-simulator.md,
"Lithium inventory and electrode balance"): neutral values reproduce the model without them, a
loss of lithium makes the cell anode-limited through PyBaMM's electrode state-of-health solver,
and out-of-range values are one-line errors naming the parameter."""
from __future__ import annotations

import math

import pytest

from electroforge.cells import Cylindrical, cell_from_name, tesla_4680_teardown_cathode
from electroforge.errors import PluginError, ValidationError
from electroforge.model import ConstantCurrent

pytest.importorskip("pybamm")
from electroforge.plugins.pybamm import parameters as params  # noqa: E402
from electroforge.plugins.pybamm.simulator import PyBaMMSimulator  # noqa: E402


@pytest.fixture(scope="module")
def sim():
    return PyBaMMSimulator()


def _cell(**kw):
    return cell_from_name("4680", anode_thickness_m=131e-6, **kw)


@pytest.fixture(scope="module")
def neutral(sim):
    return sim.simulate(tesla_4680_teardown_cathode(), _cell(), ConstantCurrent(0.05))


def test_neutral_values_reproduce_the_model_without_them(sim, neutral):
    """LLI 0 and the parameter set's own windows: the same discharge, sample for sample, and the
    figure the 0.2 validation table documents (22.14 Ah at C/20 for the published layers)."""
    el = tesla_4680_teardown_cathode()
    explicit = sim.simulate(el, _cell(lithium_loss_fraction=0.0), ConstantCurrent(0.05))
    own = params.PARAMETER_SETS["Chen2020"]
    windowed = PyBaMMSimulator(positive_window=(own.x_p_charged, own.x_p_discharged),
                               negative_window=(own.x_n_discharged, own.x_n_charged))
    same = windowed.simulate(el, _cell(), ConstantCurrent(0.05))
    assert neutral.capacity_Ah == pytest.approx(22.14, abs=0.01)
    for perf in (explicit, same):
        assert perf.capacity_Ah == neutral.capacity_Ah and perf.energy_Wh == neutral.energy_Wh
        assert list(perf.voltage_V) == list(neutral.voltage_V)


def test_lithium_loss_makes_the_cell_anode_limited(sim, neutral):
    """Less cyclable lithium: less capacity, in proportion (each percent of the particles'
    lithium is ~1.4 % of the delivered charge here), and the anode starts less full. A loss
    of almost nothing is the neutral cell to within the set's windows' distance from the
    4.2 V / 2.5 V state PyBaMM's solver balances (< 1 %)."""
    el = tesla_4680_teardown_cathode()
    tiny = sim.simulate(el, _cell(lithium_loss_fraction=1e-6), ConstantCurrent(0.05))
    assert tiny.capacity_Ah == pytest.approx(neutral.capacity_Ah, rel=0.01)
    caps = [sim.simulate(el, _cell(lithium_loss_fraction=f), ConstantCurrent(0.05)).capacity_Ah for f in (0.05, 0.10)]
    assert tiny.capacity_Ah > caps[0] > caps[1]
    # the lost lithium is lost from the cycled charge: Q_Li,0 x LLI (Q_Li,0 ~ 1.42 x the delivered charge)
    for f, cap in zip((0.05, 0.10), caps):
        assert (tiny.capacity_Ah - cap) / tiny.capacity_Ah == pytest.approx(1.4 * f, rel=0.25)


def test_balanced_state_holds_less_lithium_in_the_anode(sim):
    el = tesla_4680_teardown_cathode()
    cell = _cell()
    layout = sim.layout(el, cell)
    inputs = sim.inputs(el, layout, ConstantCurrent(0.05), half=False)
    np_ratio = layout.anode_thickness_m * cell.anode.active_volume_fraction * sim._capacities[1] / \
        layout.cathode_areal_capacity_Ah_per_m2
    geometry = dict(half_cell=False, drive="current", cathode_thickness_m=layout.cathode_thickness_m,
                    particle_radius_m=el.particle_radius_m, area_m2=layout.electrode_area_m2,
                    nominal_capacity_Ah=layout.nominal_capacity_Ah, anode_thickness_m=layout.anode_thickness_m,
                    np_ratio=np_ratio, separator=cell.stack, materials=sim.materials, anode=cell.anode)
    pset = sim.parameter_set_facts
    neutral = params.parameter_values(pset, **geometry)
    lost = params.parameter_values(pset, **geometry, lithium_loss_fraction=0.1, esoh_inputs=inputs)
    key = "Initial concentration in negative electrode [mol.m-3]"
    assert float(lost[key]) < 0.95 * float(neutral[key])
    # charged to the same 4.2 V: the cathode gives up more of its lithium to make up (a lower x_p)
    key_p = "Initial concentration in positive electrode [mol.m-3]"
    assert float(lost[key_p]) < float(neutral[key_p])


@pytest.mark.parametrize("value", [-0.01, 0.6, math.nan, "a"])
def test_lithium_loss_out_of_range_is_a_one_line_error(value):
    with pytest.raises(ValidationError, match=r"Cylindrical\.lithium_loss_fraction=.*must lie in \[0, 0\.5\]") as err:
        Cylindrical.preset("4680", lithium_loss_fraction=value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("kwargs, match", [
    ({"positive_window": (0.9, 0.2)}, r"positive_window=\(0\.9, 0\.2\) must satisfy 0 <= low < high <= 1"),
    ({"negative_window": (0.0, 1.2)}, r"negative_window=\(0, 1\.2\) must satisfy"),
    ({"positive_window": "wide"}, r"positive_window='wide' must be two numbers"),
])
def test_window_out_of_range_is_a_one_line_error(kwargs, match):
    with pytest.raises(PluginError, match=match):
        PyBaMMSimulator(**kwargs)


def test_a_half_cell_has_no_lithium_inventory_to_lose():
    with pytest.raises(ValidationError, match="lithium_loss_fraction applies to full cells"):
        cell_from_name("half", lithium_loss_fraction=0.05)
    with pytest.raises(ValidationError, match="unknown option 'wall'; known: area_m2, stack"):
        cell_from_name("half", wall=1.0)
