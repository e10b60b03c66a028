"""Cell formats and cell-level normalisation, shared by every cell simulator (docs/cell-simulator.md).

Per-gram-of-active-material figures reward porous, low-loading electrodes; what a user buys is
energy per cell volume (Wh/L) and per cell mass (Wh/kg). This module turns one positive
electrode (:class:`~electroforge.model.Electrode`) into the *layout* of a cell that contains it:

* :class:`HalfCell` -- a single-sided cathode against a lithium-metal counter electrode, of a given
  electrode area (a coin cell); its headline is mAh per gram of active material. Its volume and
  mass are those of the **electrode stack** (cathode coating + aluminium foil + separator +
  electrolyte in their pores; the lithium foil, spacer, spring and case are excluded), so its
  Wh/L and Wh/kg are stack figures, not cell figures.
* :class:`Cylindrical` -- a wound jelly roll in a cylindrical can; ``Cylindrical.preset("4680")``
  is the 46 mm x 80 mm format. From the layer stack it computes the winding length that fills the
  can's annulus, the electrode area, the graphite anode sized by an N/P capacity ratio, and the
  cell's volume and mass (coatings, foils, separators, electrolyte in every pore, can, hardware).

SI units throughout, unit in every name. Every constant below states its source or assumption.

Mass loading <-> coating thickness (per side)::

    loading = thickness * (1 - porosity) * rho_solid,
    1/rho_solid = w/rho_am + (1-w)/rho_cbd     (w = active mass fraction of the dry coating)

with densities from :mod:`electroforge.materials`. The porosity and, if the electrode does not
give it, ``w`` come from the electrode's metrics (volume fractions of ``pore``, ``active`` and
every other solid phase, which counts as carbon-binder domain).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs

from electroforge.errors import ValidationError
from electroforge.materials import NMC811, CathodeMaterials, am_mass_fraction_from_volumes
from electroforge.model import Electrode, Metrics

#: Practical specific capacity of NMC811 used when a simulator does not supply its own
#: (0.19 Ah/g = 190 Ah/kg; the value of the paper's authors' public cell normaliser,
#: tldr-group ``cell-normaliser``). Simulators pass their parameter set's own value.
NMC811_SPECIFIC_CAPACITY_Ah_per_kg = 190.0


# ------------------------------------------------------------------ electrode coating
def _required(value: float | None, name: str) -> float:
    """An Electrode holds a thickness or a loading (its validator); the other is derived from it."""
    if value is None:
        raise ValidationError(f"electrode: neither thickness_m nor mass_loading_kg_per_m2 is given ({name} needed)")
    return float(value)


def _float_dict(mapping: Mapping[str, float]) -> dict[str, float]:
    return {str(k): float(v) for k, v in mapping.items()}


def _solid_fractions(electrode: Electrode) -> tuple[float, float, float]:
    """(porosity, eps_active, eps_cbd) from the metrics; every non-pore, non-active phase is CBD."""
    vf = electrode.metrics.volume_fractions
    if "pore" not in vf or "active" not in vf:
        raise ValidationError(
            f"Electrode metrics: volume_fractions need 'pore' and 'active' phases, got {sorted(vf)}"
        )
    porosity = vf["pore"]
    eps_am = vf["active"]
    eps_cbd = sum(v for k, v in vf.items() if k not in ("pore", "active"))
    if not 0.0 < porosity < 1.0:
        raise ValidationError(f"Electrode metrics: porosity {porosity!r} must lie in (0, 1)")
    if not eps_am > 0.0:
        raise ValidationError(f"Electrode metrics: active volume fraction {eps_am!r} must be > 0")
    return porosity, eps_am, eps_cbd


def am_mass_fraction(electrode: Electrode, materials: CathodeMaterials = NMC811) -> float:
    """Active share of the dry coating mass: the electrode's own value, else from the metrics."""
    if electrode.am_mass_fraction is not None:
        return float(electrode.am_mass_fraction)
    _, eps_am, eps_cbd = _solid_fractions(electrode)
    return am_mass_fraction_from_volumes(eps_am, eps_cbd, materials)


def solid_density_kg_per_m3(electrode: Electrode, materials: CathodeMaterials = NMC811) -> float:
    """Mean density of the dry coating's solid (active + CBD, mass-weighted harmonic mean)."""
    w = am_mass_fraction(electrode, materials)
    return 1.0 / (w / materials.active_density_kg_per_m3 + (1.0 - w) / materials.cbd_density_kg_per_m3)


