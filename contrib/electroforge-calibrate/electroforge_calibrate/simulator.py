"""The ``pybamm-calibrated`` cell simulator: the built-in ``pybamm`` simulator plus sim-to-real corrections.

Contract: ``CalibratedPyBaMMSimulator(calibration=None, tortuosity_multiplier=None,
contact_resistance_Ohm_m2=None, exchange_current_factor=None, **pybamm_options)`` is a
:class:`electroforge.plugins.pybamm.simulator.PyBaMMSimulator` (same ``simulate(electrode, cell,
protocol) -> Performance``, same options, same failures) whose physics carries three corrections:

* ``tortuosity_multiplier`` k_tau (-): the electrolyte tortuosity factor used is k_tau x the
  metrics' tau (an image misses sub-voxel CBD pores, so measured cells are usually more tortuous
  than their images, k_tau > 1);
* ``contact_resistance_Ohm_m2`` R_c (Ohm m², per electrode area): a series resistance between
  the cathode and its current collector (PyBaMM option ``"contact resistance": "true"``, parameter
  ``"Contact resistance [Ohm]"`` = R_c / electrode area, an ``[input]`` so no rebuild is needed);
* ``exchange_current_factor`` k_j0 (-): multiplies the positive exchange-current density (the
  built-in plugin already scales j0 by a_target / (3 eps_am / R); k_j0 multiplies a_target).

and three corrections of the electrode balance, fitted to a cell's near-equilibrium (pOCV) curves
by :mod:`electroforge_calibrate.balance`:

* ``lithium_loss_fraction`` LLI (-): loss of lithium inventory; replaces the cell format's own
  ``Cylindrical.lithium_loss_fraction`` when not 0 (the built-in plugin then balances the
  electrodes with PyBaMM's electrode state-of-health solver);
* ``cathode_capacity_factor`` k_p (-): lithium the cathode's active material hosts per volume,
  relative to the material's rho / M (c_max,p x k_p; < 1: part of the active material is
  inaccessible or the coating lighter than its nominal loading);
* ``anode_capacity_factor`` k_n (-): the anode's capacity per area relative to the cell
  format's (its fixed ``anode_thickness_m`` x k_n, or its ``np_ratio`` x k_n; the coating's
  density is kept, so in a wound cell the roll's volume then sets a longer or shorter winding).

Values come from a calibration JSON written by :mod:`electroforge_calibrate.fit` (``calibration``
= its path) or directly from the options (an explicit option overrides the file's value). With no
corrections (1, 0, 1, 0, 1, 1) the voltages equal the built-in simulator's.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs

from electroforge.cells import Cylindrical
from electroforge.errors import PluginError
from electroforge.plugins.pybamm.parameters import P
from electroforge.plugins.pybamm.simulator import PyBaMMSimulator

from electroforge_calibrate.store import Calibration, load_calibration

CONTACT_RESISTANCE = "Contact resistance [Ohm]"
TAU = P + "tortuosity factor (electrolyte)"
AREA = P + "target surface area to volume ratio [m-1]"
#: Electrode potentials vs a lithium reference (phi_s - phi_e), cathode and anode.
ELECTRODE_POTENTIALS = ("X-averaged positive electrode surface potential difference [V]",
                        "X-averaged negative electrode surface potential difference [V]")

#: The correction parameters: name -> (neutral value, physical lower bound, upper bound).
CORRECTIONS: dict[str, tuple[float, float, float]] = {
    "tortuosity_multiplier": (1.0, 0.2, 20.0),
    "contact_resistance_Ohm_m2": (0.0, 0.0, 1.0),
    "exchange_current_factor": (1.0, 1e-3, 1e3),
    "lithium_loss_fraction": (0.0, 0.0, 0.5),
    "cathode_capacity_factor": (1.0, 0.5, 1.5),
    "anode_capacity_factor": (1.0, 0.3, 3.0),
}
#: The corrections of the electrode balance (fitted to pOCV curves, :mod:`electroforge_calibrate.balance`).
BALANCE = ("lithium_loss_fraction", "cathode_capacity_factor", "anode_capacity_factor")


def check_corrections(values: Mapping[str, float], who: str = "cell simulator 'pybamm-calibrated'") -> dict[str, float]:
    """Validate correction values (names and physical ranges); returns floats. One-line errors."""
    out = {}
    for key, value in values.items():
        if key not in CORRECTIONS:
            raise PluginError(f"{who}: unknown correction {key!r}; known: {', '.join(CORRECTIONS)}")
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise PluginError(f"{who}: {key}={value!r} is not a number") from None
        _, lo, hi = CORRECTIONS[key]
        if not (math.isfinite(v) and lo <= v <= hi):
            raise PluginError(f"{who}: {key}={v:g} is outside [{lo:g}, {hi:g}]")
        out[key] = v
    return out


class CalibratedPyBaMMSimulator(PyBaMMSimulator):
    """The ``pybamm`` simulator with a tortuosity multiplier, a contact resistance and a j0 factor."""

    name = "pybamm-calibrated"

    def __init__(self, calibration: str | None = None, tortuosity_multiplier: float | None = None,
                 contact_resistance_Ohm_m2: float | None = None, exchange_current_factor: float | None = None,
                 lithium_loss_fraction: float | None = None, cathode_capacity_factor: float | None = None,
                 anode_capacity_factor: float | None = None, **pybamm_options: Any):
        self.calibration = calibration
        cal: Calibration | None = load_calibration(calibration) if calibration else None
        values = {k: default for k, (default, _, _) in CORRECTIONS.items()}
        if cal is not None:
            values.update(cal.parameters)
            for key in ("model", "parameter_set"):  # the model the calibration was fitted with
                if key in cal.simulator and key not in pybamm_options:
                    pybamm_options[key] = cal.simulator[key]
        explicit = {"tortuosity_multiplier": tortuosity_multiplier,
                    "contact_resistance_Ohm_m2": contact_resistance_Ohm_m2,
                    "exchange_current_factor": exchange_current_factor,
                    "lithium_loss_fraction": lithium_loss_fraction,
                    "cathode_capacity_factor": cathode_capacity_factor,
                    "anode_capacity_factor": anode_capacity_factor}
        values.update({k: v for k, v in explicit.items() if v is not None})
        self.corrections = check_corrections(values)
        super().__init__(**pybamm_options)
        self._apply_cathode_factor()

    def _apply_cathode_factor(self) -> None:
        """c_max,p x k_p through the material's molar mass (c_max = rho / M); drops stale builds."""
        base = type(self).materials
        k_p = self.corrections["cathode_capacity_factor"]
        if k_p != 1.0 and base.active_molar_mass_kg_per_mol is None:
            raise PluginError(f"cell simulator {self.name!r}: cathode_capacity_factor needs a material with a "
                              f"molar mass ({base.name} has none)")
        self.materials = base if k_p == 1.0 else attrs.evolve(
            base, active_molar_mass_kg_per_mol=base.active_molar_mass_kg_per_mol / k_p)
        self._capacities = None
        self._sims.clear()

    @property
    def tortuosity_multiplier(self) -> float:
        return self.corrections["tortuosity_multiplier"]

    @property
    def contact_resistance_Ohm_m2(self) -> float:
        return self.corrections["contact_resistance_Ohm_m2"]

    @property
    def exchange_current_factor(self) -> float:
        return self.corrections["exchange_current_factor"]

    def with_corrections(self, **values: float) -> None:
        """Change corrections in place; used by the fitters. The three transport and kinetic
        corrections are solver inputs (no rebuild); the balance ones change the layout or the
        parameter values, so they select (or build) another simulation."""
        new = check_corrections(values)
        changed_cathode = new.get("cathode_capacity_factor", self.cathode_capacity_factor) != self.cathode_capacity_factor
        self.corrections = {**self.corrections, **new}
        if changed_cathode:
            self._apply_cathode_factor()

    @property
    def lithium_loss_fraction(self) -> float:
        return self.corrections["lithium_loss_fraction"]

    @property
    def cathode_capacity_factor(self) -> float:
        return self.corrections["cathode_capacity_factor"]

    @property
    def anode_capacity_factor(self) -> float:
        return self.corrections["anode_capacity_factor"]

    def calibrated_cell(self, cell):
        """The cell format with the balance corrections applied (a half cell is returned as is:
        its lithium counter electrode has no inventory to lose and no capacity to scale)."""
        if not isinstance(cell, Cylindrical):
            return cell
        changes: dict[str, float] = {}
        if self.lithium_loss_fraction != 0.0:
            changes["lithium_loss_fraction"] = self.lithium_loss_fraction
        k_n = self.anode_capacity_factor
        if k_n != 1.0:
            if cell.anode_thickness_m is not None:
                changes["anode_thickness_m"] = cell.anode_thickness_m * k_n
            else:
                changes["np_ratio"] = cell.np_ratio * k_n
        return attrs.evolve(cell, **changes) if changes else cell

    def layout(self, electrode, cell):
        """The built-in layout of :meth:`calibrated_cell` (the simulation uses this layout)."""
        return super().layout(electrode, self.calibrated_cell(cell))

    # ------------------------------------------------------------ extension points of PyBaMMSimulator
    def output_variables(self, half: bool) -> list[str]:
        """The built-in variables plus, in a full cell, both electrodes' potentials against a
        lithium reference in the electrolyte (phi_s - phi_e, averaged over each electrode): what a
        three-electrode cell measures (used by :func:`electroforge_calibrate.synthetic.synthetic_pocv`)."""
        return [*super().output_variables(half), *(() if half else ELECTRODE_POTENTIALS)]

    def model_options(self, half: bool, drive: str) -> dict[str, str]:
        return {**super().model_options(half, drive), "contact resistance": "true"}

    def parameter_values(self, **geometry: Any):
        pv = super().parameter_values(**geometry)
        pv.update({CONTACT_RESISTANCE: "[input]"}, check_already_exists=False)
        return pv

    def inputs(self, electrode, layout, protocol, half: bool) -> dict[str, float]:
        """The built-in inputs (validated) with the corrections applied."""
        inputs = super().inputs(electrode, layout, protocol, half)
        inputs[TAU] = inputs[TAU] * self.tortuosity_multiplier
        inputs[AREA] = inputs[AREA] * self.exchange_current_factor
        inputs[CONTACT_RESISTANCE] = self.contact_resistance_Ohm_m2 / layout.electrode_area_m2
        return inputs
