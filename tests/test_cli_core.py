"""CLI basics: version, errors as one line with a non-zero exit, no traceback."""
import json

from electroforge import __version__


def test_version(cli):
    out = cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"electroforge {__version__}"


def test_plugins_table_and_json_agree(cli):
    table = cli("plugins")
    js = cli("plugins", "--json")
    assert table.returncode == 0 and js.returncode == 0
    for row in json.loads(js.stdout):
        assert row["kind"] in {"generator", "characterizer", "cell_simulator", "optimizer", "plugin"}
        assert row["name"] in table.stdout


def test_disable_flag_hides_a_plugin(cli):
    rows = json.loads(cli("--disable", "procedural", "plugins", "--json").stdout)
    assert not any(r["name"] == "procedural" and r["status"] == "ok" for r in rows)


def test_bad_param_syntax_is_one_line_error(cli, tmp_path):
    out = cli("generate", "-g", "procedural", "-p", "porosity", "-o", str(tmp_path / "x.tif"))
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "'porosity'" in lines[0] and "NAME=VALUE" in lines[0]


def test_unknown_generator_lists_the_valid_ones(cli, tmp_path):
    out = cli("generate", "-g", "nosuch", "-o", str(tmp_path / "x.tif"))
    assert out.returncode == 2 and "no generator named 'nosuch'" in out.stderr and "Traceback" not in out.stderr