def coating_thickness_m(electrode: Electrode, materials: CathodeMaterials = NMC811) -> float:
    """Cathode coating thickness per side (m): given, or from the mass loading."""
    if electrode.thickness_m is not None:
        return float(electrode.thickness_m)
    loading = _required(electrode.mass_loading_kg_per_m2, "mass_loading_kg_per_m2")
    porosity, _, _ = _solid_fractions(electrode)
    return loading / ((1.0 - porosity) * solid_density_kg_per_m3(electrode, materials))


def mass_loading_kg_per_m2(electrode: Electrode, materials: CathodeMaterials = NMC811) -> float:
    """Dry coating mass (active + CBD) per side per area (kg/m²): given, or from the thickness."""
    if electrode.mass_loading_kg_per_m2 is not None:
        return float(electrode.mass_loading_kg_per_m2)
    thickness = _required(electrode.thickness_m, "thickness_m")
    porosity, _, _ = _solid_fractions(electrode)
    return thickness * (1.0 - porosity) * solid_density_kg_per_m3(electrode, materials)


def active_loading_kg_per_m2(electrode: Electrode, materials: CathodeMaterials = NMC811) -> float:
    """Active-material mass per side per area (kg/m²) = mass loading x active mass fraction."""
    return mass_loading_kg_per_m2(electrode, materials) * am_mass_fraction(electrode, materials)


# ------------------------------------------------------------------ layer stack
@attrs.frozen
class AnodeCoating:
    """The graphite negative electrode of a full cell (defaults: Chen2020's LG M50 anode)."""

    porosity: float = 0.25
    """Chen et al. 2020 (PyBaMM ``Chen2020``): negative electrode porosity 0.25."""
    active_volume_fraction: float = 0.75
    """Chen2020: 0.75 (no separate binder phase)."""
    active_density_kg_per_m3: float = 2260.0
    """Graphite crystal density 2.26 g/cm³ (Chen2020's electrode density 1657 kg/m³ / 0.75 = 2209)."""
    specific_capacity_Ah_per_kg: float = 372.0
    """Theoretical LiC6, 372 mAh/g (cell normaliser); used when a simulator gives no own value."""
    coating_density_kg_per_m3: float | None = None
    """Dry coating density (graphite + binder + carbon, kg/m³) when known; ``None``: the graphite
    alone (``active_volume_fraction x active_density``), i.e. a binder-free coating."""

    @property
    def capacity_Ah_per_m3_active(self) -> float:
        return self.active_density_kg_per_m3 * self.specific_capacity_Ah_per_kg

    @property
    def dry_density_kg_per_m3(self) -> float:
        """Mass of dry coating per coating volume (kg/m³)."""
        if self.coating_density_kg_per_m3 is not None:
            return float(self.coating_density_kg_per_m3)
        return self.active_volume_fraction * self.active_density_kg_per_m3


@attrs.frozen
class LayerStack:
    """Foils, separator and electrolyte of a cell (defaults: Chen2020 / cell-normaliser values)."""

    separator_thickness_m: float = 12e-6
    """Chen2020 and the cell normaliser: 12 µm."""
    separator_porosity: float = 0.47
    """Chen2020: 0.47."""
    separator_areal_mass_kg_per_m2: float = 0.0125
    """Cell normaliser: 12.5 g/m² (a ceramic-coated polyolefin film)."""
    al_foil_thickness_m: float = 16e-6
    """Chen2020: 16 µm aluminium (cathode current collector)."""
    al_density_kg_per_m3: float = 2700.0
    cu_foil_thickness_m: float = 12e-6
    """Chen2020: 12 µm copper (anode current collector)."""
    cu_density_kg_per_m3: float = 8960.0
    electrolyte_density_kg_per_m3: float = 1200.0
    """1 M LiPF6 in EC:EMC, ~1.2 g/cm³ (assumption; fills every pore of coatings and separator)."""


# ------------------------------------------------------------------ the Tesla 4680 (first generation)
#: Sources of the 4680 preset, cited field by field in :data:`TESLA_4680`.
ANK2023 = ("Ank et al., J. Electrochem. Soc. 170, 120536 (2023), doi 10.1149/1945-7111/ad14d0 "
           "(teardown of a first-generation Tesla 4680; parameterised as BattMo's "
           "'tesla_4680_before_calibration' set)")

#: The teardown cell's graphite anode (Ank 2023): dry coating density 1.55 g/cm³ of 94 wt%
#: graphite (2.24 g/cm³), 3 wt% carbon black (1.05 g/cm³), 3 wt% CMC binder (1.60 g/cm³), so the
#: graphite fills 1550 x 0.94 / 2240 = 0.650 of the coating, the additives 0.073, the pores 0.276.
TESLA_4680_ANODE = AnodeCoating(porosity=0.276, active_volume_fraction=0.650, active_density_kg_per_m3=2240.0,
                                coating_density_kg_per_m3=1550.0)

