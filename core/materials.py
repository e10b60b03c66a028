"""Material constants and the mass-fraction -> volume-fraction conversion used by every stage.

Values (documented choices, SI):

* NMC811 (LiNi0.8Mn0.1Co0.1O2) bulk density 4.75 g/cm³ (crystallographic density from the
  layered R-3m cell, ~4.75-4.8 g/cm³) and molar mass 97.28 g/mol (6.94 + 0.8 x 58.69 +
  0.1 x 54.94 + 0.1 x 58.93 + 2 x 16.00). Together they fix how much lithium a cubic metre of
  NMC811 can host: c_max = rho / M = 48.8 kmol/m³, i.e. F / M = 275.5 mAh/g per unit of
  stoichiometry. A cell simulator uses this c_max so that the capacity per gram, per volume and
  the mass it reports describe one material (see docs/cell-simulator.md).
* Carbon-binder domain (CBD: carbon black + PVDF, including its own nano-porosity as an
  effective solid) 1.9 g/cm³ (carbon black ~1.8-2.0, PVDF 1.78 g/cm³).
* Intrinsic electronic conductivities: NMC811 0.18 S/m (Chen2020's positive electrode value),
  CBD 10 S/m (CBD networks measure ~10-100 S/m; we take the low end, a conservative network).
"""
from __future__ import annotations

import attrs

from electroforge.errors import ValidationError

FARADAY_C_per_mol = 96485.33212


@attrs.frozen
class CathodeMaterials:
    """Densities (kg/m³) and intrinsic conductivities (S/m) of the cathode's solid phases."""

    active_density_kg_per_m3: float = 4750.0
    cbd_density_kg_per_m3: float = 1900.0
    active_conductivity_S_per_m: float = 0.18
    cbd_conductivity_S_per_m: float = 10.0
    name: str = "NMC811"
    active_molar_mass_kg_per_mol: float | None = None
    """Molar mass of the lithiated active material (one Li per formula unit); ``None`` if unknown,
    in which case a simulator keeps its parameter set's own maximum concentration."""

    @property
    def max_concentration_mol_per_m3(self) -> float | None:
        """Lithium sites per volume of active material, rho / M (mol/m³); None without a molar mass."""
        if self.active_molar_mass_kg_per_mol is None:
            return None
        return self.active_density_kg_per_m3 / self.active_molar_mass_kg_per_mol

    @property
    def theoretical_capacity_Ah_per_kg(self) -> float | None:
        """F / M: one lithium per formula unit (NMC811: 275.5 Ah/kg); None without a molar mass."""
        if self.active_molar_mass_kg_per_mol is None:
            return None
        return FARADAY_C_per_mol / 3600.0 / self.active_molar_mass_kg_per_mol


NMC811 = CathodeMaterials(active_molar_mass_kg_per_mol=0.09728)


def solid_volume_fractions(
    am_mass_fraction: float, porosity: float, materials: CathodeMaterials = NMC811
) -> tuple[float, float]:
    """Return ``(eps_active, eps_cbd)`` for a dry mass fraction of active material and a porosity.

    ``eps_am = (1 - porosity) * (w/rho_am) / (w/rho_am + (1-w)/rho_cbd)`` with w = am_mass_fraction;
    ``eps_cbd = 1 - porosity - eps_am``.
    """
    w = float(am_mass_fraction)
    if not 0.0 < w <= 1.0:
        raise ValidationError(f"am_mass_fraction={w!r}: must lie in (0, 1]")
    if not 0.0 <= porosity < 1.0:
        raise ValidationError(f"porosity={porosity!r}: must lie in [0, 1)")
    v_am = w / materials.active_density_kg_per_m3
    v_cbd = (1.0 - w) / materials.cbd_density_kg_per_m3
    eps_am = (1.0 - porosity) * v_am / (v_am + v_cbd)
    return eps_am, (1.0 - porosity) - eps_am


def am_mass_fraction_from_volumes(eps_active: float, eps_cbd: float, materials: CathodeMaterials = NMC811) -> float:
    """Inverse of :func:`solid_volume_fractions`: the dry mass fraction of active material."""
    m_am = eps_active * materials.active_density_kg_per_m3
    m_cbd = eps_cbd * materials.cbd_density_kg_per_m3
    return m_am / (m_am + m_cbd) if (m_am + m_cbd) > 0 else float("nan")
