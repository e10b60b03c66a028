"""Built-in cell simulator ``pybamm``: PyBaMM's DFN (or SPMe) on the Chen2020 NMC811/graphite set.

The module only registers the component; pybamm itself is imported on the first simulation
(it takes seconds), so ``electroforge plugins`` stays fast. See
:mod:`electroforge.plugins.pybamm.simulator` for the contract and docs/cell-simulator.md.
"""
from __future__ import annotations

import electroforge


@electroforge.hookimpl
def register_cell_simulators():
    from electroforge.plugins.pybamm.simulator import PyBaMMSimulator

    return [PyBaMMSimulator]
