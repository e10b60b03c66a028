"""The conformance kit (electroforge.testing) on every built-in and contrib component, and on
deliberately broken components: each violated check gives an AssertionError naming it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from electroforge import Microstructure
from electroforge.registry import get_registry
from electroforge.testing import (
    cell_simulator_checks,
    characterizer_checks,
    check_characterizer,
    check_generator,
    check_optimizer,
    generator_checks,
    optimizer_checks,
    parametrize_with_checks,
    sample_microstructure,
)

REGISTRY = get_registry()


def _installed(kind: str, name: str):
    if name not in REGISTRY.names(kind):
        pytest.skip(f"{kind} {name!r} is not installed")
    return REGISTRY.get(kind, name)


# ---------------------------------------------------------------- built-in and contrib components
FAST_GENERATORS = ["procedural", "gan", "gan-ensemble"]
CHARACTERIZERS = ["taufactor"]
MODEL_FREE_OPTIMIZERS = ["sobol", "random", "grid", "optuna-tpe", "cmaes"]
#: small but real settings so the GP-based optimizers finish in seconds
BO_OPTIONS = {"n_initial": 3, "num_initial_samples": 200, "num_optimization_runs": 1, "num_kernel_samples": 2}
BO_OPTIMIZERS = ["trieste", "trieste-warm"]
CELL_SIMULATORS = ["pybamm", "pybamm-lfp", "pybamm-calibrated"]


@pytest.mark.parametrize("check", generator_checks(), ids=lambda c: c.name)
@pytest.mark.parametrize("name", FAST_GENERATORS)
def test_generator_conforms(name, check):
    check(_installed("generator", name)())


@pytest.mark.parametrize("check", characterizer_checks(), ids=lambda c: c.name)
@pytest.mark.parametrize("name", CHARACTERIZERS)
def test_characterizer_conforms(name, check):
    check(_installed("characterizer", name)())


@pytest.mark.parametrize("check", optimizer_checks(), ids=lambda c: c.name)
@pytest.mark.parametrize("name", MODEL_FREE_OPTIMIZERS)
def test_model_free_optimizer_conforms(name, check):
    check(_installed("optimizer", name))


@pytest.mark.slow
@pytest.mark.parametrize("check", optimizer_checks(options=BO_OPTIONS), ids=lambda c: c.name)
@pytest.mark.parametrize("name", BO_OPTIMIZERS)
def test_bayesian_optimizer_conforms(name, check):
    check(_installed("optimizer", name))


@pytest.mark.slow
@pytest.mark.parametrize("check", cell_simulator_checks(), ids=lambda c: c.name)
@pytest.mark.parametrize("name", CELL_SIMULATORS)
def test_cell_simulator_conforms(name, check):
    pytest.importorskip("pybamm")
    check(_installed("cell_simulator", name)())


def test_every_installed_component_is_covered_here():
    covered = {
        "generator": FAST_GENERATORS,
        "characterizer": CHARACTERIZERS,
        "optimizer": MODEL_FREE_OPTIMIZERS + BO_OPTIMIZERS,
        "cell_simulator": CELL_SIMULATORS,
    }
    for kind, names in covered.items():
        missing = sorted(set(REGISTRY.names(kind)) - set(names))
        assert not missing, f"add the installed {kind}(s) {missing} to tests/test_conformance.py"


# ---------------------------------------------------------------- the kit fails when it should
class GoodGen:
    """A correct generator: random three-phase voxels, seeded."""

    name = "goodgen"
    parameters = {"porosity": (0.2, 0.5), "width": (1.0, 4.0)}

    def generate(self, params, shape, seed):
        rng = np.random.default_rng(seed)
        return Microstructure(rng.integers(0, 3, size=shape, dtype=np.uint8), 4e-7)


class CubicGen(GoodGen):
    def generate(self, params, shape, seed):
        n = shape[0]
        return super().generate(params, (n, n, n), seed)


class UnseededGen(GoodGen):
    def generate(self, params, shape, seed):
        return super().generate(params, shape, None)


class InfiniteBoundsGen(GoodGen):
    parameters = {"porosity": (0.2, float("inf"))}


class EmptyBoundsGen(GoodGen):
    parameters = {"porosity": (0.5, 0.5)}


class CornerFailGen(GoodGen):
    def generate(self, params, shape, seed):
        if params["porosity"] >= 0.5:
            raise RuntimeError("no structure at this porosity")
        return super().generate(params, shape, seed)


class BadUncertaintyGen(GoodGen):
    def generate_with_uncertainty(self, params, shape, seed):
        return self.generate(params, shape, seed), float("nan")


class NotAMicrostructureGen(GoodGen):
    def generate(self, params, shape, seed):
        return np.zeros(shape, np.uint8)


def test_check_generator_accepts_a_correct_generator():
    check_generator(GoodGen())


@pytest.mark.parametrize(
    "gen, check, says",
    [
        (CubicGen(), "requested_shape", "asked for shape (20, 16, 12), got (20, 20, 20)"),
        (UnseededGen(), "same_seed_same_labels", "gave labels differing in"),
        (InfiniteBoundsGen(), "finite_bounds", "must be finite"),
        (EmptyBoundsGen(), "finite_bounds", "needs lower < upper"),
        (CornerFailGen(), "corners_and_centre", "raised RuntimeError: no structure at this porosity"),
        (BadUncertaintyGen(), "uncertainty", "finite float >= 0"),
        (NotAMicrostructureGen(), "requested_shape", "not a Microstructure"),
    ],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,
)
def test_check_generator_names_the_violated_check(gen, check, says):
    with pytest.raises(AssertionError) as err:
        check_generator(gen)
    message = str(err.value)
    assert message.startswith(f"{check} failed for generator 'goodgen': "), message
    assert says in message


class LayerBlindChar:
    """Counts volume fractions right but claims tortuosity 1 everywhere."""

    name = "blind"

    def characterize(self, ms):
        from electroforge import Metrics

        return Metrics(ms.volume_fractions(), 1e5, 0.0, 1.0, 1.0)


def test_check_characterizer_catches_a_wrong_characterizer():
    with pytest.raises(AssertionError, match=r"^parallel_columns failed for characterizer 'blind': "):
        check_characterizer(LayerBlindChar())


def test_analytic_structures_are_what_they_say():
    ch = sample_microstructure("channels", (16, 12, 12), 0.25)
    assert ch.volume_fractions()["pore"] == pytest.approx(36 / 144)
    assert np.all(ch.labels == ch.labels[:1])  # straight along x
    layer = sample_microstructure("solid_layer", (16, 12, 12))
    assert np.all(layer.labels[8] == 1) and np.all(layer.labels[7] == 0)


class CountingOpt:
    """Asks depend on how often ask was called: breaks resume."""

    name = "counting"

    def __init__(self, space, seed=0):
        self.space, self.calls = space, 0

    def ask(self, n):
        self.calls += 1
        x = (self.calls * 0.137) % 1.0
        return [self.space.from_unit(np.full(self.space.dim, (x + i * 0.01) % 1.0)) for i in range(n)]

    def tell(self, params, objectives, failed):
        pass


class OutOfBoundsOpt(CountingOpt):
    def ask(self, n):
        return [{p.name: p.upper + 1.0 for p in self.space.parameters} for _ in range(n)]


def test_check_optimizer_catches_impure_and_out_of_bounds_asks():
    with pytest.raises(AssertionError, match=r"^ask_is_pure failed for optimizer 'counting': batch 0: asking twice"):
        check_optimizer(CountingOpt)
    with pytest.raises(AssertionError, match=r"^asks_within_bounds failed for optimizer 'counting': .*outside"):
        check_optimizer(OutOfBoundsOpt)


@parametrize_with_checks([GoodGen(), (GoodGen(), generator_checks(shape=(10, 8, 6)))])
def test_parametrize_with_checks(component, check):
    check(component)


def test_parametrize_with_checks_ids():
    mark = parametrize_with_checks([GoodGen()])
    assert mark.args[0] == "component, check"
    assert mark.kwargs["ids"][:2] == ["goodgen-protocol", "goodgen-finite_bounds"]


def test_pytest_plugin_gives_plugin_authors_fixtures(tmp_path):
    """A third party's test file, with no conftest: the pytest11 fixtures are there."""
    (tmp_path / "test_third_party.py").write_text(
        textwrap.dedent("""
        import numpy as np
        from electroforge import Microstructure, hookimpl

        class MyGen:
            name = "mygen"
            parameters = {"porosity": (0.2, 0.5)}
            def generate(self, params, shape, seed):
                rng = np.random.default_rng(seed)
                return Microstructure((rng.random(shape) > params["porosity"]).astype(np.uint8), 4e-7)

        class Plugin:
            @hookimpl
            def register_generators(self):
                return [MyGen]

        def test_registered(ef_registry):
            assert ef_registry(("mine", Plugin())).names("generator") == ["mygen"]

        def test_conforms(ef_check):
            ef_check(MyGen())

        def test_samples(ef_electrode, ef_design_space, ef_microstructure):
            assert ef_electrode.metrics.porosity > 0 and ef_design_space.dim == 3
            assert ef_microstructure("channels").shape == (16, 12, 12)
    """)
    )
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "3 passed" in out.stdout


def test_the_sample_third_party_generator_passes_the_kit(monkeypatch):
    """The plugin docs/writing-plugins.md walks through (tests/sample_plugin) conforms."""
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).parent / "sample_plugin"))
    from electroforge_checker import CheckerGenerator

    check_generator(CheckerGenerator())
    for check in generator_checks(shape=(32, 24, 16)):
        check(CheckerGenerator())
