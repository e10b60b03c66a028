"""Cell formats (electroforge.cells): layer-stack geometry, loading <-> thickness, normalisation."""
from __future__ import annotations

import math

import pytest

from electroforge.cells import (
    Cylindrical,
    HalfCell,
    active_loading_kg_per_m2,
    cell_from_name,
    coating_thickness_m,
    mass_loading_kg_per_m2,
    tesla_4680_teardown_cathode,
)
from electroforge.errors import ValidationError
from electroforge.materials import NMC811
from electroforge.model import Electrode, Metrics


def _metrics(porosity=0.33, active=0.60):
    return Metrics(volume_fractions={"pore": porosity, "active": active, "binder": 1 - porosity - active},
                   specific_surface_area_per_m=4e5, binder_coverage=0.2, tortuosity_factor=2.4,
                   effective_conductivity_S_per_m=0.14)


def test_4680_can_volume_is_0133_L():
    cell = Cylindrical.preset("4680")
    assert cell.volume_m3 * 1e3 == pytest.approx(0.133, abs=0.001)


@pytest.mark.parametrize("thickness_um", [40.0, 80.0, 160.0])
def test_jelly_roll_length_times_repeat_equals_annulus(thickness_um):
    cell = Cylindrical.preset("4680")
    layout = cell.layout(Electrode(_metrics(), thickness_m=thickness_um * 1e-6))
    # the spiral's arc length, integrated exactly, against the annulus / repeat-unit estimate
    assert layout.winding_length_m * layout.repeat_thickness_m == pytest.approx(cell.annulus_area_m2, rel=0.01)
    # the cathode is shorter than the anode (the winding's length) by the anode's length overhang
    cathode_length = layout.winding_length_m - cell.anode_overhang_length_m
    assert layout.electrode_area_m2 == pytest.approx(2 * cathode_length * cell.coated_height_m)
    # repeat unit: 2 cathode + Al + 2 anode + Cu + 2 separators
    s = cell.stack
    expected = (2 * thickness_um * 1e-6 + s.al_foil_thickness_m + 2 * layout.anode_thickness_m
                + s.cu_foil_thickness_m + 2 * s.separator_thickness_m)
    assert layout.repeat_thickness_m == pytest.approx(expected)


def test_anode_sized_by_np_ratio():
    cell = Cylindrical.preset("4680", np_ratio=1.2)
    layout = cell.layout(Electrode(_metrics(), thickness_m=80e-6), cathode_capacity_Ah_per_m3=1.0e6,
                         anode_capacity_Ah_per_m3=7.5e5)
    anode_areal = layout.anode_thickness_m * cell.anode.active_volume_fraction * 7.5e5
    assert anode_areal / layout.cathode_areal_capacity_Ah_per_m2 == pytest.approx(1.2)


def test_loading_thickness_round_trip_and_density():
    m = _metrics(porosity=0.35, active=0.58)
    e = Electrode(m, mass_loading_kg_per_m2=0.2)  # 20 mg/cm²
    L = coating_thickness_m(e)
    # solid mass per area = sum over solid phases of eps_i * rho_i * L
    solid = (0.58 * NMC811.active_density_kg_per_m3 + 0.07 * NMC811.cbd_density_kg_per_m3) * L
    assert solid == pytest.approx(0.2, rel=1e-9)
    assert 50e-6 < L < 80e-6  # 20 mg/cm² of NMC811 at 35% porosity is a ~60 µm coating
    back = Electrode(m, thickness_m=L)
    assert mass_loading_kg_per_m2(back) == pytest.approx(0.2)
    assert active_loading_kg_per_m2(back) < 0.2


def test_given_am_mass_fraction_wins_over_volume_fractions():
    e = Electrode(_metrics(), mass_loading_kg_per_m2=0.2, am_mass_fraction=0.9)
    assert active_loading_kg_per_m2(e) == pytest.approx(0.18)


def test_thicker_electrodes_put_more_active_material_in_the_can():
    cell = Cylindrical.preset("4680")
    thin = cell.layout(Electrode(_metrics(), thickness_m=40e-6))
    thick = cell.layout(Electrode(_metrics(), thickness_m=120e-6))
    assert thick.winding_length_m < thin.winding_length_m
    # less foil and separator per cathode (+14 % with the teardown's 10 µm foils and separator)
    assert thick.active_mass_kg > thin.active_mass_kg * 1.1
    assert thick.nominal_capacity_Ah > thin.nominal_capacity_Ah
    assert thick.mass_breakdown_kg["separator"] < thin.mass_breakdown_kg["separator"]
    for lay in (thin, thick):
        assert lay.mass_kg == pytest.approx(sum(lay.mass_breakdown_kg.values()))
        assert 0.2 < lay.mass_kg < 0.5  # a 4680 weighs ~355 g (Ank et al. 2023)


