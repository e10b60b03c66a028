"""Material constants and the mass-fraction -> volume-fraction conversion used by every stage.

Values (documented choices, SI):

* NMC811 bulk density 4.75 g/cm³ (crystallographic ~4.8; DESIGN.md quotes 4.7-4.8).
* Carbon-binder domain (CBD: carbon black + PVDF, including its own nano-porosity as an
  effective solid) 1.9 g/cm³ (DESIGN.md: 1.8-2.0).
* Intrinsic electronic conductivities: NMC811 0.18 S/m (Chen2020's positive electrode value),
  CBD 10 S/m (DESIGN.md: CBD ~10-100 S/m; we take the low end, a conservative carbon network).
"""
from __future__ import annotations

import attrs

from electroforge.errors import ValidationError


@attrs.frozen
class CathodeMaterials:
    """Densities (kg/m³) and intrinsic conductivities (S/m) of the cathode's solid phases."""

    active_density_kg_per_m3: float = 4750.0
    cbd_density_kg_per_m3: float = 1900.0
    active_conductivity_S_per_m: float = 0.18
    cbd_conductivity_S_per_m: float = 10.0
    name: str = "NMC811"


NMC811 = CathodeMaterials()


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
