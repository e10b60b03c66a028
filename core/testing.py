"""Conformance kit for plugin authors: does a component keep the contract the core relies on?

Each ``check_*`` function takes a component and runs behavioural checks on it; the first one that
fails raises :class:`AssertionError` whose message starts with ``"<check name> failed for <kind>
'<name>'"`` and says what was expected and what came back. The same checks are available one by
one (``generator_checks()`` etc.) and, for pytest, through :func:`parametrize_with_checks`::

    from electroforge.testing import check_generator, parametrize_with_checks

    def test_my_generator_conforms():
        check_generator(MyGenerator())

    @parametrize_with_checks([MyGenerator(), MyCharacterizer()])
    def test_conformance(component, check):
        check(component)

What is checked (see docs/writing-plugins.md, "Testing a plugin"):

* generator: the protocol's members; ``parameters`` declares finite bounds with lower < upper;
  the returned volume has the requested shape, also for a non-cubic shape; labels lie within the
  declared phases; the same seed gives the same labels; generation works at every corner of the
  envelope and at its centre (the core refuses values outside it, so those are the extremes a
  generator sees); ``generate_with_uncertainty``, when present, returns a finite relative
  uncertainty >= 0.
* characterizer: on analytic structures, straight pore channels through the thickness give a
  tortuosity factor of 1 and the exact volume fractions; parallel solid columns give a solid
  conductivity proportional to their fraction; a solid layer across the thickness gives an
  infinite tortuosity factor, a pore layer a zero conductivity.
* cell simulator: capacity falls as the C-rate rises; energy equals the integral of V·I over the
  discharge (constant current and constant power); an electrode whose pores do not percolate is
  refused with an ``EvaluationError`` whose message starts with ``"cell simulator '<name>'"``.
* optimizer: asks are within the bounds (before and after observations); ``ask`` is a pure
  function of (seed, options, observations told) and does not depend on how often it was called;
  a fresh optimizer told the stored batches (a resume) asks what the uninterrupted one asks;
  failed observations (NaN objectives) are accepted; ``noise`` is accepted when ``tell`` declares it.

The checks use small volumes (tens of voxels) so that a suite can run them on every component.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import product
from typing import Any

import numpy as np

from electroforge.components import PROTOCOLS, accepts_noise, missing_members, supports_uncertainty
from electroforge.design import DesignSpace, Parameter
from electroforge.errors import EvaluationError
from electroforge.model import (
    ConstantCurrent,
    ConstantPower,
    Electrode,
    Metrics,
    Microstructure,
    Performance,
)

__all__ = [
    "Check",
    "check_cell_simulator",
    "check_characterizer",
    "check_generator",
    "check_optimizer",
    "cell_simulator_checks",
    "characterizer_checks",
    "checks_for",
    "generator_checks",
    "optimizer_checks",
    "parametrize_with_checks",
    "sample_design_space",
    "sample_electrode",
    "sample_metrics",
    "sample_microstructure",
]

#: A non-cubic shape (x, y, z): catches a generator that swaps or ignores axes.
DEFAULT_SHAPE = (20, 16, 12)
VOXEL_SIZE_M = 4e-7


class Check:
    """One named check: ``check(component)`` raises AssertionError naming itself on failure."""

    def __init__(self, kind: str, name: str, func: Callable[..., None], **options: Any):
        self.kind = kind
        self.name = name
        self.func = func
        self.options = options

    def __call__(self, component: Any) -> None:
        self.func(component, _Report(self.kind, self.name, component), **self.options)

    def __repr__(self) -> str:
        return f"<check {self.name} ({self.kind})>"


class _Report:
    """Builds the failure message of one check."""

    def __init__(self, kind: str, check: str, component: Any):
        self.kind = kind
        self.check = check
        self.component_name = getattr(component, "name", type(component).__name__)

    def fail(self, why: str) -> AssertionError:
        return AssertionError(f"{self.check} failed for {self.kind} {self.component_name!r}: {why}")

    def expect(self, condition: bool, why: str) -> None:
        if not condition:
            raise self.fail(why)

    def call(self, what: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call the component; an exception becomes this check's AssertionError."""
        try:
            return func(*args, **kwargs)
        except AssertionError:
            raise
        except Exception as exc:
            raise self.fail(f"{what} raised {type(exc).__name__}: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else ""


# ============================================================================ sample inputs
def sample_design_space() -> DesignSpace:
    """A three-parameter space (two generator-stage, one cell-stage) for optimizer checks."""
    return DesignSpace(
        (
            Parameter("am_mass_fraction", 0.85, 0.97),
            Parameter("porosity", 0.25, 0.50),
            Parameter("mass_loading_mg_per_cm2", 10.0, 40.0, stage="cell", unit="mg/cm²"),
        )
    )


def sample_metrics(**overrides: Any) -> Metrics:
    """Metrics of a typical NMC cathode (porosity 0.335, tortuosity factor 2)."""
    values: dict[str, Any] = dict(
        volume_fractions={"pore": 0.335, "active": 0.6, "binder": 0.065},
        specific_surface_area_per_m=4.0e5,
        binder_coverage=0.2,
        tortuosity_factor=2.0,
        effective_conductivity_S_per_m=1.0,
    )
    values.update(overrides)
    return Metrics(**values)


def sample_electrode(**overrides: Any) -> Electrode:
    """A 15 mg/cm² electrode with :func:`sample_metrics` (half-cell friendly)."""
    values: dict[str, Any] = dict(metrics=sample_metrics(), mass_loading_kg_per_m2=0.15, am_mass_fraction=0.94)
    values.update(overrides)
    return Electrode(**values)


def sample_microstructure(
    structure: str = "channels", shape: tuple[int, int, int] = (16, 12, 12), fraction: float = 0.25
) -> Microstructure:
    """Analytic three-phase volumes (labels 0 pore, 1 active, 2 binder), x through the thickness.

    * ``"channels"``: straight square pore channels along x in active material, pore fraction
      ``fraction`` of the cross-section (exactly, by construction: whole columns).
    * ``"columns"``: the same with the roles swapped: straight active columns in pore.
    * ``"solid_layer"``: pore everywhere except an active layer across the thickness at mid-x.
    * ``"pore_layer"``: active everywhere except a pore layer across the thickness at mid-x.
    """
    nx, ny, nz = shape
    cross = np.zeros((ny, nz), dtype=bool)
    n_cols = int(round(fraction * ny * nz))
    cross.ravel()[np.linspace(0, ny * nz - 1, n_cols).round().astype(int)] = True
    labels = np.empty(shape, np.uint8)
    if structure == "channels":
        labels[:] = np.where(cross, 0, 1)[None, :, :]
    elif structure == "columns":
        labels[:] = np.where(cross, 1, 0)[None, :, :]
    elif structure == "solid_layer":
        labels[:] = 0
        labels[nx // 2] = 1
    elif structure == "pore_layer":
        labels[:] = 1
        labels[nx // 2] = 0
    else:
        raise ValueError(f"sample_microstructure: unknown structure {structure!r}")
    return Microstructure(labels, VOXEL_SIZE_M, metadata={"structure": structure})


# ============================================================================ generator
def _generator_bounds(gen: Any, r: _Report) -> dict[str, tuple[float, float]]:
    bounds = getattr(gen, "parameters", None)
    if not (isinstance(bounds, Mapping) and len(bounds) > 0):
        raise r.fail(f"parameters must be a non-empty mapping name -> (lower, upper), got {bounds!r}")
    out = {}
    for k, b in bounds.items():
        try:
            lo, hi = (float(v) for v in b)
        except (TypeError, ValueError):
            raise r.fail(f"parameters[{k!r}] = {b!r} is not a pair (lower, upper)") from None
        out[str(k)] = (lo, hi)
    return out


def _centre(bounds: Mapping[str, tuple[float, float]]) -> dict[str, float]:
    return {k: 0.5 * (lo + hi) for k, (lo, hi) in bounds.items()}


def _generated(
    gen: Any, r: _Report, params: Mapping[str, float], shape: tuple[int, int, int], seed: int, what: str
) -> Microstructure:
    ms = r.call(f"{what}: generate({dict(params)}, {shape}, {seed})", gen.generate, dict(params), shape, seed)
    r.expect(isinstance(ms, Microstructure), f"{what}: generate returned {type(ms).__name__}, not a Microstructure")
    return ms


def _check_generator_protocol(gen: Any, r: _Report) -> None:
    missing = missing_members("generator", gen)
    r.expect(not missing, f"missing {', '.join(missing)}")
    name = getattr(gen, "name", "")
    r.expect(
        isinstance(name, str) and name == name.lower() and name.strip() == name and bool(name),
        f"name must be a non-empty lowercase string, got {name!r}",
    )


def _check_generator_bounds(gen: Any, r: _Report) -> None:
    for k, (lo, hi) in _generator_bounds(gen, r).items():
        r.expect(math.isfinite(lo) and math.isfinite(hi), f"parameters[{k!r}] = ({lo}, {hi}) must be finite")
        r.expect(lo < hi, f"parameters[{k!r}] = ({lo}, {hi}) needs lower < upper")


def _check_generator_shape(gen: Any, r: _Report, shape: tuple[int, int, int] = DEFAULT_SHAPE, seed: int = 0) -> None:
    ms = _generated(gen, r, _centre(_generator_bounds(gen, r)), shape, seed, "centre")
    r.expect(tuple(ms.shape) == tuple(shape), f"asked for shape {tuple(shape)}, got {tuple(ms.shape)}")
    r.expect(ms.voxel_size_m > 0 and math.isfinite(ms.voxel_size_m), f"voxel_size_m={ms.voxel_size_m!r}")


def _check_generator_labels(gen: Any, r: _Report, shape: tuple[int, int, int] = DEFAULT_SHAPE, seed: int = 0) -> None:
    ms = _generated(gen, r, _centre(_generator_bounds(gen, r)), shape, seed, "centre")
    present = sorted(int(v) for v in np.unique(ms.labels))
    r.expect(
        bool(present) and present[-1] < len(ms.phases),
        f"labels {present} are not all within the declared phases {ms.phases}",
    )
    r.expect("pore" in ms.phases, f"phases {ms.phases} name no 'pore' phase")


def _check_generator_seed(gen: Any, r: _Report, shape: tuple[int, int, int] = DEFAULT_SHAPE, seed: int = 7) -> None:
    params = _centre(_generator_bounds(gen, r))
    a = _generated(gen, r, params, shape, seed, "first call")
    b = _generated(gen, r, params, shape, seed, "second call")
    differ = int(np.count_nonzero(a.labels != b.labels))
    r.expect(differ == 0, f"the same (params, shape, seed={seed}) gave labels differing in {differ} voxels")


def _check_generator_envelope(
    gen: Any, r: _Report, shape: tuple[int, int, int] = DEFAULT_SHAPE, seed: int = 0, max_corners: int = 16
) -> None:
    bounds = _generator_bounds(gen, r)
    names = list(bounds)
    corners = list(product(*[(bounds[n][0], bounds[n][1]) for n in names]))
    if len(corners) > max_corners:  # many parameters: a spread-out subset of the corners
        idx = np.linspace(0, len(corners) - 1, max_corners).round().astype(int)
        corners = [corners[i] for i in idx]
    points = [("centre", _centre(bounds))] + [(f"corner {dict(zip(names, c))}", dict(zip(names, c))) for c in corners]
    for label, params in points:
        ms = _generated(gen, r, params, shape, seed, label)
        r.expect(tuple(ms.shape) == tuple(shape), f"{label}: asked for shape {tuple(shape)}, got {tuple(ms.shape)}")


def _check_generator_uncertainty(
    gen: Any, r: _Report, shape: tuple[int, int, int] = DEFAULT_SHAPE, seed: int = 0
) -> None:
    if not supports_uncertainty(gen):
        return
    params = _centre(_generator_bounds(gen, r))
    out = r.call("generate_with_uncertainty", gen.generate_with_uncertainty, params, shape, seed)
    r.expect(
        isinstance(out, tuple) and len(out) == 2,
        f"generate_with_uncertainty returned {type(out).__name__}, not a (Microstructure, float) pair",
    )
    ms, u = out
    r.expect(
        isinstance(ms, Microstructure) and tuple(ms.shape) == tuple(shape),
        f"generate_with_uncertainty returned {ms!r} for shape {tuple(shape)}",
    )
    r.expect(
        bool(isinstance(u, (int, float, np.floating)) and math.isfinite(u) and u >= 0),
        f"the relative uncertainty must be a finite float >= 0, got {u!r}",
    )


def generator_checks(shape: tuple[int, int, int] = DEFAULT_SHAPE) -> list[Check]:
    """The generator checks, in order; ``shape`` is the (non-cubic) volume they ask for."""
    return [
        Check("generator", "protocol", _check_generator_protocol),
        Check("generator", "finite_bounds", _check_generator_bounds),
        Check("generator", "requested_shape", _check_generator_shape, shape=shape),
        Check("generator", "labels_within_phases", _check_generator_labels, shape=shape),
        Check("generator", "same_seed_same_labels", _check_generator_seed, shape=shape),
        Check("generator", "corners_and_centre", _check_generator_envelope, shape=shape),
        Check("generator", "uncertainty", _check_generator_uncertainty, shape=shape),
    ]


def check_generator(generator: Any, shape: tuple[int, int, int] = DEFAULT_SHAPE) -> None:
    """Run every generator check on ``generator`` (an instance); raises AssertionError on the first failure."""
    for check in generator_checks(shape):
        check(generator)


# ============================================================================ characterizer
def _characterized(cha: Any, r: _Report, ms: Microstructure, what: str) -> Metrics:
    m = r.call(f"characterize({what})", cha.characterize, ms)
    r.expect(isinstance(m, Metrics), f"characterize({what}) returned {type(m).__name__}, not Metrics")
    return m


def _check_characterizer_protocol(cha: Any, r: _Report) -> None:
    missing = missing_members("characterizer", cha)
    r.expect(not missing, f"missing {', '.join(missing)}")


def _check_channels(cha: Any, r: _Report, shape: tuple[int, int, int] = (16, 12, 12), rtol: float = 0.02) -> None:
    ms = sample_microstructure("channels", shape, 0.25)
    m = _characterized(cha, r, ms, "straight pore channels along x")
    exact = ms.volume_fractions()
    for phase, v in exact.items():
        got = m.volume_fractions.get(phase, 0.0)
        r.expect(
            abs(got - v) < 1e-6, f"straight channels: volume fraction of {phase!r} is {got:.6g}, voxels give {v:.6g}"
        )
    tau = m.tortuosity_factor
    r.expect(
        math.isfinite(tau) and abs(tau - 1.0) <= rtol,
        f"straight pore channels through the thickness must have a tortuosity factor of 1, got {tau!r}",
    )


def _check_columns(cha: Any, r: _Report, shape: tuple[int, int, int] = (16, 12, 12), rtol: float = 0.03) -> None:
    sigma = {}
    for f in (0.25, 0.5):
        ms = sample_microstructure("columns", shape, f)
        frac = ms.volume_fractions()["active"]
        m = _characterized(cha, r, ms, f"straight active columns, fraction {frac:.3g}")
        r.expect(
            m.effective_conductivity_S_per_m > 0,
            f"straight active columns (fraction {frac:.3g}) through the thickness conduct, got "
            f"{m.effective_conductivity_S_per_m!r} S/m",
        )
        sigma[frac] = m.effective_conductivity_S_per_m
    (f1, s1), (f2, s2) = sorted(sigma.items())
    ratio, expected = s2 / s1, f2 / f1
    r.expect(
        abs(ratio / expected - 1.0) <= rtol,
        f"parallel solid columns: conductivity must scale with their fraction ({f1:.3g} -> {s1:.4g} S/m, "
        f"{f2:.3g} -> {s2:.4g} S/m; ratio {ratio:.4g}, expected {expected:.4g})",
    )


def _check_layers(cha: Any, r: _Report, shape: tuple[int, int, int] = (16, 12, 12)) -> None:
    m = _characterized(cha, r, sample_microstructure("solid_layer", shape), "a solid layer across the thickness")
    r.expect(
        math.isinf(m.tortuosity_factor),
        f"a solid layer across the thickness blocks the pores: tortuosity factor must be inf, got {m.tortuosity_factor!r}",
    )
    m = _characterized(cha, r, sample_microstructure("pore_layer", shape), "a pore layer across the thickness")
    r.expect(
        m.effective_conductivity_S_per_m == 0,
        "a pore layer across the thickness cuts the solid: conductivity must be 0, got "
        f"{m.effective_conductivity_S_per_m!r} S/m",
    )


def characterizer_checks(shape: tuple[int, int, int] = (16, 12, 12)) -> list[Check]:
    """The characterizer checks, on analytic volumes of ``shape``."""
    return [
        Check("characterizer", "protocol", _check_characterizer_protocol),
        Check("characterizer", "straight_channels", _check_channels, shape=shape),
        Check("characterizer", "parallel_columns", _check_columns, shape=shape),
        Check("characterizer", "blocking_layers", _check_layers, shape=shape),
    ]


def check_characterizer(characterizer: Any, shape: tuple[int, int, int] = (16, 12, 12)) -> None:
    """Run every characterizer check on ``characterizer`` (an instance)."""
    for check in characterizer_checks(shape):
        check(characterizer)


# ============================================================================ cell simulator
def _default_cell() -> Any:
    from electroforge.cells import HalfCell

    return HalfCell()


def _simulated(sim: Any, r: _Report, electrode: Electrode, cell: Any, protocol: Any) -> Performance:
    p = r.call(f"simulate at {protocol.label}", sim.simulate, electrode, cell, protocol)
    r.expect(isinstance(p, Performance), f"simulate at {protocol.label} returned {type(p).__name__}, not Performance")
    return p


def _check_simulator_protocol(sim: Any, r: _Report) -> None:
    missing = missing_members("cell_simulator", sim)
    r.expect(not missing, f"missing {', '.join(missing)}")


def _check_rate_capability(
    sim: Any, r: _Report, electrode: Electrode | None = None, cell: Any = None, c_rates: Sequence[float] = (0.5, 2.0)
) -> None:
    electrode = electrode or sample_electrode()
    cell = cell if cell is not None else _default_cell()
    caps = [(c, _simulated(sim, r, electrode, cell, ConstantCurrent(c)).capacity_Ah) for c in c_rates]
    for (c1, q1), (c2, q2) in zip(caps, caps[1:]):
        r.expect(math.isfinite(q1) and q1 > 0, f"capacity at {c1:g}C is {q1!r} Ah")
        r.expect(q2 < q1, f"capacity must fall as the C-rate rises: {q1:.6g} Ah at {c1:g}C, {q2:.6g} Ah at {c2:g}C")


def _integral_VI_Wh(p: Performance, current_A: float | None, power_W: float | None) -> float:
    t, v = np.asarray(p.time_s, float), np.asarray(p.voltage_V, float)
    if power_W is not None:
        return power_W * (t[-1] - t[0]) / 3600.0
    dt = np.diff(t)
    return float(current_A * np.sum(dt * 0.5 * (v[1:] + v[:-1])) / 3600.0)  # trapezoidal rule


def _check_energy_integral(
    sim: Any, r: _Report, electrode: Electrode | None = None, cell: Any = None, rtol: float = 0.01
) -> None:
    electrode = electrode or sample_electrode()
    cell = cell if cell is not None else _default_cell()
    cc = _simulated(sim, r, electrode, cell, ConstantCurrent(1.0))
    r.expect(
        cc.time_s.size >= 2 and cc.time_s.size == cc.voltage_V.size,
        f"1C: performance must carry the voltage curve (time_s, voltage_V), got {cc.time_s.size} and "
        f"{cc.voltage_V.size} points",
    )
    r.expect(cc.duration_s > 0, f"1C: duration_s={cc.duration_s!r}")
    current = cc.capacity_Ah * 3600.0 / cc.duration_s
    e = _integral_VI_Wh(cc, current, None)
    r.expect(
        abs(e - cc.energy_Wh) <= rtol * abs(cc.energy_Wh),
        f"1C: energy_Wh={cc.energy_Wh:.6g} but the integral of V·I dt over the curve is {e:.6g} Wh",
    )
    r.expect(
        abs(cc.mean_power_W * cc.duration_s / 3600.0 - cc.energy_Wh) <= rtol * abs(cc.energy_Wh),
        f"1C: mean_power_W x duration_s = {cc.mean_power_W * cc.duration_s / 3600:.6g} Wh, energy_Wh={cc.energy_Wh:.6g}",
    )
    # constant power at the mean power of the 1C discharge: E = P t
    power = ConstantPower(cc.mean_power_W)
    cp = _simulated(sim, r, electrode, cell, power)
    r.expect(cp.time_s.size >= 2, f"{power.label}: performance carries no voltage curve")
    e = _integral_VI_Wh(cp, None, power.power_W)
    r.expect(
        abs(e - cp.energy_Wh) <= rtol * abs(cp.energy_Wh),
        f"{power.label}: energy_Wh={cp.energy_Wh:.6g} but P x t = {e:.6g} Wh",
    )


def _check_refuses_non_percolating(sim: Any, r: _Report, electrode: Electrode | None = None, cell: Any = None) -> None:
    electrode = electrode or sample_electrode()
    cell = cell if cell is not None else _default_cell()
    import attrs

    bad = attrs.evolve(electrode, metrics=attrs.evolve(electrode.metrics, tortuosity_factor=math.inf))
    try:
        sim.simulate(bad, cell, ConstantCurrent(1.0))
    except EvaluationError as exc:
        prefix = f"cell simulator {r.component_name!r}"
        r.expect(
            str(exc).startswith(prefix),
            f"the error for a non-percolating electrode must start with {prefix!r} (its own name), got {str(exc)!r}",
        )
        return
    except Exception as exc:
        raise r.fail(
            f"a non-percolating electrode (tortuosity factor inf) must raise EvaluationError, "
            f"got {type(exc).__name__}: {_first_line(exc)}"
        ) from exc
    raise r.fail("a non-percolating electrode (tortuosity factor inf) was simulated instead of refused")


def cell_simulator_checks(electrode: Electrode | None = None, cell: Any = None) -> list[Check]:
    """The cell-simulator checks on ``electrode`` (default :func:`sample_electrode`) in ``cell``
    (default a ``HalfCell``)."""
    return [
        Check("cell_simulator", "protocol", _check_simulator_protocol),
        Check("cell_simulator", "capacity_falls_with_c_rate", _check_rate_capability, electrode=electrode, cell=cell),
        Check("cell_simulator", "energy_is_integral_of_VI", _check_energy_integral, electrode=electrode, cell=cell),
        Check(
            "cell_simulator", "refuses_non_percolating", _check_refuses_non_percolating, electrode=electrode, cell=cell
        ),
    ]


def check_cell_simulator(simulator: Any, electrode: Electrode | None = None, cell: Any = None) -> None:
    """Run every cell-simulator check on ``simulator`` (an instance)."""
    for check in cell_simulator_checks(electrode, cell):
        check(simulator)


# ============================================================================ optimizer
def _objective(space: DesignSpace, params: Mapping[str, float]) -> float:
    x = space.to_unit(params)
    return float(1.0 - np.sum((x - 0.3) ** 2))


class _OptimizerMaker:
    """Fresh optimizers of the checked class with the checked options."""

    def __init__(self, optimizer: Any, options: Mapping[str, Any] | None, space: DesignSpace, seed: int):
        self.cls = optimizer if isinstance(optimizer, type) else type(optimizer)
        self.options = dict(options or {})
        self.space = space
        self.seed = seed

    def __call__(self, r: _Report) -> Any:
        return r.call(
            f"{self.cls.__name__}(space=..., seed={self.seed}, **{self.options})",
            self.cls,
            space=self.space,
            seed=self.seed,
            **self.options,
        )


def _asked(opt: Any, r: _Report, space: DesignSpace, n: int, what: str) -> list[dict[str, float]]:
    got = r.call(f"{what}: ask({n})", opt.ask, n)
    r.expect(isinstance(got, list) and len(got) == n, f"{what}: ask({n}) returned {got!r}, not a list of {n} designs")
    for i, p in enumerate(got):
        r.expect(isinstance(p, Mapping), f"{what}: ask({n})[{i}] is {type(p).__name__}, not a mapping")
        missing = [n_ for n_ in space.names if n_ not in p]
        r.expect(not missing, f"{what}: ask({n})[{i}] lacks parameter(s) {missing}")
        for prm in space.parameters:
            v = float(p[prm.name])
            r.expect(
                math.isfinite(v) and prm.contains(v),
                f"{what}: ask({n})[{i}] has {prm.name}={v!r} outside [{prm.lower:g}, {prm.upper:g}]",
            )
    return [{k: float(p[k]) for k in space.names} for p in got]


def _told(
    opt: Any, r: _Report, space: DesignSpace, designs: list[dict[str, float]], what: str, fail_first: bool = False
) -> None:
    objectives = [_objective(space, p) for p in designs]
    failed = [False] * len(designs)
    if fail_first:
        objectives[0], failed[0] = math.nan, True
    r.call(f"{what}: tell", opt.tell, designs, objectives, failed)


def _same(a: list[dict[str, float]], b: list[dict[str, float]]) -> bool:
    return len(a) == len(b) and all(
        set(p) == set(q) and all(math.isclose(p[k], q[k], rel_tol=1e-9, abs_tol=1e-12) for k in p) for p, q in zip(a, b)
    )


def _check_optimizer_protocol(opt: Any, r: _Report) -> None:
    missing = missing_members("optimizer", opt)
    r.expect(not missing, f"missing {', '.join(missing)}")


def _check_within_bounds(opt: Any, r: _Report, make: _OptimizerMaker, batches: int = 3, q: int = 3) -> None:
    o = make(r)
    for b in range(batches):
        designs = _asked(o, r, make.space, q, f"batch {b}")
        _told(o, r, make.space, designs, f"batch {b}", fail_first=(b == 0))


def _check_pure(opt: Any, r: _Report, make: _OptimizerMaker, batches: int = 3, q: int = 3) -> None:
    a, b = make(r), make(r)
    for k in range(batches):
        first = _asked(a, r, make.space, q, f"batch {k}")
        again = _asked(a, r, make.space, q, f"batch {k}, asked again")
        r.expect(
            _same(first, again),
            f"batch {k}: asking twice without a tell gave different designs: "
            f"{first} then {again} (ask must not depend on how often it was called)",
        )
        other = _asked(b, r, make.space, q, f"batch {k}, second optimizer")
        r.expect(
            _same(first, other),
            f"batch {k}: two optimizers with the same seed, options and observations asked {first} and {other}",
        )
        _told(a, r, make.space, first, f"batch {k}", fail_first=(k == 0))
        _told(b, r, make.space, first, f"batch {k}", fail_first=(k == 0))


def _check_resume(opt: Any, r: _Report, make: _OptimizerMaker, batches: int = 3, q: int = 3) -> None:
    live = make(r)
    told: list[list[dict[str, float]]] = []
    for k in range(batches):
        designs = _asked(live, r, make.space, q, f"batch {k}")
        _told(live, r, make.space, designs, f"batch {k}", fail_first=(k == 0))
        told.append(designs)
    expected = _asked(live, r, make.space, q, "after the stored batches")
    resumed = make(r)
    for k, designs in enumerate(told):  # what Campaign(resume=True) does: tell each stored batch
        _told(resumed, r, make.space, designs, f"resume, batch {k}", fail_first=(k == 0))
    got = _asked(resumed, r, make.space, q, "resumed")
    r.expect(
        _same(expected, got),
        f"a fresh optimizer told the {batches} stored batches asked {got}; the uninterrupted one asked {expected}",
    )


def _check_noise(opt: Any, r: _Report, make: _OptimizerMaker, q: int = 3) -> None:
    o = make(r)
    if not accepts_noise(o):
        return
    designs = _asked(o, r, make.space, q, "noise")
    objectives = [_objective(make.space, p) for p in designs]
    r.call("tell(..., noise=[...])", o.tell, designs, objectives, [False] * q, noise=[1e-4] * q)
    _asked(o, r, make.space, q, "after a tell with noise")


def optimizer_checks(
    options: Mapping[str, Any] | None = None,
    space: DesignSpace | None = None,
    seed: int = 3,
    batches: int = 3,
    q: int = 3,
) -> list[Check]:
    """The optimizer checks. Each builds fresh optimizers of the checked class as
    ``cls(space=space, seed=seed, **options)``; ``batches`` x ``q`` observations are told."""
    space = space or sample_design_space()

    def bound(func: Callable[..., None], **kw: Any) -> Callable[..., None]:
        def run(opt: Any, r: _Report) -> None:
            func(opt, r, _OptimizerMaker(opt, options, space, seed), **kw)

        return run

    return [
        Check("optimizer", "protocol", _check_optimizer_protocol),
        Check("optimizer", "asks_within_bounds", bound(_check_within_bounds, batches=batches, q=q)),
        Check("optimizer", "ask_is_pure", bound(_check_pure, batches=batches, q=q)),
        Check("optimizer", "survives_resume", bound(_check_resume, batches=batches, q=q)),
        Check("optimizer", "accepts_noise", bound(_check_noise, q=q)),
    ]


def check_optimizer(
    optimizer: Any, options: Mapping[str, Any] | None = None, space: DesignSpace | None = None, seed: int = 3
) -> None:
    """Run every optimizer check. ``optimizer`` is the registered class or an instance of it; the
    checks build fresh ones as ``cls(space=..., seed=seed, **options)`` (a resume does the same)."""
    for check in optimizer_checks(options, space, seed):
        check(optimizer)


# ============================================================================ pytest helpers
_CHECKS: dict[str, Callable[[], list[Check]]] = {
    "generator": generator_checks,
    "characterizer": characterizer_checks,
    "cell_simulator": cell_simulator_checks,
    "optimizer": optimizer_checks,
}


def kind_of(component: Any) -> str:
    """The kind whose protocol ``component`` satisfies (the first of generator, characterizer,
    cell_simulator, optimizer); ValueError naming the closest one's missing members otherwise."""
    best: tuple[int, str, list[str]] | None = None
    for kind in PROTOCOLS:
        missing = missing_members(kind, component)
        if not missing:
            return kind
        if best is None or len(missing) < best[0]:
            best = (len(missing), kind, missing)
    assert best is not None
    raise ValueError(f"{component!r} satisfies no component protocol (as a {best[1]} it lacks {', '.join(best[2])})")


def checks_for(component: Any, kind: str | None = None) -> list[Check]:
    """The default checks for ``component`` (its kind is inferred unless given)."""
    return _CHECKS[kind or kind_of(component)]()


def _iter_checks(components: Iterable[Any]) -> Iterator[tuple[Any, Check, str]]:
    for comp in components:
        kind, extra = None, None
        if isinstance(comp, tuple):  # (component, [checks]) to choose the checks or their options
            comp, extra = comp
        checks = list(extra) if extra is not None else checks_for(comp, kind)
        name = getattr(comp, "name", type(comp).__name__)
        for check in checks:
            yield comp, check, f"{name}-{check.name}"


def parametrize_with_checks(components: Iterable[Any]) -> Any:
    """A ``pytest.mark.parametrize("component, check", ...)`` over every check of every component.

    ``components`` holds component instances (or optimizer classes), or ``(component, checks)``
    pairs to pass checks built with options, e.g. ``(MyGen(), generator_checks(shape=(32, 24, 16)))``.
    Test ids read ``<name>-<check>``.
    """
    import pytest

    rows = list(_iter_checks(components))
    return pytest.mark.parametrize("component, check", [(c, k) for c, k, _ in rows], ids=[i for _, _, i in rows])
