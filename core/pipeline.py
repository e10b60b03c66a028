"""Evaluate one design: generator -> characterizer -> cell simulator(s) -> objective.

Also the small parsing and checking helpers that the CLI and campaigns share.
"""
from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from electroforge.components import CellSimulator, Characterizer, Generator, supports_uncertainty
from electroforge.errors import EvaluationError, ValidationError
from electroforge.model import (
    PORE_NOT_PERCOLATING,
    SOLID_NOT_PERCOLATING,
    STATUS_FAILED,
    STATUS_OK,
    ConstantCurrent,
    ConstantPower,
    Electrode,
    Evaluation,
    Metrics,
    protocol_from_string,
)
from electroforge.registry import one_line
from electroforge.rve import characterize_to_target


def parse_assignments(items: Iterable[str], what: str = "--param") -> dict[str, float]:
    """``["porosity=0.35", "am_mass_fraction=0.9"]`` -> dict of floats; errors name the item."""
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = str(item).partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValidationError(f"{what} {item!r}: expected NAME=VALUE")
        try:
            v = float(value)
        except ValueError:
            raise ValidationError(f"{what} {item!r}: {value!r} is not a number") from None
        if not math.isfinite(v):
            raise ValidationError(f"{what} {item!r}: value must be finite")
        out[name] = v
    return out


def check_generator_params(generator: Generator, params: Mapping[str, float], allow_extrapolation: bool = False) -> None:
    """Raise (or warn, with ``allow_extrapolation``) on unknown or out-of-envelope parameters."""
    bounds: Mapping[str, tuple[float, float]] = getattr(generator, "parameters", {}) or {}
    name = getattr(generator, "name", type(generator).__name__)
    unknown = [k for k in params if k not in bounds]
    if unknown and bounds:
        raise ValidationError(
            f"generator {name!r} does not take parameter(s) {unknown}; it takes {sorted(bounds)}"
        )
    for k, v in params.items():
        if k not in bounds:
            continue
        lo, hi = bounds[k]
        if not lo - 1e-9 <= v <= hi + 1e-9:
            msg = f"generator {name!r}: {k}={v:g} is outside its envelope [{lo:g}, {hi:g}]"
            if not allow_extrapolation:
                raise ValidationError(msg + " (use --allow-extrapolation to try anyway)")
            print(f"warning: {msg}; extrapolating", file=sys.stderr)


# ---------------------------------------------------------------------------- one evaluation
#: Kept for older imports; the reasons live with :attr:`Metrics.failure_reason`.
NOT_PERCOLATING_PORE = PORE_NOT_PERCOLATING
NOT_PERCOLATING_SOLID = SOLID_NOT_PERCOLATING

if TYPE_CHECKING:  # pragma: no cover
    from electroforge.cells import CellFormat


@attrs.define
class Components:
    """The components of one campaign, built once per process."""

    generator: Generator
    characterizer: Characterizer
    simulator: CellSimulator
    cell: CellFormat
    protocols: list[ConstantCurrent | ConstantPower]

    @classmethod
    def from_config(cls, config, registry=None) -> Components:
        from electroforge.cells import cell_from_name
        from electroforge.registry import get_registry

        registry = registry or get_registry()
        return cls(
            generator=registry.create("generator", config.generator.name, **config.generator.options),
            characterizer=registry.create("characterizer", config.characterizer.name, **config.characterizer.options),
            simulator=registry.create("cell_simulator", config.simulator.name, **config.simulator.options),
            cell=cell_from_name(config.cell_format, **config.cell_options),
            protocols=[protocol_from_string(p) for p in config.protocols],
        )


def evaluation_seed(campaign_seed: int, index: int) -> int:
    """The generator seed of evaluation ``index``: fixed by the campaign seed, independent of order."""
    return int(np.random.SeedSequence([int(campaign_seed), int(index)]).generate_state(1)[0])


def combine_metrics(all_metrics: list[Metrics]) -> Metrics:
    """Mean of the metrics over several cubes; their standard deviation goes to ``uncertainty``."""
    if len(all_metrics) == 1:
        return all_metrics[0]
    fields = Metrics.SCALARS
    mean = {f: float(np.mean([getattr(m, f) for m in all_metrics])) for f in fields}
    std = {f: float(np.std([getattr(m, f) for m in all_metrics], ddof=1)) for f in fields if np.isfinite(mean[f])}
    phases = list(all_metrics[0].volume_fractions)
    vf = {p: float(np.mean([m.volume_fractions.get(p, 0.0) for m in all_metrics])) for p in phases}
    std.update({f"vf_{p}": float(np.std([m.volume_fractions.get(p, 0.0) for m in all_metrics], ddof=1)) for p in phases})
    extra_keys = set.intersection(*(set(m.extras) for m in all_metrics))
    extras = {k: float(np.mean([m.extras[k] for m in all_metrics])) for k in extra_keys}
    return Metrics(vf, mean["specific_surface_area_per_m"], mean["binder_coverage"], mean["tortuosity_factor"],
                   mean["effective_conductivity_S_per_m"], uncertainty=std, extras=extras)


