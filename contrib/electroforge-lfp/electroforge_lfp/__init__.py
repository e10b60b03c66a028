"""electroforge-lfp: an LFP/graphite cell simulator for electroforge (a plugin distribution).

Registers the cell simulator ``pybamm-lfp`` (:mod:`electroforge_lfp.simulator`): PyBaMM on the
Prada2013 LFP/graphite parameter set with LFP densities and cut-offs, so a campaign switches
chemistry with ``[simulator] name = "pybamm-lfp"`` and no change to the core.
Importing this module is cheap: pybamm loads on the first simulation.
"""
from __future__ import annotations

import electroforge

__all__ = ["register_cell_simulators"]


@electroforge.hookimpl
def register_cell_simulators():
    from electroforge_lfp.simulator import LFPSimulator

    return [LFPSimulator]
