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

Values come from a calibration JSON written by :mod:`electroforge_calibrate.fit` (``calibration``
= its path) or directly from the options (an explicit option overrides the file's value). With no
corrections (1, 0, 1) the voltages equal the built-in simulator's.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from electroforge.errors import PluginError
from electroforge.plugins.pybamm.parameters import P
from electroforge.plugins.pybamm.simulator import PyBaMMSimulator

from electroforge_calibrate.store import Calibration, load_calibration

CONTACT_RESISTANCE = "Contact resistance [Ohm]"
TAU = P + "tortuosity factor (electrolyte)"
AREA = P + "target surface area to volume ratio [m-1]"

#: The correction parameters: name -> (neutral value, physical lower bound, upper bound).
CORRECTIONS: dict[str, tuple[float, float, float]] = {
    "tortuosity_multiplier": (1.0, 0.2, 20.0),
    "contact_resistance_Ohm_m2": (0.0, 0.0, 1.0),
    "exchange_current_factor": (1.0, 1e-3, 1e3),
}


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
                 **pybamm_options: Any):
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
                    "exchange_current_factor": exchange_current_factor}
        values.update({k: v for k, v in explicit.items() if v is not None})
        self.corrections = check_corrections(values)
        super().__init__(**pybamm_options)

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
        """Change corrections in place (no rebuild: all three are solver inputs); used by the fitter."""
        self.corrections = {**self.corrections, **check_corrections(values)}

    # ------------------------------------------------------------ extension points of PyBaMMSimulator
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
