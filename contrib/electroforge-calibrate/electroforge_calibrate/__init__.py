"""electroforge-calibrate: sim-to-real calibration of the PyBaMM cell simulator (an electroforge plugin).

Registers the cell simulator ``pybamm-calibrated`` (:mod:`electroforge_calibrate.simulator`):
the built-in ``pybamm`` simulator with a tortuosity multiplier, a contact resistance and an
exchange-current factor, read from a calibration JSON that :func:`electroforge_calibrate.fit.fit_calibration`
(or the ``electroforge-calibrate fit`` command) fits to measured discharge curves of a built cell,
and with the electrode balance (lithium loss, cathode and anode capacity factors) that
:func:`electroforge_calibrate.balance.fit_balance` fits to its pOCV curves
(:mod:`electroforge_calibrate.pocv`; the Tesla 4680 teardown's T-cell is packaged).

Importing this module is cheap: pybamm and scipy load on first use.
"""
from __future__ import annotations

import electroforge

__all__ = ["register_cell_simulators"]


@electroforge.hookimpl
def register_cell_simulators():
    from electroforge_calibrate.simulator import CalibratedPyBaMMSimulator

    return [CalibratedPyBaMMSimulator]