#: The teardown cell's foils and separator (Ank 2023): 10 µm aluminium and copper foils, a 10 µm
#: separator of porosity 0.47; separator areal mass 5.4 g/m² = 10 µm x (1 - 0.47) x 1.01 g/cm³
#: (the parameter set's separator density taken as the film's skeletal density); electrolyte
#: density 1129.95 kg/m³, the parameter set's (a carbonate LiPF6 electrolyte is 1.13-1.3 g/cm³;
#: the range moves the cell's mass by ~5 g).
TESLA_4680_STACK = LayerStack(separator_thickness_m=10e-6, separator_porosity=0.47,
                              separator_areal_mass_kg_per_m2=0.0054, al_foil_thickness_m=10e-6,
                              al_density_kg_per_m3=2700.0, cu_foil_thickness_m=10e-6,
                              electrolyte_density_kg_per_m3=1129.95)

#: The teardown cell's cathode as parameterised from Ank 2023 (BattMo set): 87.5 µm per side,
#: coating density 3.32 g/cm³, 95 wt% NMC811; its anode: 131 µm per side (``TESLA_4680_ANODE``).
TESLA_4680_CATHODE_THICKNESS_M = 87.5e-6
TESLA_4680_CATHODE_DENSITY_KG_PER_M3 = 3320.0
TESLA_4680_CATHODE_AM_MASS_FRACTION = 0.95
TESLA_4680_ANODE_THICKNESS_M = 131e-6
#: The anode per side in the can, as the validation uses it: the thickness at which a tight
#: winding of the teardown's layers (cathode 87.5 µm, foils and separators 10 µm) in its measured
#: roll (radii 2.5-22.25 mm, 71 mm coated height) gives its measured cathode area, 0.496 m² (the
#: BattMo set). The published 131 µm cannot: that roll would hold 0.454 m². Which measurement we
#: trust, and why, is in docs/cell-simulator.md ("Validation against the Tesla 4680 teardown").
TESLA_4680_ANODE_THICKNESS_IN_CAN_M = 111e-6
#: Loss of lithium inventory of the teardown's electrodes, fitted by ``electroforge-calibrate``
#: (calibration ``ank2023-tesla-4680``) to the three-electrode T-cell pOCV of Ank 2023's
#: supplementary material: 7.06 % ± 0.48 % (docs/cell-simulator.md).
TESLA_4680_LITHIUM_LOSS_FRACTION = 0.0706
TESLA_4680_PARTICLE_RADIUS_M = 5.22e-6
"""Chen2020's NMC811 particle radius (the parameter set the validation runs on)."""


def tesla_4680_teardown_cathode(materials: CathodeMaterials = NMC811) -> Electrode:
    """The teardown's cathode (Ank 2023) as an :class:`Electrode`, for validating a cell model.

    Volume fractions follow from the coating density and the active mass fraction with
    ``materials``' densities (porosity 0.249 for NMC811); transport is Bruggeman's
    (tortuosity factor = porosity^-0.5), the surface area that of spheres of
    :data:`TESLA_4680_PARTICLE_RADIUS_M`. Put it in ``Cylindrical.preset("4680",
    anode_thickness_m=TESLA_4680_ANODE_THICKNESS_IN_CAN_M,
    lithium_loss_fraction=TESLA_4680_LITHIUM_LOSS_FRACTION)`` to reproduce docs/cell-simulator.md's
    validation table.
    """
    rho, w = TESLA_4680_CATHODE_DENSITY_KG_PER_M3, TESLA_4680_CATHODE_AM_MASS_FRACTION
    eps_am = rho * w / materials.active_density_kg_per_m3
    eps_cbd = rho * (1.0 - w) / materials.cbd_density_kg_per_m3
    eps = 1.0 - eps_am - eps_cbd
    metrics = Metrics(volume_fractions={"pore": eps, "active": eps_am, "binder": eps_cbd},
                      specific_surface_area_per_m=3.0 * eps_am / TESLA_4680_PARTICLE_RADIUS_M,
                      binder_coverage=0.0, tortuosity_factor=eps**-0.5, effective_conductivity_S_per_m=0.18)
    return Electrode(metrics, thickness_m=TESLA_4680_CATHODE_THICKNESS_M, am_mass_fraction=w,
                     particle_radius_m=TESLA_4680_PARTICLE_RADIUS_M)


