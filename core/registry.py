"""Plugin discovery: entry points -> pluggy plugin manager -> components by kind and name.

:func:`get_registry` has no side effects at import time. It

1. reads the entry-point group ``electroforge`` (built-in plugins are declared there too),
2. skips plugins named in ``disable`` or the ``ELECTROFORGE_DISABLE`` environment variable
   (comma-separated plugin or component names),
3. imports and registers each plugin; an import failure marks that plugin *broken* with a
   one-line reason and the others go on,
4. calls each plugin's ``register_*`` hooks one plugin at a time, so a hook that raises breaks
   only that plugin,
5. checks each component against its protocol (:mod:`electroforge.components`); one that lacks a
   required member is listed as *broken* with the missing member named and cannot be used,
6. indexes components by ``(kind, name)``; two distributions offering the same name in one kind
   make that name unusable with an error naming both.
"""
from __future__ import annotations

import importlib.metadata as importlib_metadata
import os
import sys
import traceback
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal, overload

import attrs
import pluggy

from electroforge import hookspecs
from electroforge.components import PROTOCOLS, missing_members
from electroforge.errors import DuplicateComponentError, PluginError, UnknownComponentError
from electroforge.hookspecs import PROJECT_NAME

if TYPE_CHECKING:  # pragma: no cover
    from electroforge.components import CellSimulator, Characterizer, Generator, Optimizer

#: Component kinds and the registration hook that provides each.
KINDS: dict[str, str] = {
    "generator": "register_generators",
    "characterizer": "register_characterizers",
    "cell_simulator": "register_cell_simulators",
    "optimizer": "register_optimizers",
}
ENTRY_POINT_GROUP = PROJECT_NAME
DISABLE_ENV = "ELECTROFORGE_DISABLE"

#: Components of the distributions in this repository's ``contrib/`` folder, by (kind, name):
#: the distribution that provides each, named in the error when a config asks for one that is not
#: installed (only a hint: the registry still learns about components from entry points alone).
KNOWN_CONTRIB: dict[tuple[str, str], str] = {
    ("optimizer", "optuna-tpe"): "electroforge-optuna",
    ("optimizer", "cmaes"): "electroforge-optuna",
    ("optimizer", "trieste-warm"): "electroforge-warmstart",
    ("generator", "gan-ensemble"): "electroforge-ensemble",
    ("cell_simulator", "pybamm-lfp"): "electroforge-lfp",
    ("cell_simulator", "pybamm-calibrated"): "electroforge-calibrate",
}

STATUS_OK, STATUS_BROKEN, STATUS_DISABLED = "ok", "broken", "disabled"


@attrs.frozen
class PluginInfo:
    """One registered plugin (an entry point or an object registered by hand)."""

    name: str
    distribution: str
    version: str
    status: str = STATUS_OK
    error: str = ""
    kind: str = "plugin"
    """The component kind whose registration hook failed; ``"plugin"`` when unknown (e.g. the
    import failed before any hook could run)."""


@attrs.frozen
class ComponentInfo:
    """One component offered by a plugin; ``obj`` is the class (or instance) it registered."""

    kind: str
    name: str
    plugin: str
    distribution: str
    version: str
    obj: Any = attrs.field(default=None, repr=False)
    status: str = STATUS_OK
    error: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "error": self.error,
        }


