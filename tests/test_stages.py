"""Explicit data between stages: parameters routed by their declared stage, the generator's
particle radius reaching the simulator, one percolation test, one list of metric fields."""

from __future__ import annotations

import math

import numpy as np
import pytest

from electroforge import Metrics, Microstructure
from electroforge.config import config_from_dict
from electroforge.errors import InputFileError, ValidationError
from electroforge.model import PORE_NOT_PERCOLATING, SOLID_NOT_PERCOLATING
from electroforge.pipeline import Components, electrode_from_params, evaluate_design
from electroforge.registry import get_registry
from electroforge.store import METRIC_FIELDS

from test_campaign import FakePlugin


def _cfg(design, fixed=None, **extra):
    return config_from_dict(
        {
            "name": "s",
            "design": design,
            "fixed": fixed or {},
            "protocols": ["1C"],
            "objective": "energy_Wh",
            "generator": {"name": "fakegen", "shape": 8},
            "characterizer": {"name": "fakechar"},
            "simulator": {"name": "fakesim"},
            "cell": {"format": "half"},
            "optimizer": {"name": "sobol"},
            **extra,
        }
    )


def test_parameters_are_routed_by_their_declared_stage():
    cfg = _cfg({"x": [0, 1], "mass_loading_mg_per_cm2": {"bounds": [10, 30], "stage": "cell"}}, fixed={"y": 0.5})
    params = {"x": 0.2, "mass_loading_mg_per_cm2": 15.0}
    assert cfg.stage_of("x") == "generator" and cfg.stage_of("mass_loading_mg_per_cm2") == "cell"
    assert cfg.generator_params(params) == {"y": 0.5, "x": 0.2}
    assert cfg.cell_params(params) == {"mass_loading_mg_per_cm2": 15.0}
    assert cfg.space["mass_loading_mg_per_cm2"].stage == "cell"


def test_a_cell_stage_parameter_the_cell_cannot_take_is_refused():
    with pytest.raises(InputFileError, match=r"design\.x has stage 'cell', but the cell stage takes only"):
        _cfg({"x": {"bounds": [0, 1], "stage": "cell"}})


def test_the_generators_particle_radius_reaches_the_electrode():
    m = Metrics({"pore": 0.4, "active": 0.5, "binder": 0.1}, 1e5, 0.1, 1.5, 0.1)
    assert electrode_from_params(m, {}, {}, particle_radius_m=2.9e-6).particle_radius_m == 2.9e-6
    # a cell-stage parameter wins; no information leaves the default
    assert electrode_from_params(m, {"particle_radius_um": 4.0}, {}, particle_radius_m=2.9e-6).particle_radius_m == 4e-6
    assert electrode_from_params(m, {}, {}).particle_radius_m == 5.22e-6


def test_evaluate_design_passes_the_radius_to_the_simulator():
    seen = []

    class RadiusGen:
        name = "fakegen"
        parameters = {"x": (0.0, 1.0), "y": (0.0, 1.0)}

        def generate(self, params, shape, seed):
            return Microstructure(
                np.zeros((4, 4, 4), np.uint8), 1e-6, metadata={"params": dict(params)}, particle_radius_m=3.3e-6
            )

    from test_campaign import FakeChar, FakeSim

    class Sim(FakeSim):
        def simulate(self, electrode, cell, protocol):
            seen.append(electrode.particle_radius_m)
            return super().simulate(electrode, cell, protocol)

    cfg = _cfg({"x": [0, 1], "y": [0, 1]})
    comps = Components.from_config(cfg, get_registry(autoload=False, plugins=[("fake", FakePlugin())]))
    comps.generator, comps.characterizer, comps.simulator = RadiusGen(), FakeChar(), Sim()
    ev = evaluate_design({"x": 0.3, "y": 0.7}, comps, cfg)
    assert ev.ok and seen == [3.3e-6]


def test_procedural_reports_the_sauter_mean_radius_of_its_particles():
    from electroforge.plugins.procedural import ProceduralGenerator

    gen = ProceduralGenerator(particle_diameter_sigma=0.0)
    assert gen.particle_radius_m == pytest.approx(2.5e-6)  # monodisperse 5 µm spheres
    ms = ProceduralGenerator().generate({}, (16, 16, 16), 0)
    assert 2.5e-6 < ms.particle_radius_m < 3.5e-6  # log-normal: r32 = median * exp(2.5 sigma^2) = 2.92 µm


def test_microstructure_particle_radius_is_validated():
    with pytest.raises(ValidationError, match=r"Microstructure\.particle_radius_m=-1\.0"):
        Microstructure(np.zeros((2, 2, 2), np.uint8), 1e-6, particle_radius_m=-1.0)
    assert Microstructure(np.zeros((2, 2, 2), np.uint8), 1e-6).particle_radius_m is None


def test_one_percolation_test():
    ok = Metrics({"pore": 0.4, "active": 0.6}, 1e5, 0.0, 1.5, 0.1)
    assert ok.failure_reason == "" and ok.percolating
    pores = Metrics({"pore": 0.4, "active": 0.6}, 1e5, 0.0, math.inf, 0.1)
    assert pores.failure_reason == PORE_NOT_PERCOLATING and not pores.percolating
    solid = Metrics({"pore": 0.4, "active": 0.6}, 1e5, 0.0, 1.5, 0.0)
    assert solid.failure_reason == SOLID_NOT_PERCOLATING
    from electroforge.characterization import failure_reason

    assert failure_reason(pores) == PORE_NOT_PERCOLATING


def test_one_list_of_metric_fields():
    assert METRIC_FIELDS[: len(Metrics.SCALARS)] == Metrics.SCALARS
    m = Metrics({"pore": 0.4, "active": 0.6}, 1e5, 0.0, 1.5, 0.1)
    assert set(Metrics.SCALARS) <= set(m.to_dict())
