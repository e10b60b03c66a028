"""Component protocols: what a generator, characterizer, cell simulator and optimizer must offer.

These :class:`typing.Protocol` classes *are* the component contract of docs/plugin-contract.md.
A plugin does not inherit from them (structural typing: having the members is enough); the
core types its arguments with them, a type checker checks third-party code against them, and
:func:`missing_members` is what the registry runs on every registered component: a component
that lacks a required member, or whose method cannot be called the way the core calls it, is
listed as *broken* by ``electroforge plugins`` with the missing member named.

Every component is scikit-learn shaped: the constructor takes keyword options (from the
campaign config or the CLI) and stores them; the data goes to the method call; results are new
value objects (:mod:`electroforge.model`). ``name`` is a class attribute, unique within its kind
and lowercase; it is what configs and the command line use, and what error messages quote.

Optional members are spelled out as their own protocols (:class:`UncertaintyAwareGenerator`,
:class:`NoiseAwareOptimizer`); the core checks for them with :func:`supports_uncertainty` and
:func:`accepts_noise` and never by catching a ``TypeError``.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    from electroforge.cells import CellFormat
    from electroforge.design import DesignSpace
    from electroforge.model import Electrode, Metrics, Microstructure, Performance, Protocol as DischargeProtocol

__all__ = [
    "CellSimulator",
    "Characterizer",
    "Generator",
    "NoiseAwareOptimizer",
    "Optimizer",
    "OptimizerFactory",
    "PROTOCOLS",
    "UncertaintyAwareGenerator",
    "accepts_noise",
    "missing_members",
    "supports_uncertainty",
]


@runtime_checkable
class Generator(Protocol):
    """Makes 3D microstructures from manufacturing parameters.

    ``parameters`` declares the names the generator understands and a closed envelope
    ``(lower, upper)`` for each, finite with lower < upper. The *core* refuses values outside the
    envelope before calling :meth:`generate` (``check_generator_params``), so a generator need not
    re-check them; it may still raise on values it cannot use.
    """

    name: str
    parameters: Mapping[str, tuple[float, float]]

    def generate(self, params: Mapping[str, float], shape: tuple[int, int, int], seed: int) -> Microstructure:
        """Return a microstructure of exactly ``shape`` voxels (x through the thickness).

        ``params`` holds a subset of :attr:`parameters` (a generator fills missing ones with its
        own defaults); labels index the microstructure's ``phases``. The same ``(params, shape,
        seed)`` gives the same labels. Failures raise an exception with a one-line message; the
        campaign records the evaluation as failed with stage and plugin name.
        """
        ...


@runtime_checkable
class UncertaintyAwareGenerator(Generator, Protocol):
    """A generator that also reports how sure it is (optional member of :class:`Generator`)."""

    def generate_with_uncertainty(
        self, params: Mapping[str, float], shape: tuple[int, int, int], seed: int
    ) -> tuple[Microstructure, float]:
        """Like :meth:`Generator.generate`, plus the *relative* (dimensionless, >= 0) uncertainty
        of the output, e.g. the spread of the metrics across ensemble members over their mean
        (0.05 = 5 %). A campaign uses this method instead of ``generate`` when it exists, stores
        the value in the ``uncertainty`` variable and tells the optimizer a per-observation noise
        variance of ``(uncertainty * objective) ** 2``."""
        ...


@runtime_checkable
class Characterizer(Protocol):
    """Reduces a microstructure to the four metrics (through the thickness, x)."""

    name: str

    def characterize(self, microstructure: Microstructure) -> Metrics:
        """Return the metrics of ``microstructure``.

        Pores that do not connect the two x faces give ``tortuosity_factor = inf`` and a solid that
        does not gives ``effective_conductivity_S_per_m = 0``: that is a result, not an exception
        (the campaign marks such an evaluation failed with the reasons in
        :mod:`electroforge.characterization`)."""
        ...


@runtime_checkable
class CellSimulator(Protocol):
    """Turns an electrode into cell performance under a discharge protocol."""

    name: str

    def simulate(self, electrode: Electrode, cell: CellFormat, protocol: DischargeProtocol) -> Performance:
        """Discharge ``electrode`` in ``cell`` under ``protocol`` (a ``ConstantCurrent`` or a
        ``ConstantPower``) from full charge to the lower cut-off and return its performance.

        ``electrode.particle_radius_m`` is the mean active-particle radius of the microstructure
        when the generator reported one. A solver failure or an input outside the simulator's
        range raises :class:`~electroforge.errors.EvaluationError` whose one-line message starts
        with ``"cell simulator '<name>'"``."""
        ...


@runtime_checkable
class Optimizer(Protocol):
    """Proposes designs (maximisation) from the observations it was told.

    Constructed as ``cls(space=DesignSpace, seed=int, **options)`` (:class:`OptimizerFactory`).
    Resume contract: ``ask(n)`` is a pure function of (seed, options, the ordered observations
    told so far, n); it never depends on how often ``ask`` was called, so a fresh optimizer told
    all stored observations at once asks what the uninterrupted one would.
    """

    name: str

    def ask(self, n: int) -> list[dict[str, float]]:
        """``n`` designs, each a dict with every parameter of the space, inside its bounds."""
        ...

    def tell(
        self,
        params: Sequence[Mapping[str, float]],
        objectives: Sequence[float],
        failed: Sequence[bool],
    ) -> None:
        """Record one batch of observations in the order given. ``objectives[i]`` is NaN where
        ``failed[i]``; failed observations are told, never dropped."""
        ...


@runtime_checkable
class NoiseAwareOptimizer(Optimizer, Protocol):
    """An optimizer whose ``tell`` takes per-observation noise (optional member of :class:`Optimizer`)."""

    def tell(
        self,
        params: Sequence[Mapping[str, float]],
        objectives: Sequence[float],
        failed: Sequence[bool],
        noise: Sequence[float] | None = None,
    ) -> None:
        """As :meth:`Optimizer.tell`; ``noise[i]`` is the variance of ``objectives[i]`` in
        objective units squared (0 for failed rows). The campaign passes ``noise`` only when a
        generator reported an uncertainty, and only to an optimizer whose ``tell`` has a
        ``noise`` parameter (:func:`accepts_noise`)."""
        ...


class OptimizerFactory(Protocol):
    """What ``register_optimizers`` returns: a class constructed with the design space and seed."""

    name: str

    def __call__(self, *, space: DesignSpace, seed: int, **options: Any) -> Optimizer: ...


#: The protocol each component kind must satisfy (keys are the registry's kinds).
PROTOCOLS: dict[str, type] = {
    "generator": Generator,
    "characterizer": Characterizer,
    "cell_simulator": CellSimulator,
    "optimizer": Optimizer,
}

# kind -> (member, how the core calls it: positional argument names, keyword names)
_CALLS: dict[str, tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]] = {
    "generator": (("generate", ("params", "shape", "seed"), ()),),
    "characterizer": (("characterize", ("microstructure",), ()),),
    "cell_simulator": (("simulate", ("electrode", "cell", "protocol"), ()),),
    "optimizer": (("ask", ("n",), ()), ("tell", ("params", "objectives", "failed"), ())),
}
_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "generator": ("name", "parameters"),
    "characterizer": ("name",),
    "cell_simulator": ("name",),
    "optimizer": ("name",),
}


def _signature_text(member: str, args: tuple[str, ...]) -> str:
    return f"{member}({', '.join(args)})"


def _bindable(func: Any, args: tuple[str, ...], kwargs: tuple[str, ...], unbound: bool) -> bool:
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):  # a builtin without a signature: assume it fits
        return True
    positional = [object()] * ((1 if unbound else 0) + len(args))
    try:
        sig.bind(*positional, **{k: object() for k in kwargs})
    except TypeError:
        return False
    return True


def missing_members(kind: str, obj: Any) -> list[str]:
    """What ``obj`` (a registered class or instance) lacks to satisfy the protocol of ``kind``.

    ``[]`` when it conforms; otherwise one entry per problem, e.g. ``"generate(params, shape,
    seed)"`` (missing or not callable that way), ``"parameters"`` (attribute missing), or
    ``"constructor accepting space= and seed="`` (optimizers). Used by the registry to list a
    non-conforming component as broken, and by :mod:`electroforge.testing`.
    """
    if kind not in PROTOCOLS:
        raise KeyError(f"unknown component kind {kind!r}; kinds are {', '.join(PROTOCOLS)}")
    problems: list[str] = []
    is_class = isinstance(obj, type)
    for attr in _ATTRIBUTES[kind]:
        if not hasattr(obj, attr):
            problems.append(attr)
    for member, args, kwargs in _CALLS[kind]:
        func = getattr(obj, member, None)
        if func is None or not callable(func):
            problems.append(_signature_text(member, args))
            continue
        unbound = is_class and not isinstance(inspect.getattr_static(obj, member, None), (staticmethod, classmethod))
        if not _bindable(func, args, kwargs, unbound):
            problems.append(_signature_text(member, args))
    if kind == "optimizer" and is_class and not _bindable(obj, (), ("space", "seed"), False):
        problems.append("constructor accepting space= and seed=")
    return problems


def supports_uncertainty(generator: Any) -> bool:
    """Whether ``generator`` offers the optional ``generate_with_uncertainty``."""
    return callable(getattr(generator, "generate_with_uncertainty", None))


def accepts_noise(optimizer: Any) -> bool:
    """Whether ``optimizer.tell`` takes a ``noise`` keyword (a ``noise`` parameter or ``**kwargs``)."""
    tell = getattr(optimizer, "tell", None)
    if tell is None:
        return False
    try:
        params = inspect.signature(tell).parameters
    except (TypeError, ValueError):
        return False
    return "noise" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