# ------------------------------------------------------------------ layout (result)
@attrs.frozen
class CellLayout:
    """One electrode fitted into one cell format: geometry, capacity, volume and mass.

    Produced by ``cell.layout(electrode, ...)``; a simulator uses ``electrode_area_m2``,
    ``cathode_thickness_m``, ``anode_thickness_m`` and ``nominal_capacity_Ah`` (1C = this
    capacity in one hour), and normalises results with :meth:`normalise`.
    """

    format_name: str
    kind: str
    """``"half"`` (lithium counter electrode) or ``"full"`` (graphite anode)."""
    cathode_thickness_m: float
    mass_loading_kg_per_m2: float
    am_mass_fraction: float
    electrode_area_m2: float
    """Cathode area facing an anode (both sides counted for a jelly roll)."""
    cathode_areal_capacity_Ah_per_m2: float
    nominal_capacity_Ah: float
    volume_m3: float
    mass_kg: float
    active_mass_kg: float
    anode_thickness_m: float = 0.0
    winding_length_m: float = float("nan")
    repeat_thickness_m: float = float("nan")
    mass_breakdown_kg: Mapping[str, float] = attrs.field(factory=dict, converter=_float_dict)
    lithium_loss_fraction: float = 0.0
    """The cell's loss of lithium inventory (``Cylindrical.lithium_loss_fraction``; 0 for a half
    cell, whose lithium counter electrode is an unlimited reservoir)."""

    @property
    def volume_L(self) -> float:
        return self.volume_m3 * 1e3

    def normalise(self, energy_Wh: float, capacity_Ah: float) -> dict[str, float]:
        """Wh/L, Wh/kg (of this layout's volume and mass) and mAh per gram of active material."""
        return {
            "energy_density_Wh_per_L": energy_Wh / self.volume_L,
            "specific_energy_Wh_per_kg": energy_Wh / self.mass_kg,
            "capacity_per_g_active_mAh": capacity_Ah * 1e3 / (self.active_mass_kg * 1e3),
        }


def _cathode_numbers(electrode: Electrode, materials: CathodeMaterials,
                     cathode_capacity_Ah_per_m3: float | None) -> tuple[float, float, float, float, float]:
    """(thickness, loading, w, porosity, areal capacity) of the cathode coating, per side."""
    porosity, eps_am, _ = _solid_fractions(electrode)
    thickness = coating_thickness_m(electrode, materials)
    loading = mass_loading_kg_per_m2(electrode, materials)
    w = am_mass_fraction(electrode, materials)
    if cathode_capacity_Ah_per_m3 is None:
        cathode_capacity_Ah_per_m3 = materials.active_density_kg_per_m3 * NMC811_SPECIFIC_CAPACITY_Ah_per_kg
    # capacity sits in the active volume the microstructure shows (its eps_am)
    areal = eps_am * thickness * cathode_capacity_Ah_per_m3
    return thickness, loading, w, porosity, areal


# ------------------------------------------------------------------ formats
@attrs.frozen
class HalfCell:
    """A single-sided cathode against lithium metal (a coin cell), normalised per gram of active.

    Default area: a 15 mm diameter disc (1.767 cm²), the common CR2032 cathode punch.
    Volume/mass basis: the electrode stack (coating + Al foil + separator + electrolyte in their
    pores), documented in the module docstring; the lithium foil and the can are excluded.
    """

    area_m2: float = math.pi * 0.0075**2
    stack: LayerStack = LayerStack()
    name: str = "half"
    kind: str = "half"

    def __attrs_post_init__(self):
        if not (math.isfinite(self.area_m2) and self.area_m2 > 0):
            raise ValidationError(f"HalfCell.area_m2={self.area_m2!r}: must be a finite number > 0")

    def layout(self, electrode: Electrode, materials: CathodeMaterials = NMC811,
               cathode_capacity_Ah_per_m3: float | None = None, **_: Any) -> CellLayout:
        """Fit ``electrode`` (one side) into this half cell; see :class:`CellLayout`."""
        L, loading, w, porosity, areal = _cathode_numbers(electrode, materials, cathode_capacity_Ah_per_m3)
        s = self.stack
        A = self.area_m2
        masses = {
            "cathode_coating": A * loading,
            "al_foil": A * s.al_foil_thickness_m * s.al_density_kg_per_m3,
            "separator": A * s.separator_areal_mass_kg_per_m2,
            "electrolyte": s.electrolyte_density_kg_per_m3 * A * (
                L * porosity + s.separator_thickness_m * s.separator_porosity),
        }
        return CellLayout(
            format_name=self.name, kind="half", cathode_thickness_m=L, mass_loading_kg_per_m2=loading,
            am_mass_fraction=w, electrode_area_m2=A, cathode_areal_capacity_Ah_per_m2=areal,
            nominal_capacity_Ah=areal * A,
            volume_m3=A * (L + s.al_foil_thickness_m + s.separator_thickness_m),
            mass_kg=sum(masses.values()), active_mass_kg=A * loading * w, mass_breakdown_kg=masses,
        )


