"""Component protocols (electroforge.components) and the registry's conformance check."""

import numpy as np
import pytest

from electroforge import Microstructure, hookimpl
from electroforge.components import (
    CellSimulator,
    Characterizer,
    Generator,
    NoiseAwareOptimizer,
    Optimizer,
    UncertaintyAwareGenerator,
    accepts_noise,
    missing_members,
    supports_uncertainty,
)
from electroforge.errors import UnknownComponentError
from electroforge.registry import get_registry


class GoodGen:
    name = "goodgen"
    parameters = {"porosity": (0.2, 0.5)}

    def generate(self, params, shape, seed):
        return Microstructure(np.zeros(shape, np.uint8), 1e-6)


class NoParametersGen:
    name = "noparams"

    def generate(self, params, shape, seed):  # pragma: no cover - never called
        raise NotImplementedError


class TwoArgGen:
    name = "twoarg"
    parameters = {"porosity": (0.2, 0.5)}

    def generate(self, params, shape):  # pragma: no cover - the seed is missing
        raise NotImplementedError


class NoTellOpt:
    name = "notell"

    def __init__(self, space, seed=0):
        pass

    def ask(self, n):  # pragma: no cover
        return []


class NoSpaceOpt:
    name = "nospace"

    def __init__(self, seed=0):  # pragma: no cover
        pass

    def ask(self, n):  # pragma: no cover
        return []

    def tell(self, params, objectives, failed):  # pragma: no cover
        pass


class NoisyOpt:
    name = "noisy"

    def __init__(self, space, seed=0):
        pass

    def ask(self, n):  # pragma: no cover
        return []

    def tell(self, params, objectives, failed, noise=None):  # pragma: no cover
        pass


class Plug:
    @hookimpl
    def register_generators(self):
        return [GoodGen, NoParametersGen, TwoArgGen]

    @hookimpl
    def register_optimizers(self):
        return [NoTellOpt, NoSpaceOpt, NoisyOpt]


def test_missing_members_names_what_is_missing():
    assert missing_members("generator", GoodGen) == []
    assert missing_members("generator", GoodGen()) == []
    assert missing_members("generator", NoParametersGen) == ["parameters"]
    assert missing_members("generator", TwoArgGen) == ["generate(params, shape, seed)"]
    assert missing_members("optimizer", NoTellOpt) == ["tell(params, objectives, failed)"]
    assert missing_members("optimizer", NoSpaceOpt) == ["constructor accepting space= and seed="]
    assert missing_members("characterizer", GoodGen) == ["characterize(microstructure)"]
    assert missing_members("cell_simulator", object()) == ["name", "simulate(electrode, cell, protocol)"]


def test_registry_lists_a_non_conforming_component_as_broken_with_the_member():
    reg = get_registry(autoload=False, plugins=[("plug", Plug())])
    assert reg.names("generator") == ["goodgen"]
    assert reg.names("optimizer") == ["noisy"]
    rows = {(r.kind, r.name): r for r in reg.listing()}
    row = rows[("generator", "noparams")]
    assert row.status == "broken"
    assert row.error == "generator 'noparams' does not satisfy the Generator protocol: missing parameters"
    assert "missing generate(params, shape, seed)" in rows[("generator", "twoarg")].error
    assert "missing tell(params, objectives, failed)" in rows[("optimizer", "notell")].error
    with pytest.raises(UnknownComponentError, match=r"no optimizer named 'notell' \(it is broken: .*missing tell"):
        reg.get("optimizer", "notell")


def test_runtime_checkable_protocols_and_optional_members():
    assert isinstance(GoodGen(), Generator)
    assert not isinstance(GoodGen(), UncertaintyAwareGenerator)
    assert not supports_uncertainty(GoodGen())
    assert not isinstance(GoodGen(), Characterizer) and not isinstance(GoodGen(), CellSimulator)
    assert isinstance(NoisyOpt(None), Optimizer) and isinstance(NoisyOpt(None), NoiseAwareOptimizer)
    assert accepts_noise(NoisyOpt(None))
    assert not accepts_noise(NoSpaceOpt())


def test_every_installed_component_conforms():
    reg = get_registry()
    broken = [r for r in reg.listing() if r.status == "broken" and "protocol" in r.error]
    assert not broken, [r.error for r in broken]
