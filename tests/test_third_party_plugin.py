"""A real outside distribution, pip-installed into a temporary target, is discovered and usable."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SAMPLE = Path(__file__).parent / "sample_plugin"


@pytest.fixture(scope="module")
def installed_checker(tmp_path_factory):
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build")
    # pip builds in the source folder (build/, *.egg-info): build a private copy, so that test
    # processes running in parallel (pytest-xdist) never race on tests/sample_plugin
    source = build / "sample_plugin"
    shutil.copytree(SAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(source)],
        check=True, capture_output=True, cwd=build,
    )
    return target


def test_checker_plugin_is_listed(installed_checker, cli):
    out = cli("plugins", "--json", env={"PYTHONPATH": str(installed_checker)})
    assert out.returncode == 0, out.stderr
    rows = {(r["kind"], r["name"]): r for r in json.loads(out.stdout)}
    row = rows[("generator", "checker")]
    assert row["distribution"] == "electroforge-checker" and row["version"] == "0.3.1" and row["status"] == "ok"


def test_checker_plugin_generates_by_name(installed_checker, cli, tmp_path):
    out_file = tmp_path / "checker.npy"
    res = cli("generate", "--generator", "checker", "-p", "cell=2", "--shape", "8", "--seed", "3",
              "-o", str(out_file), env={"PYTHONPATH": str(installed_checker)})
    assert res.returncode == 0, res.stderr
    labels = np.load(out_file)
    assert labels.shape == (8, 8, 8)
    assert labels[0, 0, 0] == 0 and labels[2, 0, 0] == 1 and labels[2, 2, 0] == 2