def electrode_from_params(metrics: Metrics, cell_params: Mapping[str, float], gen_params: Mapping[str, float],
                          metadata: Mapping[str, Any] | None = None,
                          particle_radius_m: float | None = None) -> Electrode:
    """Electrode for the simulator: loading or thickness from the cell-stage parameters.

    The particle radius is, in order: the cell-stage parameter ``particle_radius_um``, the
    generator's ``Microstructure.particle_radius_m`` (passed as ``particle_radius_m``), a
    ``mean_particle_radius_m`` metadata entry (older generators), else the Electrode default.
    """
    kwargs: dict[str, Any] = {}
    if "thickness_um" in cell_params:
        kwargs["thickness_m"] = cell_params["thickness_um"] * 1e-6
    else:
        kwargs["mass_loading_kg_per_m2"] = cell_params.get("mass_loading_mg_per_cm2", 20.0) * 1e-2
    if "particle_radius_um" in cell_params:
        kwargs["particle_radius_m"] = cell_params["particle_radius_um"] * 1e-6
    elif particle_radius_m is not None:
        kwargs["particle_radius_m"] = float(particle_radius_m)
    elif metadata and metadata.get("mean_particle_radius_m"):
        kwargs["particle_radius_m"] = float(metadata["mean_particle_radius_m"])
    if "am_mass_fraction" in gen_params:
        kwargs["am_mass_fraction"] = gen_params["am_mass_fraction"]
    return Electrode(metrics, **kwargs)


def _stage_error(stage: str, plugin: str, exc: BaseException) -> str:
    prefix = f"{stage} {plugin!r}"
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, EvaluationError):
        return msg if msg.startswith(stage) else f"{prefix}: {msg}"
    return f"{prefix}: {one_line(exc)}"


def evaluate_design(params: Mapping[str, float], components: Components, config, index: int = 0,
                    batch: int = 0) -> Evaluation:
    """Run one design through generator -> characterizer -> simulator(s) -> objective.

    Never raises for a failure inside a plugin: the evaluation comes back ``failed`` with the stage,
    the plugin's name and the one-line reason, and whatever was computed before the failure.
    """
    seed = evaluation_seed(config.seed, index)
    timings: dict[str, float] = {}
    t_start = time.perf_counter()
    metrics = None
    performances: dict[str, Any] = {}
    uncertainty = 0.0

    def failed(error: str) -> Evaluation:
        timings["total"] = time.perf_counter() - t_start
        return Evaluation(index=index, params=params, objective=float("nan"), status=STATUS_FAILED, metrics=metrics,
                          performances=performances, error=error, timings_s=timings, seed=seed, batch=batch,
                          uncertainty=uncertainty)

    gen_params = config.generator_params(params)
    cell_params = config.cell_params(params)
    gen, cha, sim = components.generator, components.characterizer, components.simulator
    spreads: list[float] = []
    shape = (config.shape,) * 3

    def make_cube(k: int):
        if k == 0:
            check_generator_params(gen, gen_params)
        if supports_uncertainty(gen):
            ms, spread = gen.generate_with_uncertainty(gen_params, shape, seed + k)  # type: ignore[attr-defined]
            spreads.append(float(spread))
            return ms
        return gen.generate(gen_params, shape, seed + k)

    def account(stage: str, seconds: float) -> None:
        timings[stage] = timings.get(stage, 0.0) + seconds

    # cubes until the CI target on the mean tortuosity (config.target_ci), else config.n_cubes (electroforge.rve)
    try:
        sampling = characterize_to_target(make_cube, cha.characterize, n_cubes=config.n_cubes,
                                          target_ci=getattr(config, "target_ci", 0.0) or None,
                                          max_cubes=getattr(config, "max_cubes", 16), on_stage=account)
    except Exception as exc:
        uncertainty = float(np.mean(spreads)) if spreads else 0.0
        if getattr(exc, "stage", "generate") == "generate":
            return failed(_stage_error("generator", config.generator.name, exc))
        return failed(_stage_error("characterizer", config.characterizer.name, exc))
    assert sampling.first is not None  # characterize_to_target generates at least one cube
    cubes = [sampling.first]
    metrics = combine_metrics(list(sampling.metrics))
    metrics = attrs.evolve(metrics, extras={**metrics.extras, **sampling.ci_extras()})
    # per-observation noise for the optimizer: generator spread and the CI of the mean tortuosity, relative
    uncertainty = math.hypot(float(np.mean(spreads)) if spreads else 0.0, sampling.tortuosity_relative_standard_error())
    if metrics.failure_reason:
        return failed(f"characterizer {config.characterizer.name!r}: {metrics.failure_reason}")

    t = time.perf_counter()
    try:
        electrode = electrode_from_params(metrics, cell_params, gen_params, cubes[0].metadata,
                                          particle_radius_m=cubes[0].particle_radius_m)
        for protocol in components.protocols:
            performances[protocol.label] = sim.simulate(electrode, components.cell, protocol)
    except Exception as exc:
        timings["simulate"] = time.perf_counter() - t
        return failed(_stage_error("cell simulator", config.simulator.name, exc))
    timings["simulate"] = time.perf_counter() - t

    objective = float(getattr(performances[config.objective_label], config.objective))
    if not np.isfinite(objective):
        return failed(f"objective {config.objective} at {config.objective_label} is not finite ({objective})")
    timings["total"] = time.perf_counter() - t_start
    return Evaluation(index=index, params=params, objective=objective, status=STATUS_OK, metrics=metrics,
                      performances=performances, timings_s=timings, seed=seed, batch=batch, uncertainty=uncertainty)
