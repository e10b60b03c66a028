"""LFP (LiFePO4) material constants and the Prada2013 parameter-set facts (SI; every value sourced).

* Density: LiFePO4 crystal 3.6 g/cm³ (olivine, 3.57-3.60 g/cm³; Padhi et al., JES 144 (1997) 1188).
* Electronic conductivity: **bulk** LiFePO4 is a poor conductor, ~1e-9 S/m (1e-9..1e-7 S/m
  reported; Chung, Bloking & Chiang, Nat. Mater. 1 (2002) 123). Commercial LFP is carbon-coated
  nano-powder; a coated particle network conducts ~1e-3..1e-1 S/m. We use **1e-2 S/m** as the
  active phase's conductivity in a characterizer (option ``active_conductivity_S_per_m``) and
  keep the bulk value for reference. The CBD (10 S/m, electroforge's value) still dominates sigma_eff.
* Practical capacity: theoretical 170 mAh/g; PyBaMM's Prada2013 c_max = 22806 mol/m³ at
  3.6 g/cm³ gives 169.8 mAh/g, i.e. the same number.
* Primary particles: Prada2013 (A123 26650 LFP/graphite; Prada et al., JES 160 (2013) A616):
  radius 50 nm, solid diffusivity 5.9e-18 m²/s. Tomography at 0.3-0.8 µm voxels resolves
  agglomerates, not these primaries (see :mod:`electroforge_lfp.simulator`).
"""
from __future__ import annotations

from electroforge.materials import NMC811, CathodeMaterials
from electroforge.plugins.pybamm.parameters import ParameterSet

LFP_BULK_CONDUCTIVITY_S_PER_M = 1e-9
LFP_COATED_CONDUCTIVITY_S_PER_M = 1e-2
PRADA2013_PARTICLE_RADIUS_M = 5e-8
#: Prada2013's graphite anode (the full cell's anode must match PyBaMM's parameter values).
PRADA2013_ANODE_POROSITY = 0.36
PRADA2013_ANODE_ACTIVE_FRACTION = 0.58

#: LFP cathode solids: LiFePO4 (carbon-coated) + electroforge's carbon-binder domain.
LFP = CathodeMaterials(active_density_kg_per_m3=3600.0, cbd_density_kg_per_m3=NMC811.cbd_density_kg_per_m3,
                       active_conductivity_S_per_m=LFP_COATED_CONDUCTIVITY_S_PER_M,
                       cbd_conductivity_S_per_m=NMC811.cbd_conductivity_S_per_m, name="LFP",
                       # LiFePO4 157.76 g/mol: rho / M = 22.8 kmol/m³, Prada2013's own c_max (22806)
                       active_molar_mass_kg_per_mol=0.15776)

#: PyBaMM's ``Prada2013`` with the stoichiometry windows electroforge needs.
#: x_p 0.0038 (Prada2013's initial, charged state: 86.66 / 22806 mol/m³) -> 0.97, where the LFP
#: OCP leaves its 3.40 V plateau (3.02 V); graphite x_n 0.81 (Prada2013's initial) -> 0.02.
#: Cut-offs: LFP/graphite 2.0-3.65 V (A123 data sheets: 2.0 V discharge, 3.6-3.65 V charge);
#: half cell 2.5-4.0 V vs Li (a common LFP coin-cell window; the charged cathode sits at 3.69 V).
PRADA2013 = ParameterSet(
    name="Prada2013", x_p_charged=86.6628 / 22806.0, x_p_discharged=0.97, x_n_discharged=0.02, x_n_charged=0.81,
    lower_cutoff_V=2.0, upper_cutoff_V=3.65, half_cell_lower_cutoff_V=2.5, half_cell_upper_cutoff_V=4.0,
    citation="Prada et al., J. Electrochem. Soc. 160, A616 (2013), A123 26650 LFP/graphite",
)