#: Named cylindrical formats: keyword arguments of :class:`Cylindrical`.
CYLINDRICAL_PRESETS: dict[str, dict[str, Any]] = {
    # Tesla 4680, first generation. Every number is cited in docs/cell-simulator.md ("The 4680").
    "4680": dict(
        can_diameter_m=0.046, can_height_m=0.080,      # the format's name: 46 mm x 80 mm
        can_wall_m=0.0006,                             # 0.6 mm steel wall (teardowns, Ank 2023)
        can_end_m=0.0006,                              # bottom and lid discs: as the wall (assumption)
        jelly_roll_diameter_m=0.0445,                  # roll outer radius 22.25 mm (Ank 2023)
        core_diameter_m=0.005,                         # central hole radius 2.5 mm (Ank 2023)
        electrode_height_m=0.071,                      # coated cathode height 71 mm (Ank 2023)
        anode_overhang_width_m=0.001,                  # anode 1 mm wider per edge (assumption, typical 0.5-2 mm)
        anode_overhang_length_m=0.02,                  # anode 10 mm longer at each end (assumption)
        separator_overhang_width_m=0.001,              # separator 1 mm beyond the anode per edge (assumption)
        foil_edge_m=0.0025,                            # uncoated tabless foil edge per foil (fits the 78.8 mm inner height)
        collector_plates_mass_kg=0.006,                # Al + Ni-plated steel plates, 44 mm discs (estimate)
        hardware_mass_kg=0.005,                        # terminal rivet, seals, insulators, vent (estimate)
        electrolyte_excess_fraction=0.0,               # pores only (no published fill; real cells carry 5-15 % excess)
        np_ratio=1.1,                                  # for designed cathodes; the teardown's own anode: TESLA_4680_ANODE
        anode=TESLA_4680_ANODE, stack=TESLA_4680_STACK,
    ),
    # 21700 (LG M50, the cell Chen2020 was fitted to): 21 mm x 70 mm, ~0.25 mm wall.
    "21700": dict(can_diameter_m=0.021, can_height_m=0.070, can_wall_m=0.00025, headspace_m=0.006,
                  hardware_mass_kg=0.004),
}


def _nonneg(instance, attribute, value):
    if not (math.isfinite(value) and value >= 0):
        raise ValidationError(f"Cylindrical.{attribute.name}={value!r}: must be a finite number >= 0")


#: Largest loss of lithium inventory a cell format accepts (formation typically costs 5-15 %).
MAX_LITHIUM_LOSS_FRACTION = 0.5


def _lithium_loss(instance, attribute, value):
    if not (isinstance(value, (int, float)) and math.isfinite(value) and 0.0 <= value <= MAX_LITHIUM_LOSS_FRACTION):
        raise ValidationError(f"Cylindrical.{attribute.name}={value!r}: must lie in [0, {MAX_LITHIUM_LOSS_FRACTION:g}]")


def _optional_positive(instance, attribute, value):
    if value is not None and not (math.isfinite(value) and value > 0):
        raise ValidationError(f"Cylindrical.{attribute.name}={value!r}: must be a finite number > 0 (or None)")


