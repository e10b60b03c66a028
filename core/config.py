"""Campaign configuration: a TOML file (or a shipped named config) -> :class:`CampaignConfig`.

Example (every key but ``design`` has a default)::

    name = "my-campaign"
    seed = 0
    budget = 30                  # evaluations in total
    batch = 1                    # designs proposed per optimizer.ask (evaluated in parallel)
    objective = "specific_energy_Wh_per_kg"    # a Performance field, maximised
    objective_protocol = "10W"   # which protocol's performance is the objective (default: first)
    protocols = ["10W"]          # "1C", "0.5C", "10W", "0.2kW"
    max_failure_fraction = 0.5   # stop when more than this share of (>= 6) evaluations failed

    [design]                     # the optimised parameters: bounds and the stage each feeds
    am_mass_fraction = [0.85, 0.97]
    porosity = [0.25, 0.50]
    mass_loading_mg_per_cm2 = { bounds = [10, 40], stage = "cell" }

    [fixed]                      # parameters held constant
    binder_adhesion = 0.5
    mass_loading_mg_per_cm2 = 20

    [generator]  name = "procedural"; shape = 64; n_cubes = 1; options = {...}
    [characterizer] name = "taufactor"; options = {...}
                    target_ci = 0.01   # optional: cubes until the mean tortuosity's 95 % CI is within 1 %
                    max_cubes = 16     # ... or this many cubes (see electroforge.rve.characterize_to_target)
    [simulator] name = "pybamm"; options = {...}
    [cell] format = "4680" | "half"; options = {...}
    [optimizer] name = "trieste"; options = {...}

Each design parameter feeds the stage it declares (``Parameter.stage``; ``stage = "cell"`` is the
default for the cell-stage names below); a fixed parameter feeds the cell if it is one of them,
else the generator. Cell-stage parameters: ``mass_loading_mg_per_cm2`` (dry coating mass per side,
mg/cm²), ``thickness_um`` (coating thickness per side, µm) and ``particle_radius_um`` (overrides
the generator's ``Microstructure.particle_radius_m``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from electroforge._convert import to_dict
from electroforge.design import DesignSpace, Parameter
from electroforge.errors import InputFileError, ValidationError
from electroforge.model import Performance, protocol_from_string

#: Parameters consumed by the cell stage rather than the generator.
CELL_PARAMETERS = {"mass_loading_mg_per_cm2": "mg/cm²", "thickness_um": "µm", "particle_radius_um": "µm"}
_TOP_KEYS = {
    "name",
    "description",
    "seed",
    "budget",
    "batch",
    "objective",
    "objective_protocol",
    "protocols",
    "max_failure_fraction",
    "design",
    "fixed",
    "generator",
    "characterizer",
    "simulator",
    "cell",
    "optimizer",
    "timeout_s",
}
_SECTION_KEYS = {
    "generator": {"name", "shape", "n_cubes", "options"},
    "characterizer": {"name", "options", "target_ci", "max_cubes"},
    "simulator": {"name", "options"},
    "cell": {"format", "options"},
    "optimizer": {"name", "options"},
}


@attrs.frozen
class ComponentSpec:
    """Which registered component to use and the keyword options to build it with."""

    name: str
    options: Mapping[str, Any] = attrs.field(factory=dict, converter=to_dict)


@attrs.frozen
class CampaignConfig:
    """A validated campaign description (see the module docstring for the TOML form)."""

    name: str
    space: DesignSpace
    fixed: Mapping[str, float] = attrs.field(factory=dict, converter=to_dict)
    seed: int = 0
    budget: int = 20
    batch: int = 1
    objective: str = "specific_energy_Wh_per_kg"
    objective_protocol: str = ""
    protocols: tuple[str, ...] = ("10W",)
    max_failure_fraction: float = 0.5
    timeout_s: float = 600.0
    generator: ComponentSpec = ComponentSpec("procedural")
    shape: int = 64
    n_cubes: int = 1
    characterizer: ComponentSpec = ComponentSpec("taufactor")
    target_ci: float = 0.0
    """Relative 95 % CI half-width of the mean tortuosity to reach per evaluation (0 = off: ``n_cubes`` cubes)."""
    max_cubes: int = 16
    """Cap on the cubes per evaluation when ``target_ci`` is set."""
    simulator: ComponentSpec = ComponentSpec("pybamm")
    cell_format: str = "4680"
    cell_options: Mapping[str, Any] = attrs.field(factory=dict, converter=to_dict)
    optimizer: ComponentSpec = ComponentSpec("trieste")
    description: str = ""
    text: str = ""
    """The TOML text this config came from (stored in the campaign file)."""

    @property
    def objective_label(self) -> str:
        return self.objective_protocol or self.protocols[0]

    def stage_of(self, name: str) -> str:
        """The stage a parameter feeds: its declared ``Parameter.stage`` for a design parameter;
        for a fixed one ``"cell"`` if it is one of :data:`CELL_PARAMETERS`, else ``"generator"``."""
        if name in self.space.names:
            return self.space[name].stage
        return "cell" if name in CELL_PARAMETERS else "generator"

    def params_for(self, stage: str, params: Mapping[str, float]) -> dict[str, float]:
        """Design + fixed values that feed ``stage`` (``"generator"`` or ``"cell"``)."""
        merged = {**self.fixed, **params}
        return {k: float(v) for k, v in merged.items() if self.stage_of(k) == stage}

    def generator_params(self, params: Mapping[str, float]) -> dict[str, float]:
        """Design + fixed values that feed the generator (routed by :meth:`stage_of`)."""
        return self.params_for("generator", params)

    def cell_params(self, params: Mapping[str, float]) -> dict[str, float]:
        """Design + fixed values that feed the cell stage (routed by :meth:`stage_of`)."""
        return self.params_for("cell", params)

    def to_toml(self) -> str:
        """The effective config as TOML, overrides applied: what a campaign file stores.

        ``config_from_dict(tomllib.loads(cfg.to_toml()))`` validates to a config equal to ``cfg``
        but for ``text``; the text the config came from (if any) follows as comments, so that the
        stored config says both what ran and what was written.
        """
        import tomli_w

        def component(spec: ComponentSpec, **extra: Any) -> dict[str, Any]:
            return {"name": spec.name, **extra, "options": _toml_safe(dict(spec.options))}

        data: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "seed": self.seed,
            "budget": self.budget,
            "batch": self.batch,
            "objective": self.objective,
            "objective_protocol": self.objective_protocol,
            "protocols": list(self.protocols),
            "max_failure_fraction": self.max_failure_fraction,
            "timeout_s": self.timeout_s,
            "design": {
                p.name: {"bounds": [p.lower, p.upper], "stage": p.stage, "unit": p.unit} for p in self.space.parameters
            },
            "fixed": dict(self.fixed),
            "generator": component(self.generator, shape=self.shape, n_cubes=self.n_cubes),
            "characterizer": component(self.characterizer, target_ci=self.target_ci, max_cubes=self.max_cubes),
            "simulator": component(self.simulator),
            "cell": {"format": self.cell_format, "options": _toml_safe(dict(self.cell_options))},
            "optimizer": component(self.optimizer),
        }
        out = f"# effective config of campaign {self.name!r} (overrides applied)\n" + tomli_w.dumps(data)
        if self.text and self.text.strip():
            out += "\n# as written:\n" + "".join(f"# {line}\n" for line in self.text.splitlines())
        return out

    def with_overrides(self, **overrides: Any) -> CampaignConfig:
        """Apply CLI overrides (None values are ignored) and re-validate."""
        changes = {k: v for k, v in overrides.items() if v is not None}
        for key in ("generator", "optimizer", "simulator", "characterizer"):
            if isinstance(changes.get(key), str):
                old = getattr(self, key)
                changes[key] = ComponentSpec(changes[key], old.options if old.name == changes[key] else {})
        cfg = attrs.evolve(self, **changes)
        _validate(cfg)
        return cfg


def _toml_safe(value: Any) -> Any:
    """Options as TOML can hold them: mappings and sequences recursively, other non-TOML values
    (paths, None, objects passed from Python) as their ``str``."""
    if isinstance(value, Mapping):
        return {str(k): _toml_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_toml_safe(v) for v in value]
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _section(data: Mapping[str, Any], key: str, source: str) -> dict[str, Any]:
    sec = data.get(key, {})
    if not isinstance(sec, Mapping):
        raise InputFileError(f"{source}: [{key}] must be a table")
    unknown = set(sec) - _SECTION_KEYS[key]
    if unknown:
        raise InputFileError(
            f"{source}: unknown key(s) {sorted(unknown)} in [{key}]; allowed: {sorted(_SECTION_KEYS[key])}"
        )
    opts = sec.get("options", {})
    if not isinstance(opts, Mapping):
        raise InputFileError(f"{source}: [{key}.options] must be a table")
    return dict(sec)


def _number(source: str, key: str, value: Any, kind=float) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputFileError(f"{source}: {key} = {value!r} must be a number")
    if kind is int and int(value) != value:
        raise InputFileError(f"{source}: {key} = {value!r} must be an integer")
    return kind(value)


def config_from_dict(data: Mapping[str, Any], source: str = "config", text: str = "") -> CampaignConfig:
    """Validate a parsed TOML mapping; errors name the source and the key."""
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise InputFileError(f"{source}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_TOP_KEYS)}")
    design = data.get("design")
    if not isinstance(design, Mapping) or not design:
        raise InputFileError(f"{source}: [design] with at least one parameter and its bounds is required")
    params = []
    for name, spec in design.items():
        stage = "cell" if name in CELL_PARAMETERS else "generator"
        unit = CELL_PARAMETERS.get(name, "")
        if isinstance(spec, Mapping):
            bounds = spec.get("bounds")
            stage = spec.get("stage", stage)
            unit = spec.get("unit", unit)
        else:
            bounds = spec
        if not (isinstance(bounds, (list, tuple)) and len(bounds) == 2):
            raise InputFileError(f"{source}: design.{name} must be [lower, upper], got {bounds!r}")
        lo = _number(source, f"design.{name}[0]", bounds[0])
        hi = _number(source, f"design.{name}[1]", bounds[1])
        try:
            params.append(Parameter(name, lo, hi, stage=stage, unit=unit))
        except ValidationError as exc:
            raise InputFileError(f"{source}: design.{name}: {exc}") from None
    fixed = data.get("fixed", {})
    if not isinstance(fixed, Mapping):
        raise InputFileError(f"{source}: [fixed] must be a table of numbers")
    fixed = {k: _number(source, f"fixed.{k}", v) for k, v in fixed.items()}
    gen = _section(data, "generator", source)
    cha = _section(data, "characterizer", source)
    sim = _section(data, "simulator", source)
    cell = _section(data, "cell", source)
    opt = _section(data, "optimizer", source)
    protocols = data.get("protocols", ["10W"])
    if isinstance(protocols, str):
        protocols = [protocols]
    if not isinstance(protocols, list) or not protocols:
        raise InputFileError(f'{source}: protocols must be a list like ["10W", "1C"]')
    try:
        labels = tuple(protocol_from_string(p).label for p in protocols)
    except ValidationError as exc:
        raise InputFileError(f"{source}: protocols: {exc}") from None
    objective_protocol = data.get("objective_protocol", "")
    if objective_protocol:
        try:
            objective_protocol = protocol_from_string(objective_protocol).label
        except ValidationError as exc:
            raise InputFileError(f"{source}: objective_protocol: {exc}") from None
    try:
        cfg = CampaignConfig(
            name=str(data.get("name", Path(source).stem)),
            description=str(data.get("description", "")),
            space=DesignSpace(tuple(params)),
            fixed=fixed,
            seed=_number(source, "seed", data.get("seed", 0), int),
            budget=_number(source, "budget", data.get("budget", 20), int),
            batch=_number(source, "batch", data.get("batch", 1), int),
            objective=str(data.get("objective", "specific_energy_Wh_per_kg")),
            objective_protocol=objective_protocol,
            protocols=labels,
            max_failure_fraction=_number(source, "max_failure_fraction", data.get("max_failure_fraction", 0.5)),
            timeout_s=_number(source, "timeout_s", data.get("timeout_s", 600.0)),
            generator=ComponentSpec(str(gen.get("name", "procedural")), gen.get("options", {})),
            shape=_number(source, "generator.shape", gen.get("shape", 64), int),
            n_cubes=_number(source, "generator.n_cubes", gen.get("n_cubes", 1), int),
            characterizer=ComponentSpec(str(cha.get("name", "taufactor")), cha.get("options", {})),
            target_ci=_number(source, "characterizer.target_ci", cha.get("target_ci", 0.0)),
            max_cubes=_number(source, "characterizer.max_cubes", cha.get("max_cubes", 16), int),
            simulator=ComponentSpec(str(sim.get("name", "pybamm")), sim.get("options", {})),
            cell_format=str(cell.get("format", "4680")),
            cell_options=cell.get("options", {}),
            optimizer=ComponentSpec(str(opt.get("name", "trieste")), opt.get("options", {})),
            text=text,
        )
    except ValidationError as exc:
        raise InputFileError(f"{source}: {exc}") from None
    try:
        _validate(cfg)
    except ValidationError as exc:
        raise InputFileError(f"{source}: {exc}") from None
    return cfg


def _validate(cfg: CampaignConfig) -> None:
    if cfg.objective not in Performance.SCALARS:
        raise ValidationError(
            f"objective {cfg.objective!r} is not a performance field; use one of {', '.join(Performance.SCALARS)}"
        )
    if cfg.objective_protocol and cfg.objective_protocol not in cfg.protocols:
        raise ValidationError(
            f"objective_protocol {cfg.objective_protocol!r} is not among protocols {list(cfg.protocols)}"
        )
    if cfg.budget < 1:
        raise ValidationError(f"budget={cfg.budget}: must be >= 1")
    if not 1 <= cfg.batch <= 256:
        raise ValidationError(f"batch={cfg.batch}: must be 1..256")
    if not 8 <= cfg.shape <= 512:
        raise ValidationError(f"shape={cfg.shape}: cube edge must be 8..512 voxels")
    if not 1 <= cfg.n_cubes <= 64:
        raise ValidationError(f"n_cubes={cfg.n_cubes}: must be 1..64")
    from electroforge.rve import check_target

    check_target(cfg.target_ci, cfg.max_cubes)
    if not 0 < cfg.max_failure_fraction <= 1:
        raise ValidationError(f"max_failure_fraction={cfg.max_failure_fraction}: must be in (0, 1]")
    if not cfg.timeout_s > 0:
        raise ValidationError(f"timeout_s={cfg.timeout_s}: must be > 0")
    overlap = set(cfg.fixed) & set(cfg.space.names)
    if overlap:
        raise ValidationError(f"parameter(s) {sorted(overlap)} are both in [design] and [fixed]")
    for p in cfg.space.parameters:
        if p.name in CELL_PARAMETERS and p.stage != "cell":
            raise ValidationError(f"design.{p.name} feeds the cell; its stage must be 'cell'")
        if p.stage == "cell" and p.name not in CELL_PARAMETERS:
            raise ValidationError(
                f"design.{p.name} has stage 'cell', but the cell stage takes only {', '.join(CELL_PARAMETERS)}"
            )
    cell_keys = set(cfg.fixed) | set(cfg.space.names)
    if {"mass_loading_mg_per_cm2", "thickness_um"} <= cell_keys:
        raise ValidationError("give either mass_loading_mg_per_cm2 or thickness_um, not both")


def shipped_configs() -> dict[str, str]:
    """Names of the case studies shipped with electroforge -> their TOML text."""
    folder = resources.files("electroforge") / "configs"
    return {p.name[:-5]: p.read_text() for p in folder.iterdir() if p.name.endswith(".toml")}


def load_config(name_or_path: str | Path) -> CampaignConfig:
    """A shipped config by name (``case-study-2``) or a TOML file path."""
    shipped = shipped_configs()
    key = str(name_or_path)
    if key in shipped:
        text, source = shipped[key], key
    else:
        path = Path(key)
        if not path.is_file():
            names = ", ".join(sorted(shipped))
            raise InputFileError(f"{key}: no such config file or shipped config (shipped: {names})")
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputFileError(f"{path}: cannot read ({type(exc).__name__})") from None
        source = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(f"{source}: invalid TOML ({exc})") from None
    if key not in shipped:
        data = _resolve_option_paths(data, Path(key).parent)
    return config_from_dict(data, source=source, text=text)


def _resolve_option_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """Relative file paths in ``[<component>.options]`` name files next to the config file.

    A string option that is not absolute and names an existing file relative to the config's
    folder (e.g. ``[simulator] options = {parameter_set = "my-cell.bpx.json"}``) is replaced by
    that file's absolute path, so a campaign runs the same from any working directory.
    """
    out = dict(data)
    for key in _SECTION_KEYS:
        sec = out.get(key)
        if not isinstance(sec, Mapping) or not isinstance(sec.get("options"), Mapping):
            continue
        opts = dict(sec["options"])
        for name, value in opts.items():
            if isinstance(value, str) and value and not Path(value).is_absolute() and (base / value).is_file():
                opts[name] = str((base / value).resolve())
        out[key] = {**sec, "options": opts}
    return out