def test_half_cell_stack_basis_and_per_gram():
    cell = HalfCell(area_m2=1e-4)
    lay = cell.layout(Electrode(_metrics(), thickness_m=80e-6), cathode_capacity_Ah_per_m3=1.0e6)
    assert lay.kind == "half" and lay.nominal_capacity_Ah == pytest.approx(0.60 * 80e-6 * 1e-4 * 1.0e6)
    assert lay.volume_m3 == pytest.approx(1e-4 * (80e-6 + 16e-6 + 12e-6))
    norm = lay.normalise(energy_Wh=1e-3, capacity_Ah=2e-3)
    assert norm["capacity_per_g_active_mAh"] == pytest.approx(2.0 / (lay.active_mass_kg * 1e3))


def test_cell_from_name():
    assert isinstance(cell_from_name("half"), HalfCell)
    c = cell_from_name("4680", core_diameter_m=0.004)
    assert c.name == "4680" and c.core_diameter_m == 0.004
    with pytest.raises(ValidationError, match="cell '18650x'"):
        cell_from_name("18650x")


@pytest.mark.parametrize("kwargs, culprit", [
    (dict(can_wall_m=-1e-3), "can_wall_m"),
    (dict(core_diameter_m=0.05), "core_diameter_m"),
    (dict(headspace_m=0.09), "headspace_m"),
])
def test_bad_cylinder_names_the_field(kwargs, culprit):
    with pytest.raises(ValidationError, match=culprit):
        Cylindrical.preset("4680", **kwargs)


def test_repeat_thicker_than_annulus_is_a_clear_error():
    cell = Cylindrical(can_diameter_m=0.003, can_height_m=0.01, can_wall_m=1e-4, core_diameter_m=0.0, headspace_m=0.0)
    with pytest.raises(ValidationError, match="does not fit"):
        cell.layout(Electrode(_metrics(), thickness_m=1e-3))
    assert math.isfinite(cell.annulus_area_m2)


def test_4680_preset_is_the_published_geometry():
    """Ank et al. 2023 (BattMo's Ank2023 set): roll radii 2.5 / 22.25 mm, 71 mm coated height."""
    cell = Cylindrical.preset("4680")
    assert cell.core_diameter_m == pytest.approx(0.005)
    assert cell.roll_diameter_m == pytest.approx(0.0445)
    assert cell.coated_height_m == pytest.approx(0.071)
    assert cell.anode_height_m > cell.coated_height_m  # the anode overhangs the cathode
    assert cell.separator_height_m <= cell.can_height_m - 2 * cell.end_thickness_m


def test_fixed_anode_thickness_and_overhang_masses():
    cell = Cylindrical.preset("4680", anode_thickness_m=131e-6)
    lay = cell.layout(Electrode(_metrics(), thickness_m=80e-6), cathode_capacity_Ah_per_m3=1.0e6)
    assert lay.anode_thickness_m == pytest.approx(131e-6)
    # the anode coating covers its own (larger) area: length x anode height, both sides
    anode_area = 2 * lay.winding_length_m * cell.anode_height_m
    assert anode_area > lay.electrode_area_m2
    assert lay.mass_breakdown_kg["anode_coating"] == pytest.approx(anode_area * 131e-6 * cell.anode.dry_density_kg_per_m3)
    assert set(lay.mass_breakdown_kg) >= {"can", "collector_plates", "hardware", "electrolyte"}


def test_teardown_cathode_is_the_published_coating():
    """87.5 µm at 3.32 g/cm³ (Ank 2023): loading = density x thickness, porosity ~0.25."""
    el = tesla_4680_teardown_cathode()
    assert mass_loading_kg_per_m2(el) == pytest.approx(3320.0 * 87.5e-6, rel=1e-9)
    assert el.metrics.volume_fractions["pore"] == pytest.approx(0.249, abs=0.002)


def test_4680_mass_sensitivities_move_the_right_way():
    """What scripts/cell_sensitivity.py tabulates: a thinner can wall lightens the cell at the
    same winding; a thinner anode lengthens the winding in the same roll (more area, more
    capacity); electrolyte beyond the pores adds exactly its share."""
    el = tesla_4680_teardown_cathode()

    def lay(**kw):
        return Cylindrical.preset("4680", **{"anode_thickness_m": 131e-6, **kw}).layout(el)

    base = lay()
    thin_can = lay(can_wall_m=0.0005, can_end_m=0.0006)
    assert thin_can.mass_kg < base.mass_kg
    assert thin_can.winding_length_m == pytest.approx(base.winding_length_m)  # the roll's size is fixed
    thin_anode = lay(anode_thickness_m=117e-6)
    assert thin_anode.winding_length_m > base.winding_length_m
    assert thin_anode.nominal_capacity_Ah > base.nominal_capacity_Ah
    wet = lay(electrolyte_excess_fraction=0.1)
    assert wet.mass_kg - base.mass_kg == pytest.approx(0.1 * base.mass_breakdown_kg["electrolyte"])


def test_preset_rejects_unknown_option():
    with pytest.raises(ValidationError, match="unknown option 'wall'"):
        Cylindrical.preset("4680", wall=0.001)


def test_roll_wider_than_can_is_an_error():
    with pytest.raises(ValidationError, match="jelly_roll_diameter_m"):
        Cylindrical.preset("4680", jelly_roll_diameter_m=0.046)
