"""The ``pybamm-lfp`` cell simulator: the built-in PyBaMM DFN on an LFP/graphite parameter set.

Contract: ``LFPSimulator(**options).simulate(electrode, cell, protocol) -> Performance``, exactly
the built-in ``pybamm`` simulator's contract (:mod:`electroforge.plugins.pybamm.simulator`: half
cell or cylindrical full cell, constant current or power, one-line ``EvaluationError`` on a bad
design), with the chemistry swapped:

* parameter set **Prada2013** (PyBaMM; A123 26650 LFP/graphite) and its stoichiometry windows
  (:data:`electroforge_lfp.materials.PRADA2013`): 1C is the design's LFP capacity;
* cut-offs 2.0 V (full cell) / 2.5 V vs Li (half cell) by default;
* LFP densities for loading <-> thickness and the cell mass (:data:`electroforge_lfp.materials.LFP`);
* particles: LFP is a nano-powder (Prada2013: 50 nm radius, D_s = 5.9e-18 m²/s). The solid
  diffusion length is ``particle_radius_m`` (option, default 50 nm), *not* the electrode's
  ``particle_radius_m`` (which describes the µm agglomerates a microstructure image shows; with
  D_s = 5.9e-18 m²/s a 5 µm particle would need ~50 days to fill);
* reactive area (option ``reactive_area``): ``"particles"`` (default) takes 3 eps_am / R of the
  primaries, x (1 - binder coverage) when ``area_correction``: the metrics' specific surface area
  is the agglomerates' outer surface, ~100x smaller than the primaries' surface the electrolyte
  wets inside them; ``"metrics"`` uses the metrics' area as the built-in simulator does.

Everything else (tortuosity factor, porosity, active fraction, sigma_eff from the metrics) enters
as in the built-in simulator. No change to the core: the class subclasses the built-in one.
"""
from __future__ import annotations

from typing import Any

import attrs

from electroforge.errors import PluginError
from electroforge.plugins.pybamm.parameters import P
from electroforge.plugins.pybamm.simulator import PyBaMMSimulator

from electroforge_lfp.materials import (
    LFP,
    PRADA2013,
    PRADA2013_ANODE_ACTIVE_FRACTION,
    PRADA2013_ANODE_POROSITY,
    PRADA2013_PARTICLE_RADIUS_M,
)

AREA = P + "target surface area to volume ratio [m-1]"
REACTIVE_AREAS = ("particles", "metrics")


def prada_anode(cell):
    """A full cell whose graphite anode has Prada2013's porosity and active fraction (0.36, 0.58).

    The cell layout sizes the anode thickness from its active fraction (N/P); PyBaMM's Prada2013
    anode must hold the same fraction, or the anode would carry 0.58 / 0.75 of the intended
    capacity and end the discharge early. Cells without an anode (half cells) pass unchanged.
    """
    anode = getattr(cell, "anode", None)
    if anode is None:
        return cell
    return attrs.evolve(cell, anode=attrs.evolve(anode, porosity=PRADA2013_ANODE_POROSITY,
                                                 active_volume_fraction=PRADA2013_ANODE_ACTIVE_FRACTION))


class LFPSimulator(PyBaMMSimulator):
    """PyBaMM DFN/SPMe on Prada2013 (LFP/graphite); options as ``pybamm`` plus the two below.

    Options:
        particle_radius_m: LFP primary-particle radius (5e-8 m, Prada2013).
        reactive_area: ``"particles"`` (default) or ``"metrics"`` (see the module docstring).
        model, rtol, atol, npts, cache_size, area_correction: as the ``pybamm`` simulator.
    """

    name = "pybamm-lfp"
    materials = LFP

    def __init__(self, particle_radius_m: float = PRADA2013_PARTICLE_RADIUS_M, reactive_area: str = "particles",
                 **pybamm_options: Any):
        if "parameter_set" in pybamm_options and pybamm_options["parameter_set"] != PRADA2013.name:
            raise PluginError(f"cell simulator {self.name!r}: parameter_set is {PRADA2013.name!r} "
                              f"(got {pybamm_options['parameter_set']!r})")
        pybamm_options.pop("parameter_set", None)
        try:
            radius = float(particle_radius_m)
        except (TypeError, ValueError):
            raise PluginError(f"cell simulator {self.name!r}: particle_radius_m={particle_radius_m!r} is not a number") from None
        if not 1e-8 <= radius <= 5e-6:
            raise PluginError(f"cell simulator {self.name!r}: particle_radius_m={radius:g} is outside [1e-8, 5e-6] m")
        if reactive_area not in REACTIVE_AREAS:
            raise PluginError(f"cell simulator {self.name!r}: reactive_area={reactive_area!r} is not one of "
                              f"{', '.join(REACTIVE_AREAS)}")
        self.particle_radius_m = radius
        self.reactive_area = reactive_area
        super().__init__(parameter_set=PRADA2013, **pybamm_options)

    def inputs(self, electrode, layout, protocol, half: bool) -> dict[str, float]:
        inputs = super().inputs(electrode, layout, protocol, half)
        if self.reactive_area == "particles":
            coverage = float(electrode.metrics.binder_coverage) if self.area_correction else 0.0
            eps_am = inputs[P + "active material volume fraction"]
            inputs[AREA] = 3.0 * eps_am / self.particle_radius_m * (1.0 - coverage)
        return inputs

    def simulate(self, electrode, cell, protocol):
        electrode = attrs.evolve(electrode, particle_radius_m=self.particle_radius_m, material="LFP")
        cell = prada_anode(cell)
        return super().simulate(electrode, cell, protocol)  # errors name this component (self.name)
