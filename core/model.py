"""Value objects passed between components (docs/plugin-contract.md, "Value objects"; contract).

All are frozen attrs classes validated at construction: a bad field raises
:class:`~electroforge.errors.ValidationError` whose message names the field and the value.
SI units throughout; units are in the field names.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, ClassVar

import attrs
import numpy as np

from electroforge._convert import to_dict, to_tuple
from electroforge.errors import ValidationError

#: Default phase names for labels 0, 1, 2 of a generated cathode.
DEFAULT_PHASES: tuple[str, ...] = ("pore", "active", "binder")
STATUS_OK = "ok"
STATUS_FAILED = "failed"
#: One-line reasons an evaluation fails when a volume cannot carry a cell (see Metrics.failure_reason).
PORE_NOT_PERCOLATING = "pore network does not percolate"
SOLID_NOT_PERCOLATING = "solid network does not percolate"


def _fail(cls_name: str, field: str, value: Any, why: str) -> None:
    raise ValidationError(f"{cls_name}.{field}={value!r}: {why}")


def _finite_positive(inst, attribute, value):
    if not (isinstance(value, (int, float, np.floating, np.integer)) and math.isfinite(value) and value > 0):
        _fail(type(inst).__name__, attribute.name, value, "must be a finite number > 0")


def _fraction(inst, attribute, value):
    if value is None:
        return
    if not (isinstance(value, (int, float, np.floating, np.integer)) and 0.0 <= value <= 1.0):
        _fail(type(inst).__name__, attribute.name, value, "must lie in [0, 1]")


def _non_negative(inst, attribute, value):
    if not (isinstance(value, (int, float, np.floating, np.integer)) and value >= 0 and not math.isnan(value)):
        _fail(type(inst).__name__, attribute.name, value, "must be >= 0")


def _float_map(value: Mapping[str, Any]) -> dict[str, float]:
    return {str(k): float(v) for k, v in dict(value).items()}


# ------------------------------------------------------------------ microstructure
def _labels_converter(value: Any) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype != np.uint8:
        if arr.size and (not np.issubdtype(arr.dtype, np.integer) or arr.min() < 0 or arr.max() > 255):
            if np.issubdtype(arr.dtype, np.floating) and np.all(np.mod(arr, 1) == 0) and arr.min() >= 0 and arr.max() <= 255:
                pass
            else:
                raise ValidationError(
                    f"Microstructure.labels: dtype {arr.dtype} with values outside 0..255 cannot be phase labels"
                )
        arr = arr.astype(np.uint8)
    arr = np.ascontiguousarray(arr)
    if arr is value or arr.base is not None:  # never freeze the caller's own array
        arr = arr.copy()
    arr.setflags(write=False)
    return arr


@attrs.frozen(eq=False)
class Microstructure:
    """A 3D labelled electrode volume.

    ``labels[x, y, z]`` holds the phase index of each voxel; **x is through the electrode
    thickness** (current collector at x=0, separator at x=nx-1). ``phases[i]`` names label i.
    """

    labels: np.ndarray = attrs.field(converter=_labels_converter)
    """uint8 array of shape (nx, ny, nz); values index into ``phases``."""
    voxel_size_m: float = attrs.field(converter=float, validator=_finite_positive)
    """Edge length of one cubic voxel in metres (e.g. 4e-7 for 0.4 µm)."""
    phases: tuple[str, ...] = attrs.field(default=DEFAULT_PHASES, converter=to_tuple)
    """Phase names by label; at least one must be ``"pore"``."""
    metadata: Mapping[str, Any] = attrs.field(factory=dict, converter=to_dict)
    """Free-form provenance (generator name, parameters, seed, source file)."""
    particle_radius_m: float | None = attrs.field(
        default=None, converter=attrs.converters.optional(float), kw_only=True
    )
    """Mean radius of the active-material particles the generator made (m), or None when
    unknown: the Sauter mean (sum r³ / sum r², the radius with the particles' volume-to-surface
    ratio), which sets the solid-diffusion length. The campaign passes it to the cell simulator
    as ``Electrode.particle_radius_m``."""

    @particle_radius_m.validator
    def _check_radius(self, attribute, value):
        if value is not None and not (math.isfinite(value) and value > 0):
            _fail("Microstructure", "particle_radius_m", value, "must be a finite number > 0 (or None)")

    @labels.validator
    def _check_labels(self, attribute, value):
        if value.ndim != 3:
            _fail("Microstructure", "labels", f"<array of shape {value.shape}>", "must be a 3D array (nx, ny, nz)")
        if min(value.shape) < 2:
            _fail("Microstructure", "labels", f"<array of shape {value.shape}>", "needs at least 2 voxels along each axis")

    def __attrs_post_init__(self):
        if len(set(self.phases)) != len(self.phases) or not self.phases:
            _fail("Microstructure", "phases", self.phases, "must be non-empty and unique")
        top = int(self.labels.max()) if self.labels.size else 0
        if top >= len(self.phases):
            present = sorted(int(v) for v in np.unique(self.labels))
            _fail(
                "Microstructure",
                "labels",
                f"<labels {present}>",
                f"label {top} is outside the declared phases {self.phases} (labels 0..{len(self.phases) - 1})",
            )

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(s) for s in self.labels.shape)  # type: ignore[return-value]

    @property
    def size_m(self) -> tuple[float, float, float]:
        """Physical edge lengths (m) along x, y, z."""
        return tuple(n * self.voxel_size_m for n in self.shape)  # type: ignore[return-value]

    def phase_label(self, phase: str) -> int:
        try:
            return self.phases.index(phase)
        except ValueError:
            raise ValidationError(f"phase {phase!r} is not one of {self.phases}") from None

    def volume_fractions(self) -> dict[str, float]:
        """Voxel-count fraction of each phase."""
        counts = np.bincount(self.labels.ravel(), minlength=len(self.phases))
        return {p: float(c) / self.labels.size for p, c in zip(self.phases, counts)}

    def crop(self, start: tuple[int, int, int], size: tuple[int, int, int]) -> Microstructure:
        sl = tuple(slice(s, s + n) for s, n in zip(start, size))
        return attrs.evolve(self, labels=self.labels[sl])

    # I/O lives in electroforge.imageio; these named constructors delegate to it.
    @classmethod
    def from_file(cls, path, voxel_size_m: float | None = None, phases=None, label_map=None) -> Microstructure:
        from electroforge.imageio import read_microstructure

        return read_microstructure(path, voxel_size_m=voxel_size_m, phases=phases, label_map=label_map)

    def to_file(self, path) -> None:
        from electroforge.imageio import write_microstructure

        write_microstructure(self, path)


# ------------------------------------------------------------------ metrics
def _tortuosity(inst, attribute, value):
    if math.isnan(value) or value < 0.99:
        _fail(type(inst).__name__, attribute.name, value, "a tortuosity factor must be >= 1 (or inf)")


@attrs.frozen
class Metrics:
    """The four characterisation metrics of an electrode volume (through-thickness = x)."""

    #: The scalar metric fields, in order: the one list the store, JSON and averaging use.
    SCALARS: ClassVar[tuple[str, ...]] = (
        "specific_surface_area_per_m",
        "binder_coverage",
        "tortuosity_factor",
        "effective_conductivity_S_per_m",
    )

    volume_fractions: Mapping[str, float] = attrs.field(converter=_float_map)
    """Phase name -> volume fraction; fractions lie in [0, 1] and sum to 1."""
    specific_surface_area_per_m: float = attrs.field(converter=float, validator=_non_negative)
    """Active-electrolyte interface area per electrode volume (1/m)."""
    binder_coverage: float = attrs.field(converter=float, validator=_fraction)
    """Fraction of the active-material surface that touches the carbon-binder domain."""
    tortuosity_factor: float = attrs.field(converter=float, validator=_tortuosity)
    """Electrolyte (pore) tortuosity factor through the thickness, >= 1; inf if not percolating."""
    effective_conductivity_S_per_m: float = attrs.field(converter=float, validator=_non_negative)
    """Effective electronic conductivity of the solid network through the thickness (S/m)."""
    uncertainty: Mapping[str, float] | None = attrs.field(
        default=None, converter=attrs.converters.optional(_float_map)
    )
    """Optional: metric or phase name -> standard deviation (over sub-volumes or ensemble members)."""
    extras: Mapping[str, float] = attrs.field(factory=dict, converter=_float_map)
    """Optional further scalar metrics a characterizer reports (names carry their units)."""

    @volume_fractions.validator
    def _check_vf(self, attribute, value):
        for k, v in value.items():
            if not 0.0 <= v <= 1.0:
                _fail("Metrics", f"volume_fractions[{k!r}]", v, "must lie in [0, 1]")
        total = sum(value.values())
        if value and abs(total - 1.0) > 1e-3:
            _fail("Metrics", "volume_fractions", value, f"fractions sum to {total:.4f}, not 1")

    @property
    def porosity(self) -> float:
        return self.volume_fractions.get("pore", float("nan"))

    @property
    def effective_diffusivity_ratio(self) -> float:
        """D_eff / D = porosity / tortuosity factor (0 when the pores do not percolate)."""
        return 0.0 if math.isinf(self.tortuosity_factor) else self.porosity / self.tortuosity_factor

    @property
    def failure_reason(self) -> str:
        """``""`` when the volume can carry a cell, else why not: the pores (checked first) or the
        solid do not connect the two x faces. The one percolation test of electroforge."""
        if not math.isfinite(self.tortuosity_factor):
            return PORE_NOT_PERCOLATING
        if not self.effective_conductivity_S_per_m > 0:
            return SOLID_NOT_PERCOLATING
        return ""

    @property
    def percolating(self) -> bool:
        return not self.failure_reason

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict by contract names; infinite tortuosity becomes the string ``"inf"``."""
        tau = self.tortuosity_factor
        return {
            "volume_fractions": dict(self.volume_fractions),
            "specific_surface_area_per_m": self.specific_surface_area_per_m,
            "binder_coverage": self.binder_coverage,
            "tortuosity_factor": "inf" if math.isinf(tau) else tau,
            "effective_conductivity_S_per_m": self.effective_conductivity_S_per_m,
            "effective_diffusivity_ratio": self.effective_diffusivity_ratio,
            "uncertainty": None if self.uncertainty is None else dict(self.uncertainty),
            "extras": dict(self.extras),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Metrics:
        """Inverse of :meth:`to_dict`; accepts ``"inf"`` or ``null`` for a non-percolating tortuosity."""
        if not isinstance(data, Mapping):
            raise ValidationError(f"metrics must be a JSON object, got {type(data).__name__}")
        missing = [k for k in ("volume_fractions", *cls.SCALARS) if k not in data]
        if missing:
            raise ValidationError(f"metrics: missing key(s) {', '.join(missing)}")
        tau = data["tortuosity_factor"]
        tau = math.inf if tau is None or (isinstance(tau, str) and tau.lower() in ("inf", "infinity")) else tau
        try:
            return cls(
                volume_fractions=data["volume_fractions"],
                specific_surface_area_per_m=data["specific_surface_area_per_m"],
                binder_coverage=data["binder_coverage"],
                tortuosity_factor=tau,
                effective_conductivity_S_per_m=data["effective_conductivity_S_per_m"],
                uncertainty=data.get("uncertainty"),
                extras=data.get("extras") or {},
            )
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                raise
            raise ValidationError(f"metrics: {exc}") from None


# ------------------------------------------------------------------ electrode
@attrs.frozen
class Electrode:
    """A positive electrode for the cell simulator: its metrics plus cell-level parameters.

    Give exactly one of ``thickness_m`` (coating thickness per side) or
    ``mass_loading_kg_per_m2`` (dry coating mass per side per area: active material + CBD;
    20 mg/cm² = 0.2 kg/m²); :mod:`electroforge.cells` converts between them.
    """

    metrics: Metrics
    thickness_m: float | None = attrs.field(default=None)
    mass_loading_kg_per_m2: float | None = attrs.field(default=None)
    particle_radius_m: float = attrs.field(default=5.22e-6, converter=float, validator=_finite_positive)
    """Mean active-particle radius (sets the solid-diffusion length); Chen2020's 5.22 µm by default."""
    am_mass_fraction: float | None = attrs.field(default=None, validator=_fraction)
    """Active material's share of the dry solid by mass (from the design), if known."""
    material: str = "NMC811"

    def __attrs_post_init__(self):
        if (self.thickness_m is None) == (self.mass_loading_kg_per_m2 is None):
            raise ValidationError(
                "Electrode: give exactly one of thickness_m or mass_loading_kg_per_m2 "
                f"(got thickness_m={self.thickness_m!r}, mass_loading_kg_per_m2={self.mass_loading_kg_per_m2!r})"
            )
        for name in ("thickness_m", "mass_loading_kg_per_m2"):
            v = getattr(self, name)
            if v is not None and not (math.isfinite(v) and v > 0):
                _fail("Electrode", name, v, "must be a finite number > 0")


# ------------------------------------------------------------------ protocols
@attrs.frozen
class ConstantCurrent:
    """Constant-current discharge at a C-rate (1C empties the design's nominal capacity in 1 h)."""

    c_rate: float = attrs.field(converter=float, validator=_finite_positive)
    lower_cutoff_V: float | None = None
    """Discharge stops at this voltage; None = the simulator's parameter-set default."""
    upper_cutoff_V: float | None = None

    @property
    def label(self) -> str:
        return f"{self.c_rate:g}C"


@attrs.frozen
class ConstantPower:
    """Constant-power discharge at ``power_W`` (whole cell) to the lower cut-off voltage."""

    power_W: float = attrs.field(converter=float, validator=_finite_positive)
    lower_cutoff_V: float | None = None
    upper_cutoff_V: float | None = None

    @property
    def label(self) -> str:
        return f"{self.power_W:g}W"


Protocol = ConstantCurrent | ConstantPower
_PROTOCOL_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(C|W|kW)\s*$")


def protocol_from_string(text: str) -> ConstantCurrent | ConstantPower:
    """Parse ``"1C"``, ``"0.5C"``, ``"10W"``, ``"0.2kW"`` into a protocol."""
    m = _PROTOCOL_RE.match(str(text))
    if not m:
        raise ValidationError(f"protocol {text!r}: expected a C-rate like '1C' or a power like '10W'")
    value, unit = float(m.group(1)), m.group(2)
    if unit == "C":
        return ConstantCurrent(value)
    return ConstantPower(value * (1000.0 if unit == "kW" else 1.0))


# ------------------------------------------------------------------ performance
def _curve(value: Any) -> np.ndarray:
    arr = np.asarray(value, dtype=float).ravel()
    arr.setflags(write=False)
    return arr


@attrs.frozen(eq=False)
class Performance:
    """Cell performance under one protocol. Cell-level densities are NaN where undefined."""

    capacity_Ah: float = attrs.field(converter=float)
    energy_Wh: float = attrs.field(converter=float)
    mean_power_W: float = attrs.field(converter=float)
    duration_s: float = attrs.field(converter=float)
    energy_density_Wh_per_L: float = attrs.field(converter=float)
    """Energy per cell volume (full cells; the electrode stack's volume for half cells)."""
    specific_energy_Wh_per_kg: float = attrs.field(converter=float)
    """Energy per cell mass (full cells; the electrode stack's mass for half cells)."""
    capacity_per_g_active_mAh: float = attrs.field(converter=float)
    time_s: np.ndarray = attrs.field(factory=lambda: np.empty(0), converter=_curve)
    voltage_V: np.ndarray = attrs.field(factory=lambda: np.empty(0), converter=_curve)
    extras: Mapping[str, float] = attrs.field(factory=dict, converter=_float_map)
    """Further scalars, e.g. overpotentials at the end of discharge (names carry units)."""

    #: Scalar field names, in order (used by the campaign store and JSON output).
    SCALARS = (
        "capacity_Ah",
        "energy_Wh",
        "mean_power_W",
        "duration_s",
        "energy_density_Wh_per_L",
        "specific_energy_Wh_per_kg",
        "capacity_per_g_active_mAh",
    )

    def scalars(self) -> dict[str, float]:
        return {k: float(getattr(self, k)) for k in self.SCALARS}

    def to_dict(self, curves: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = self.scalars()
        out["extras"] = dict(self.extras)
        if curves:
            out["time_s"] = self.time_s.tolist()
            out["voltage_V"] = self.voltage_V.tolist()
        return out


# ------------------------------------------------------------------ evaluation
@attrs.frozen(eq=False)
class Evaluation:
    """One design evaluated through the pipeline (or failed on the way)."""

    index: int
    params: Mapping[str, float] = attrs.field(converter=_float_map)
    objective: float = attrs.field(converter=float)
    status: str = attrs.field(validator=attrs.validators.in_((STATUS_OK, STATUS_FAILED)))
    metrics: Metrics | None = None
    performances: Mapping[str, Performance] = attrs.field(factory=dict, converter=to_dict)
    """Protocol label (e.g. ``"10W"``) -> performance."""
    error: str = ""
    """One-line reason for a failure, prefixed with the stage/plugin that failed."""
    timings_s: Mapping[str, float] = attrs.field(factory=dict, converter=_float_map)
    """Seconds per stage: ``generate``, ``characterize``, ``simulate``, ``total``."""
    seed: int = 0
    batch: int = 0
    uncertainty: float = 0.0
    """Generator-reported spread of the objective's inputs (0 if none)."""

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK
