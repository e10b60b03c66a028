"""``electroforge characterize`` and ``electroforge rve`` end to end with real taufactor: the main
analytic case through the installed console script (a subprocess), the rest in-process through
``electroforge.cli.main`` (same code path, without paying torch's start-up for every case)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import tifffile

from electroforge import Metrics

SIGMA_AM = 0.18


def _channels(nx=20, n=16):
    lab = np.ones((nx, n, n), np.uint8)  # active everywhere ...
    lab[:, 2:6, 2:6] = 0  # ... with two straight pore channels through x
    lab[:, 9:12, 9:14] = 0
    return lab


def _json(proc):
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


class _Proc:
    def __init__(self, rc, out, err):
        self.returncode, self.stdout, self.stderr = rc, out, err


@pytest.fixture
def run(capsys):
    """Run the CLI in-process; returns an object shaped like CompletedProcess."""
    from electroforge.cli import main

    def _run(*args):
        capsys.readouterr()
        rc = main(list(args))
        out = capsys.readouterr()
        return _Proc(rc, out.out, out.err)

    return _run


def test_characterize_numpy_tiff_gives_the_analytic_values(cli, tmp_path):
    lab = _channels()
    path = tmp_path / "channels.tif"
    tifffile.imwrite(path, lab * 255, photometric="minisblack")  # foreign labels 0/255, no electroforge metadata
    d = _json(cli("characterize", str(path), "--voxel-size", "0.4um", "--phases", "pore,active",
                  "--json", "--option", "threads=1"))
    eps = float((lab == 0).mean())
    assert d["status"] == "ok" and d["error"] == ""
    assert d["volume_fractions"] == {"pore": eps, "active": 1 - eps}
    assert d["tortuosity_factor"] == pytest.approx(1.0, abs=2e-3)
    assert d["effective_diffusivity_ratio"] == pytest.approx(eps, rel=2e-3)
    # straight solid in parallel with insulating pores: sigma_eff = (1 - eps) * sigma_active
    assert d["effective_conductivity_S_per_m"] == pytest.approx((1 - eps) * SIGMA_AM, rel=2e-3)
    # channel walls: marching cubes on the voxel mask bevels each of the 4 edges of a rectangular
    # channel at 45° (two half-voxel legs -> one sqrt(1/2) diagonal) and spans nx - 1 voxels in x
    bevel = 4 * (1 - math.sqrt(0.5))
    perimeter = (2 * (4 + 4) - bevel) + (2 * (3 + 5) - bevel)
    expected = perimeter * (lab.shape[0] - 1) / lab.size / 0.4e-6  # area per electrode volume, 1/m
    assert d["specific_surface_area_per_m"] == pytest.approx(expected, rel=1e-3)
    assert d["shape"] == [20, 16, 16] and d["voxel_size_m"] == pytest.approx(4e-7)
    m = Metrics.from_dict(d)  # what `simulate --metrics` reads
    assert m.tortuosity_factor == pytest.approx(d["tortuosity_factor"])


def test_characterize_label_map_and_three_phases(run, tmp_path):
    lab = _channels()
    lab[:10, 12:, :] = 2  # binder block
    raw = np.choose(lab, [0, 128, 255]).astype(np.uint8)
    path = tmp_path / "three.tif"
    tifffile.imwrite(path, raw, photometric="minisblack")
    d = _json(run("characterize", str(path), "--voxel-size", "500nm", "--phases", "0=pore,128=active,255=binder",
                  "--json", "--option", "threads=1"))
    for i, name in enumerate(("pore", "active", "binder")):
        assert d["volume_fractions"][name] == (lab == i).mean()
    assert 0 < d["binder_coverage"] < 1


def test_characterize_dead_end_pore_reports_inf_and_failed(run, tmp_path):
    lab = np.ones((16, 10, 10), np.uint8)
    lab[:-2, 3:6, 3:6] = 0  # blind pore
    path = tmp_path / "blind.npy"
    np.save(path, lab)
    out = tmp_path / "m.json"
    d = _json(run("characterize", str(path), "--voxel-size", "1um", "--json", "-o", str(out)))
    assert d["tortuosity_factor"] == "inf"
    assert d["effective_diffusivity_ratio"] == 0.0
    assert d["status"] == "failed" and d["error"] == "pore network does not percolate"
    assert json.loads(out.read_text()) == d
    assert math.isinf(Metrics.from_dict(d).tortuosity_factor)


def test_characterize_table_output(run, tmp_path):
    path = tmp_path / "c.npy"
    np.save(path, _channels())
    p = run("characterize", str(path), "--voxel-size", "0.4um", "--option", "threads=1")
    assert p.returncode == 0, p.stderr
    assert "tortuosity factor" in p.stdout and "S/m" in p.stdout and "status: ok" in p.stdout


@pytest.mark.parametrize(
    "make, args, message",
    [
        (lambda: np.zeros((8, 8), np.uint8), ["--voxel-size", "1um"], "not a 3D stack"),
        (lambda: np.arange(5 * 4 * 4).reshape(5, 4, 4) % 5, ["--voxel-size", "1um"], "unexpected label values"),
        (lambda: np.arange(4 * 4 * 4).reshape(4, 4, 4) % 4, ["--voxel-size", "1um", "--phases", "pore,active,binder"],
         "cannot map onto 3 phases"),
        (lambda: np.zeros((4, 4, 4), np.uint8), [], "voxel size missing"),
        (lambda: np.zeros((4, 4, 4), np.uint8), ["--voxel-size", "0.4parsec"], "unknown unit"),
        (lambda: np.zeros((4, 4, 4), np.uint8), ["--voxel-size", "1um", "--phases", "0=pore,active"], "not both"),
        (lambda: np.zeros((4, 4, 4), np.uint8), ["--voxel-size", "1um", "--phases", "a=pore"], "not an integer"),
        (lambda: np.zeros((4, 4, 4), np.uint8), ["--voxel-size", "1um", "-c", "nope"], "no characterizer named 'nope'"),
        (lambda: np.zeros((4, 4, 4), np.uint8), ["--voxel-size", "1um", "--phases", "solid"], "no 'pore' phase"),
    ],
)
def test_bad_inputs_give_one_line_errors(run, tmp_path, make, args, message):
    path = tmp_path / "bad.tif"
    tifffile.imwrite(path, make(), photometric="minisblack")  # a 3D stack, never RGB
    p = run("characterize", str(path), *args)
    assert p.returncode == 2, p.stdout + p.stderr
    assert message in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr


def test_rve_command_on_an_image_prints_tables_and_writes_the_plot(run, tmp_path):
    from electroforge import Microstructure
    from electroforge.plugins.taufactor.synthetic import synthetic_electrode

    path = tmp_path / "e.tif"
    Microstructure(labels=synthetic_electrode(32, radius_vox=3.0, seed=1), voxel_size_m=4e-7).to_file(path)
    p = run("rve", str(path), "--sizes", "8,16,32,64", "--count", "3", "--option", "threads=1")
    assert p.returncode == 0, p.stderr
    assert "tortuosity_factor" in p.stdout and "recommendation" in p.stdout
    assert "64" in p.stderr and "skipped" in p.stderr
    assert (tmp_path / "e_rve.png").is_file()
    p = run("rve", str(path), "--generator", "procedural")
    assert p.returncode == 2 and "either an IMAGE or --generator" in p.stderr