def one_line(exc: BaseException) -> str:
    """``"ModuleNotFoundError: No module named 'x'"``, first line only."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def disabled_from_env() -> set[str]:
    return {n.strip() for n in os.environ.get(DISABLE_ENV, "").split(",") if n.strip()}


class Registry:
    """Components by kind and name, built from a pluggy plugin manager."""

    def __init__(self, pm: pluggy.PluginManager, disabled: Iterable[str] = ()):
        self.pm = pm
        self.disabled = set(disabled)
        self.plugins: dict[str, PluginInfo] = {}
        self._components: dict[str, dict[str, ComponentInfo]] = {k: {} for k in KINDS}
        self._extra_listing: list[ComponentInfo] = []  # broken/disabled rows without components

    # ---------------------------------------------------------------- building
    def add_plugin(self, plugin: Any, name: str, distribution: str = "", version: str = "") -> None:
        """Register one plugin object and collect its components (failures are recorded)."""
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:  # e.g. a hookimpl with a wrong signature
            self._mark_broken(name, distribution, version, f"could not register: {one_line(exc)}")
            return
        try:
            self.pm.check_pending()  # a hook name that is not in the spec (a typo) breaks this plugin only
        except pluggy.PluginValidationError as exc:
            self._unregister_broken(name, distribution, version, one_line(exc))
            return
        self.plugins[name] = PluginInfo(name, distribution, version)
        for kind, hook_name in KINDS.items():
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                if impl.plugin_name != name:
                    continue
                try:
                    found = impl.function() or []
                    found = list(found)
                except Exception as exc:
                    self._unregister_broken(name, distribution, version, f"{hook_name}() raised {one_line(exc)}",
                                            kind=kind)
                    return
                for obj in found:
                    self._add_component(kind, obj, name, distribution, version)

    def _add_component(self, kind: str, obj: Any, plugin: str, dist: str, version: str) -> None:
        comp_name = getattr(obj, "name", None)
        if not isinstance(comp_name, str) or not comp_name:
            self._extra_listing.append(
                ComponentInfo(kind, repr(obj), plugin, dist, version, status=STATUS_BROKEN,
                              error=f"{kind} {obj!r} has no 'name' attribute")
            )
            return
        if comp_name in self.disabled:
            self._extra_listing.append(ComponentInfo(kind, comp_name, plugin, dist, version, status=STATUS_DISABLED))
            return
        missing = missing_members(kind, obj)
        if missing:
            protocol = PROTOCOLS[kind].__name__
            self._extra_listing.append(
                ComponentInfo(kind, comp_name, plugin, dist, version, obj=obj, status=STATUS_BROKEN,
                              error=f"{kind} {comp_name!r} does not satisfy the {protocol} protocol: "
                                    f"missing {', '.join(missing)}")
            )
            return
        existing = self._components[kind].get(comp_name)
        if existing is not None and existing.obj is not obj:
            msg = (
                f"two {kind}s are named {comp_name!r}: one from {existing.distribution or existing.plugin} "
                f"(plugin {existing.plugin!r}) and one from {dist or plugin} (plugin {plugin!r}); "
                f"uninstall or disable one (--disable {plugin})"
            )
            self._components[kind][comp_name] = attrs.evolve(existing, status=STATUS_BROKEN, error=msg)
            self._extra_listing.append(ComponentInfo(kind, comp_name, plugin, dist, version, obj=obj,
                                                     status=STATUS_BROKEN, error=msg))
            return
        self._components[kind][comp_name] = ComponentInfo(kind, comp_name, plugin, dist, version, obj=obj)

    def _mark_broken(self, name: str, dist: str, version: str, error: str, kind: str = "plugin") -> None:
        self.plugins[name] = PluginInfo(name, dist, version, STATUS_BROKEN, error, kind)

    def _unregister_broken(self, name: str, dist: str, version: str, error: str, kind: str = "plugin") -> None:
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)
        for k in KINDS:  # drop anything this plugin registered before failing
            for cname in [c for c, info in self._components[k].items() if info.plugin == name]:
                del self._components[k][cname]
        self._mark_broken(name, dist, version, error, kind)

    # ---------------------------------------------------------------- queries
    def names(self, kind: str) -> list[str]:
        """Usable component names of a kind, sorted."""
        self._check_kind(kind)
        return sorted(n for n, c in self._components[kind].items() if c.status == STATUS_OK)

    def info(self, kind: str, name: str) -> ComponentInfo:
        self._check_kind(kind)
        comp = self._components[kind].get(name)
        if comp is None:
            valid = ", ".join(self.names(kind)) or "none installed"
            hint = ""
            for row in self._extra_listing:
                if row.kind == kind and row.name == name and row.status == STATUS_DISABLED:
                    hint = " (it is disabled)"
                elif row.kind == kind and row.name == name and row.status == STATUS_BROKEN:
                    hint = f" (it is broken: {row.error})"
            for p in self.plugins.values():
                if p.status == STATUS_BROKEN and p.name == name:
                    hint = f" (plugin {name!r} is broken: {p.error})"
            dist = KNOWN_CONTRIB.get((kind, name))
            if not hint and dist is not None:
                hint = f" (it comes with {dist}, which is not installed: pip install -e contrib/{dist})"
            raise UnknownComponentError(f"no {kind} named {name!r}{hint}; available: {valid}")
        if comp.status == STATUS_BROKEN:
            raise DuplicateComponentError(comp.error)
        return comp

    def get(self, kind: str, name: str) -> Any:
        """The registered class (or instance) of a component."""
        return self.info(kind, name).obj

    @overload
    def create(self, kind: Literal["generator"], name: str, **options: Any) -> Generator: ...
    @overload
    def create(self, kind: Literal["characterizer"], name: str, **options: Any) -> Characterizer: ...
    @overload
    def create(self, kind: Literal["cell_simulator"], name: str, **options: Any) -> CellSimulator: ...
    @overload
    def create(self, kind: Literal["optimizer"], name: str, **options: Any) -> Optimizer: ...
    @overload
    def create(self, kind: str, name: str, **options: Any) -> Any: ...

    def create(self, kind: str, name: str, **options: Any) -> Any:
        """Instantiate a component with keyword options (an instance is returned as is); the
        result satisfies the kind's protocol in :mod:`electroforge.components` (checked at
        registration)."""
        obj = self.get(kind, name)
        if not isinstance(obj, type):
            return obj
        try:
            return obj(**options)
        except TypeError as exc:
            raise PluginError(f"{kind} {name!r}: bad options {sorted(options)}: {one_line(exc)}") from None

    def listing(self) -> list[ComponentInfo]:
        """Every component and every broken or disabled plugin, for ``electroforge plugins``."""
        rows = [c for kind in KINDS for c in self._components[kind].values()]
        rows += self._extra_listing
        for p in self.plugins.values():
            if p.status != STATUS_OK:
                rows.append(ComponentInfo(p.kind, p.name, p.name, p.distribution, p.version,
                                          status=p.status, error=p.error))
        order = {k: i for i, k in enumerate([*KINDS, "command", "plugin"])}
        return sorted(rows, key=lambda c: (order.get(c.kind, 99), c.name, c.distribution))

    def versions(self) -> dict[str, str]:
        """``{"plugin (distribution)": version}`` of the working plugins, for provenance."""
        return {
            f"{p.name} ({p.distribution})" if p.distribution else p.name: p.version
            for p in self.plugins.values()
            if p.status == STATUS_OK
        }

    def add_commands(self, app: Any) -> list[str]:
        """Call every plugin's ``register_commands(app)`` one plugin at a time.

        A plugin whose hook raises is marked broken (kind ``"command"``) and whatever it added is
        removed; a command whose name is already taken is dropped with a warning. Returns the
        names of the commands added.
        """
        added: list[str] = []
        for impl in self.pm.hook.register_commands.get_hookimpls():
            before = list(app.registered_commands)
            taken = {_command_name(c) for c in before}
            try:
                impl.function(**({"app": app} if "app" in impl.argnames else {}))
            except Exception as exc:
                app.registered_commands[:] = before
                info = self.plugins.get(impl.plugin_name)
                self._mark_broken(impl.plugin_name, info.distribution if info else "", info.version if info else "",
                                  f"register_commands() raised {one_line(exc)}", kind="command")
                print(f"warning: plugin {impl.plugin_name!r}: register_commands raised {one_line(exc)}",
                      file=sys.stderr)
                continue
            keep = list(before)
            for cmd in app.registered_commands[len(before):]:
                cname = _command_name(cmd)
                if cname in taken:
                    print(f"warning: plugin {impl.plugin_name!r}: command {cname!r} already exists; ignored",
                          file=sys.stderr)
                    continue
                taken.add(cname)
                keep.append(cmd)
                added.append(cname)
            app.registered_commands[:] = keep
        return added

    def notify(self, hook_name: str, **kwargs: Any) -> list[str]:
        """Call an event hook on every plugin, isolating failures; return their one-line reasons."""
        errors = []
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            args = {k: v for k, v in kwargs.items() if k in impl.argnames}
            try:
                impl.function(**args)
            except Exception as exc:
                errors.append(f"plugin {impl.plugin_name!r}: {hook_name} raised {one_line(exc)}")
        for err in errors:
            print(f"warning: {err}", file=sys.stderr)
        return errors

    @staticmethod
    def _check_kind(kind: str) -> None:
        if kind not in KINDS:
            raise PluginError(f"unknown component kind {kind!r}; kinds are {', '.join(KINDS)}")


def _command_name(info: Any) -> str:
    """The name of a typer ``CommandInfo`` (its explicit name, else the function's, dashed)."""
    name = getattr(info, "name", None)
    if name:
        return str(name)
    callback = getattr(info, "callback", None)
    return getattr(callback, "__name__", "").replace("_", "-")


def _entry_points() -> list[importlib_metadata.EntryPoint]:
    eps = importlib_metadata.entry_points(group=ENTRY_POINT_GROUP)
    seen, out = set(), []
    for ep in eps:  # the same distribution can appear twice on sys.path; keep the first
        key = (ep.name, ep.value)
        if key not in seen:
            seen.add(key)
            out.append(ep)
    return out


def get_registry(
    disable: Iterable[str] = (),
    autoload: bool = True,
    plugins: Iterable[tuple[str, Any]] = (),
) -> Registry:
    """Build a registry from installed entry points (``autoload``) plus explicit ``(name, plugin)``.

    ``disable`` adds to ``ELECTROFORGE_DISABLE``; a disabled name is never imported.
    """
    disabled = disabled_from_env() | set(disable)
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    reg = Registry(pm, disabled)
    if autoload:
        for ep in _entry_points():
            dist = ep.dist.name if ep.dist is not None else ""
            version = ep.dist.version if ep.dist is not None else ""
            if ep.name in disabled:
                reg.plugins[ep.name] = PluginInfo(ep.name, dist, version, STATUS_DISABLED)
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                reg._mark_broken(ep.name, dist, version, f"import failed: {one_line(exc)}")
                if os.environ.get("ELECTROFORGE_DEBUG"):
                    traceback.print_exc()
                continue
            reg.add_plugin(plugin, ep.name, dist, version)
    for name, plugin in plugins:
        if name in disabled:
            reg.plugins[name] = PluginInfo(name, "", "", STATUS_DISABLED)
            continue
        reg.add_plugin(plugin, name)
    return reg