@attrs.frozen
class Cylindrical:
    """A jelly roll wound into a cylindrical can.

    Geometry: the roll fills the annulus between a central hole of ``core_diameter_m`` and a roll
    diameter ``jelly_roll_diameter_m`` (default: the can's inner diameter, a tight fit). Repeat
    unit of the winding::

        2 x cathode coating + Al foil + 2 x anode coating + Cu foil + 2 x separator

    The winding length (of the anode, the longest electrode) is the arc length of the Archimedean
    spiral through the annulus; the cathode is ``anode_overhang_length_m`` shorter and
    ``2 x anode_overhang_width_m`` narrower than the anode, so that every cathode area faces
    anode. Cathode coated height ``electrode_height_m`` (default: can height - 2 x wall -
    ``headspace_m``); electrode area = 2 x cathode length x cathode height (both sides of the foil).

    The anode coating per side holds ``np_ratio`` x the cathode's capacity per area, unless
    ``anode_thickness_m`` fixes it (a teardown's measured anode).

    Lithium inventory: ``lithium_loss_fraction`` (LLI, 0 by default) is the share of the cyclable
    lithium the cell lost before use (SEI formation), with PyBaMM's definition of the loss of
    lithium inventory, 1 - Q_Li / Q_Li,0, where Q_Li is the lithium held by both electrodes'
    particles and Q_Li,0 that of the neutral cell, whose anode at full charge holds exactly the
    cathode's window. With LLI > 0 the anode runs empty first (an anode-limited cell, as real
    graphite cells are); a simulator balances the electrodes for it (the ``pybamm`` plugin with
    PyBaMM's electrode state-of-health solver, docs/cell-simulator.md).

    Volume = the can's outer cylinder. Mass = cathode and anode coatings (the anode over its whole
    area, overhang included) + foils (coated area + an uncoated ``foil_edge_m`` strip: the tabless
    collector flags) + two separators (``separator_overhang_width_m`` beyond the anode) +
    electrolyte in every pore x (1 + ``electrolyte_excess_fraction``) + steel can (wall
    ``can_wall_m``, bottom and lid ``can_end_m``) + ``collector_plates_mass_kg`` +
    ``hardware_mass_kg``. :meth:`layout` returns the mass breakdown.
    """

    can_diameter_m: float = 0.046
    can_height_m: float = 0.080
    can_wall_m: float = 0.0006
    core_diameter_m: float = 0.002
    """Central hole left by the winding pin (generic default 2 mm; the 4680 preset: 5 mm)."""
    headspace_m: float = 0.008
    """Axial height without coating when ``electrode_height_m`` is None (generic: 10% of 80 mm)."""
    can_density_kg_per_m3: float = 7900.0
    """Nickel-plated steel."""
    hardware_mass_kg: float = 0.010
    """Terminal, cap, insulators, vent (generic assumption, ~3% of a 355 g 4680)."""
    np_ratio: float = 1.1
    """Anode / cathode capacity per area (1.1 is typical of graphite cells)."""
    anode: AnodeCoating = AnodeCoating()
    stack: LayerStack = LayerStack()
    name: str = "cylindrical"
    kind: str = "full"
    jelly_roll_diameter_m: float | None = attrs.field(default=None, validator=_optional_positive)
    """Outer diameter of the wound roll; None: the can's inner diameter."""
    electrode_height_m: float | None = attrs.field(default=None, validator=_optional_positive)
    """Coated height of the cathode; None: can height - 2 x wall - headspace."""
    anode_overhang_width_m: float = attrs.field(default=0.0, validator=_nonneg)
    anode_overhang_length_m: float = attrs.field(default=0.0, validator=_nonneg)
    separator_overhang_width_m: float = attrs.field(default=0.0, validator=_nonneg)
    foil_edge_m: float = attrs.field(default=0.0, validator=_nonneg)
    can_end_m: float | None = attrs.field(default=None, validator=_optional_positive)
    """Thickness of the can's bottom and lid discs; None: ``can_wall_m``."""
    collector_plates_mass_kg: float = attrs.field(default=0.0, validator=_nonneg)
    electrolyte_excess_fraction: float = attrs.field(default=0.0, validator=_nonneg)
    anode_thickness_m: float | None = attrs.field(default=None, validator=_optional_positive)
    """Anode coating per side, fixed (e.g. a teardown's); None: sized by ``np_ratio``."""
    lithium_loss_fraction: float = attrs.field(default=0.0, validator=_lithium_loss)
    """Loss of lithium inventory (-, in [0, 0.5]): see the class docstring; 0 = the neutral cell."""

    def __attrs_post_init__(self):
        for field in ("can_diameter_m", "can_height_m", "can_wall_m", "can_density_kg_per_m3", "np_ratio"):
            v = getattr(self, field)
            if not (math.isfinite(v) and v > 0):
                raise ValidationError(f"Cylindrical.{field}={v!r}: must be a finite number > 0")
        if self.roll_diameter_m > self.inner_diameter_m:
            raise ValidationError(
                f"Cylindrical.jelly_roll_diameter_m={self.jelly_roll_diameter_m!r}: larger than the can's inner "
                f"diameter {self.inner_diameter_m:g} m")
        if self.core_diameter_m < 0 or self.core_diameter_m >= self.roll_diameter_m:
            raise ValidationError(
                f"Cylindrical.core_diameter_m={self.core_diameter_m!r}: must lie in [0, roll diameter "
                f"{self.roll_diameter_m:g} m)")
        if self.coated_height_m <= 0 or self.can_height_m - 2.0 * self.can_wall_m - self.headspace_m <= 0:
            raise ValidationError(
                f"Cylindrical.headspace_m={self.headspace_m!r}: leaves no coated height in a "
                f"{self.can_height_m:g} m can")
        inner_height = self.can_height_m - 2.0 * self.end_thickness_m
        if self.separator_height_m > inner_height:
            raise ValidationError(
                f"Cylindrical.electrode_height_m={self.electrode_height_m!r}: with its overhangs the roll is "
                f"{self.separator_height_m * 1e3:.1f} mm high, more than the can's inner {inner_height * 1e3:.1f} mm")

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> Cylindrical:
        """A named format (``"4680"``, ``"21700"``) with optional field overrides."""
        if name not in CYLINDRICAL_PRESETS:
            raise ValidationError(f"cylindrical format {name!r}: unknown; known: {', '.join(CYLINDRICAL_PRESETS)}")
        fields = {f.name for f in attrs.fields(cls)}
        for key in overrides:
            if key not in fields:
                raise ValidationError(f"cylindrical format {name!r}: unknown option {key!r}; "
                                      f"known: {', '.join(sorted(fields - {'name', 'kind'}))}")
        return cls(**{**CYLINDRICAL_PRESETS[name], "name": name, **overrides})

    # geometry of the can -------------------------------------------------------
    @property
    def inner_diameter_m(self) -> float:
        return self.can_diameter_m - 2.0 * self.can_wall_m

    @property
    def roll_diameter_m(self) -> float:
        return self.inner_diameter_m if self.jelly_roll_diameter_m is None else float(self.jelly_roll_diameter_m)

    @property
    def end_thickness_m(self) -> float:
        return self.can_wall_m if self.can_end_m is None else float(self.can_end_m)

    @property
    def annulus_area_m2(self) -> float:
        """Cross-section available to the jelly roll (m²)."""
        return math.pi / 4.0 * (self.roll_diameter_m**2 - self.core_diameter_m**2)

    @property
    def coated_height_m(self) -> float:
        """Coated height of the cathode (m)."""
        if self.electrode_height_m is not None:
            return float(self.electrode_height_m)
        return self.can_height_m - 2.0 * self.can_wall_m - self.headspace_m

    @property
    def anode_height_m(self) -> float:
        return self.coated_height_m + 2.0 * self.anode_overhang_width_m

    @property
    def separator_height_m(self) -> float:
        return self.anode_height_m + 2.0 * self.separator_overhang_width_m

    @property
    def volume_m3(self) -> float:
        """Outer volume of the can (a 4680: 0.133 L)."""
        return math.pi / 4.0 * self.can_diameter_m**2 * self.can_height_m

    @property
    def can_mass_kg(self) -> float:
        """Steel of the side wall and of the bottom and lid discs."""
        r_o, r_i = self.can_diameter_m / 2.0, self.inner_diameter_m / 2.0
        t_end = self.end_thickness_m
        wall = math.pi * (r_o**2 - r_i**2) * (self.can_height_m - 2.0 * t_end)
        ends = 2.0 * math.pi * r_o**2 * t_end
        return (wall + ends) * self.can_density_kg_per_m3

    def repeat_thickness_m(self, cathode_thickness_m: float, anode_thickness_m: float) -> float:
        s = self.stack
        return (2.0 * cathode_thickness_m + s.al_foil_thickness_m + 2.0 * anode_thickness_m
                + s.cu_foil_thickness_m + 2.0 * s.separator_thickness_m)

    def winding_length_m(self, repeat_thickness_m: float) -> float:
        """Length of the jelly roll: arc length of the Archimedean spiral r = r_core + b·θ.

        One turn adds one repeat thickness to the radius (b = repeat / 2π); the spiral runs from
        the core to the roll's outer radius. Its length is (1/b)∫ sqrt(r² + b²) dr over
        [r_core, r_roll], which equals annulus area / repeat thickness to within (b/r)², i.e. far
        better than 0.1%.
        """
        if not (math.isfinite(repeat_thickness_m) and repeat_thickness_m > 0):
            raise ValidationError(f"repeat thickness {repeat_thickness_m!r} m: must be a finite number > 0")
        r0, r1 = self.core_diameter_m / 2.0, self.roll_diameter_m / 2.0
        if repeat_thickness_m > r1 - r0:
            raise ValidationError(
                f"{self.name}: one winding repeat of {repeat_thickness_m * 1e6:.0f} µm does not fit the "
                f"{(r1 - r0) * 1e3:.1f} mm annulus")
        b = repeat_thickness_m / (2.0 * math.pi)

        def F(r: float) -> float:  # antiderivative of sqrt(r² + b²)
            q = math.hypot(r, b)
            return 0.5 * (r * q + b * b * math.log(r + q))

        return (F(r1) - F(r0)) / b

    def sized_anode_thickness_m(self, cathode_areal_capacity_Ah_per_m2: float,
                                anode_capacity_Ah_per_m3: float | None = None) -> float:
        """Anode coating per side: the fixed ``anode_thickness_m``, else ``np_ratio`` x the cathode's
        capacity per area over the anode's capacity per m³ of coating."""
        if self.anode_thickness_m is not None:
            return float(self.anode_thickness_m)
        cap = self.anode.capacity_Ah_per_m3_active if anode_capacity_Ah_per_m3 is None else anode_capacity_Ah_per_m3
        return self.np_ratio * cathode_areal_capacity_Ah_per_m2 / (self.anode.active_volume_fraction * cap)

    def layout(self, electrode: Electrode, materials: CathodeMaterials = NMC811,
               cathode_capacity_Ah_per_m3: float | None = None,
               anode_capacity_Ah_per_m3: float | None = None) -> CellLayout:
        """Wind ``electrode`` (coated on both sides) into this can; see :class:`CellLayout`.

        ``cathode_capacity_Ah_per_m3`` / ``anode_capacity_Ah_per_m3``: usable capacity per m³ of
        active material (a simulator passes its parameter set's; defaults: 190 mAh/g NMC811 and
        372 mAh/g graphite at their densities).
        """
        L, loading, w, porosity, areal = _cathode_numbers(electrode, materials, cathode_capacity_Ah_per_m3)
        L_n = self.sized_anode_thickness_m(areal, anode_capacity_Ah_per_m3)
        repeat = self.repeat_thickness_m(L, L_n)
        length = self.winding_length_m(repeat)  # the anode's, the longest electrode
        cathode_length = length - self.anode_overhang_length_m
        if cathode_length <= 0:
            raise ValidationError(
                f"{self.name}: the {length:.3f} m winding is shorter than the anode overhang "
                f"{self.anode_overhang_length_m:g} m")
        h, h_n, h_s = self.coated_height_m, self.anode_height_m, self.separator_height_m
        area = 2.0 * cathode_length * h
        anode_area = 2.0 * length * h_n
        separator_area = 2.0 * length * h_s  # two sheets
        s, an = self.stack, self.anode
        pore_volume = (area * L * porosity + anode_area * L_n * an.porosity
                       + separator_area * s.separator_thickness_m * s.separator_porosity)
        masses = {
            "cathode_coating": area * loading,
            "anode_coating": anode_area * L_n * an.dry_density_kg_per_m3,
            "al_foil": cathode_length * (h + self.foil_edge_m) * s.al_foil_thickness_m * s.al_density_kg_per_m3,
            "cu_foil": length * (h_n + self.foil_edge_m) * s.cu_foil_thickness_m * s.cu_density_kg_per_m3,
            "separator": separator_area * s.separator_areal_mass_kg_per_m2,
            "electrolyte": s.electrolyte_density_kg_per_m3 * pore_volume * (1.0 + self.electrolyte_excess_fraction),
            "can": self.can_mass_kg,
            "collector_plates": self.collector_plates_mass_kg,
            "hardware": self.hardware_mass_kg,
        }
        return CellLayout(
            format_name=self.name, kind="full", cathode_thickness_m=L, mass_loading_kg_per_m2=loading,
            am_mass_fraction=w, electrode_area_m2=area, cathode_areal_capacity_Ah_per_m2=areal,
            nominal_capacity_Ah=areal * area, volume_m3=self.volume_m3, mass_kg=sum(masses.values()),
            active_mass_kg=area * loading * w, anode_thickness_m=L_n, winding_length_m=length,
            repeat_thickness_m=repeat, mass_breakdown_kg=masses,
            lithium_loss_fraction=float(self.lithium_loss_fraction),
        )


