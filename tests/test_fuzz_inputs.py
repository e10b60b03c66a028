"""Fuzzing the user-facing inputs (hypothesis): config loader, image readers, CLI parameters.

Every malformed input must end in an :class:`ElectroforgeError` whose message is one line naming
the culprit (the CLI prints ``error: <message>`` and exits 2) — never another exception, a
traceback or a hang. docs/errors.md lists the messages.
"""
from __future__ import annotations

import tomllib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from electroforge.cli import main
from electroforge.config import CampaignConfig, config_from_dict, load_config
from electroforge.errors import ElectroforgeError
from electroforge.imageio import read_microstructure
from electroforge.units import parse_length_m, parse_loading_kg_per_m2, parse_power_W

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])
pytestmark = pytest.mark.timeout(600)


def one_line(exc: BaseException) -> str:
    msg = str(exc)
    assert msg and "\n" not in msg.strip(), repr(msg)
    return msg


# ------------------------------------------------------------------ config loader
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=12))
toml_values = st.recursive(
    st.one_of(st.booleans(), st.integers(-10**4, 10**4), st.floats(allow_nan=True), st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)
KEYS = ["name", "seed", "budget", "batch", "objective", "objective_protocol", "protocols", "max_failure_fraction",
        "design", "fixed", "generator", "characterizer", "simulator", "cell", "optimizer", "timeout_s", "nonsense"]
design = st.dictionaries(
    st.sampled_from(["porosity", "am_mass_fraction", "mass_loading_mg_per_cm2", "thickness_um", "x", "objective"]),
    st.one_of(st.lists(st.one_of(st.floats(allow_nan=True), st.integers(-5, 5), st.text(max_size=3)), max_size=3),
              st.fixed_dictionaries({"bounds": st.lists(st.floats(-1, 2), max_size=3)},
                                    optional={"stage": st.sampled_from(["cell", "generator", "oven"])}),
              toml_values),
    max_size=3,
)
config_dicts = st.fixed_dictionaries(
    {"design": design},
    optional={k: toml_values for k in KEYS if k != "design"}
    | {"protocols": st.lists(st.sampled_from(["1C", "10W", "0.2kW", "-1C", "fast", "0W", "1e400W", ""]), max_size=3),
       "budget": st.one_of(st.integers(-3, 300), scalars), "batch": st.one_of(st.integers(-3, 300), scalars),
       "generator": st.fixed_dictionaries({}, optional={"name": scalars, "shape": st.one_of(st.integers(-5, 600), scalars),
                                                         "n_cubes": scalars, "options": toml_values, "x": scalars})},
)


@FUZZ
@given(data=config_dicts)
def test_fuzz_config_from_dict_gives_a_config_or_a_one_line_error(data):
    try:
        cfg = config_from_dict(data, source="fuzz.toml")
    except ElectroforgeError as exc:
        assert one_line(exc).startswith("fuzz.toml")
    else:
        assert isinstance(cfg, CampaignConfig) and cfg.budget >= 1 and 1 <= cfg.batch <= 256


@FUZZ
@given(text=st.one_of(st.text(max_size=200),
                      st.builds(lambda a, b: a + b, st.sampled_from(['[design]\nporosity = [0.2, 0.5]\n',
                                                                      'budget = 3\n', '[generator]\n', '[design\n']),
                                st.text(max_size=60))))
def test_fuzz_config_files_give_a_config_or_a_one_line_error(text, tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "fuzz.toml"
    try:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    except UnicodeEncodeError:
        path.write_bytes(text.encode("utf-8", errors="replace"))
    try:
        load_config(path)
    except ElectroforgeError as exc:
        assert str(path) in one_line(exc)


def test_toml_decode_errors_are_one_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[design]\nporosity = """\nunterminated\n')
    with pytest.raises(ElectroforgeError) as info:
        load_config(path)
    assert "invalid TOML" in one_line(info.value)
    with pytest.raises(tomllib.TOMLDecodeError):  # the raw error that would otherwise reach the user
        tomllib.loads(path.read_text())


# ------------------------------------------------------------------ image readers
def _valid_bytes(suffix: str) -> bytes:
    import tempfile
    from pathlib import Path

    from electroforge.imageio import write_microstructure
    from electroforge.model import Microstructure

    labels = (np.arange(4 * 5 * 6).reshape(4, 5, 6) % 3).astype(np.uint8)
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / f"ms{suffix}"
        write_microstructure(Microstructure(labels, 1e-6), p)
        return p.read_bytes()


VALID = {s: _valid_bytes(s) for s in (".tif", ".nc", ".npy")}


@st.composite
def corrupted(draw, suffix):
    data = bytearray(VALID[suffix])
    how = draw(st.sampled_from(["truncate", "flip", "random", "empty", "splice"]))
    if how == "truncate":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif how == "flip":
        for _ in range(draw(st.integers(1, 20))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] = draw(st.integers(0, 255))
    elif how == "random":
        data = bytearray(draw(st.binary(max_size=2048)))
    elif how == "empty":
        data = bytearray()
    else:
        i = draw(st.integers(0, len(data)))
        data[i:i] = draw(st.binary(min_size=1, max_size=64))
    return bytes(data)


@pytest.mark.parametrize("suffix", [".tif", ".nc", ".npy"])
def test_fuzz_image_readers_read_or_give_a_one_line_error(suffix, tmp_path):
    path = tmp_path / f"fuzz{suffix}"

    @FUZZ
    @given(blob=corrupted(suffix))
    def check(blob):
        path.write_bytes(blob)
        try:
            ms = read_microstructure(path, voxel_size_m=1e-6)
        except ElectroforgeError as exc:
            assert str(path) in one_line(exc)
        else:  # a corruption the format tolerates still yields a valid volume
            assert ms.labels.ndim == 3 and ms.labels.dtype == np.uint8

    check()


# ------------------------------------------------------------------ CLI parameter parsing
def cli_error(capsys, argv) -> str:
    capsys.readouterr()
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 2, (argv, rc, out, err)
    assert "Traceback" not in err + out
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), (argv, err)
    return lines[0]


junk = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=25)


@FUZZ
@given(value=junk)
def test_fuzz_cli_param_assignments(capsys, tmp_path_factory, value):
    # a malformed -p fails in parsing; a well-formed one fails on the unknown generator: exit 2 either way
    out = tmp_path_factory.mktemp("gen") / "x.tif"
    line = cli_error(capsys, ["generate", "--generator", "no-such-generator", "-p", value, "-o", str(out)])
    assert "--param" in line or "no-such-generator" in line


@FUZZ
@given(value=junk)
def test_fuzz_cli_shape(capsys, tmp_path_factory, value):
    out = tmp_path_factory.mktemp("gen") / "x.tif"
    line = cli_error(capsys, ["generate", "--generator", "no-such-generator", "--shape", value, "-o", str(out)])
    assert "--shape" in line or "no-such-generator" in line


@FUZZ
@given(value=junk)
def test_fuzz_cli_optimize_power_and_executor_options(capsys, value):
    # --budget 0 guarantees the command stops at validation even when the power parses
    line = cli_error(capsys, ["optimize", "quickstart", "--power", value, "--budget", "0"])
    assert "power" in line.lower() or "budget" in line
    line = cli_error(capsys, ["optimize", "quickstart", "--scheduler", value or "x", "--budget", "0"])
    assert "--scheduler" in line or "budget" in line


def test_cli_executor_option_errors(capsys):
    assert "--dask-local 0" in cli_error(capsys, ["optimize", "quickstart", "--dask-local", "0"])
    assert "only one of" in cli_error(capsys, ["optimize", "quickstart", "--workers", "2", "--dask-local", "2"])
    assert "--workers -1" in cli_error(capsys, ["optimize", "quickstart", "--workers", "-1"])
    assert "Invalid value for '--workers'" in cli_error(capsys, ["optimize", "quickstart", "--workers", "two"])
    assert "No such option: --wokers" in cli_error(capsys, ["optimize", "quickstart", "--wokers", "2"])


@FUZZ
@given(value=junk)
def test_fuzz_units(value):
    for parse in (parse_length_m, parse_loading_kg_per_m2, parse_power_W):
        try:
            v = parse(value)
        except ElectroforgeError as exc:
            assert repr(value) in one_line(exc) or value.strip() == ""
        else:
            assert np.isfinite(v) and v > 0


@FUZZ
@given(value=junk)
def test_fuzz_cli_characterize_voxel_size(capsys, tmp_path_factory, value):
    img = tmp_path_factory.mktemp("img") / "ms.npy"
    np.save(img, np.zeros((4, 4, 4), np.uint8))
    line = cli_error(capsys, ["characterize", str(img), "--voxel-size", value, "--characterizer", "no-such-char"])
    assert "--voxel-size" in line or "voxel" in line or "no-such-char" in line or repr(value) in line


def test_a_header_declaring_a_huge_array_is_refused_without_allocating_it(tmp_path):
    """Found by the fuzzer: a corrupted header made the reader allocate ~18 GB. Now one line."""
    path = tmp_path / "huge.npy"
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": "|u1", "fortran_order": False,
                                                  "shape": (100000, 100000, 100)})
        fh.write(b"\x00" * 64)
    with pytest.raises(ElectroforgeError, match="truncated .npy") as info:
        read_microstructure(path, voxel_size_m=1e-6)
    one_line(info.value)