def mass_breakdown_kg(extras: Mapping[str, float]) -> dict[str, float]:
    """The cell's mass by part (kg) from a Performance's ``mass_<part>_kg`` extras (a simulator
    that uses :class:`CellLayout` reports them; empty if it does not)."""
    return {k[5:-3]: float(v) for k, v in extras.items()
            if k.startswith("mass_") and k.endswith("_kg") and k != "mass_loading_kg_per_m2"}


CellFormat = HalfCell | Cylindrical

#: Names accepted by :func:`cell_from_name` (the CLI's ``--cell``).
CELL_NAMES = ("half", *CYLINDRICAL_PRESETS)


def cell_from_name(name: str, **overrides: Any) -> CellFormat:
    """``"half"`` -> :class:`HalfCell`; ``"4680"`` / ``"21700"`` -> :meth:`Cylindrical.preset`."""
    key = str(name).strip().lower()
    if key in ("half", "halfcell", "half-cell", "coin"):
        fields = {f.name for f in attrs.fields(HalfCell)} - {"name", "kind"}
        for option in overrides:
            if option == "lithium_loss_fraction":
                raise ValidationError(f"cell {name!r}: lithium_loss_fraction applies to full cells; a half cell's "
                                      "lithium counter electrode is an unlimited reservoir")
            if option not in fields:
                raise ValidationError(f"cell {name!r}: unknown option {option!r}; known: {', '.join(sorted(fields))}")
        return HalfCell(**overrides)
    if key in CYLINDRICAL_PRESETS:
        return Cylindrical.preset(key, **overrides)
    raise ValidationError(f"cell {name!r}: unknown; choose one of {', '.join(CELL_NAMES)}")
