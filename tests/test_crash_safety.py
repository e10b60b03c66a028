"""Crash safety of campaigns: kill -9 at random moments, stale temp files, Ctrl-C.

Real subprocesses run ``electroforge optimize`` on a campaign of cheap fake components
(tests/fakes/ef_fakes.py, discovered through a throw-away dist-info on PYTHONPATH) with the real
Sobol optimizer, store and executors; each evaluation sleeps a little so that kills land in the
middle of evaluations as well as during start-up and file writes. The reference is an
uninterrupted run of the same config.
"""
from __future__ import annotations

import math
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fakes.fakedist import alive, child_pids, config_text, env_with, install_fake_dist, on_path

from electroforge.campaign import Campaign
from electroforge.config import load_config
from electroforge.registry import get_registry
from electroforge.store import CampaignStore

EXE = str(Path(sys.executable).with_name("electroforge"))
KILL_SEED = int(os.environ.get("ELECTROFORGE_KILL_SEED", "20261126"))
INTERRUPTED = re.compile(r"^interrupted: (\d+) evaluations saved in (.+); continue with --resume$")


@pytest.fixture(scope="module")
def fake_dist(tmp_path_factory):
    with on_path(install_fake_dist(tmp_path_factory.mktemp("fakedist"))) as root:
        yield root


def rows(evaluations):
    """Everything a resumed campaign must reproduce: index, design, status, error, objective, seeds."""
    return [(e.index, e.batch, e.seed, e.params["x"], e.params["y"], e.status, e.error,
             None if math.isnan(e.objective) else e.objective) for e in evaluations]


def write_config(tmp_path, name="c.toml", **kwargs) -> Path:
    path = tmp_path / name
    path.write_text(config_text(**kwargs))
    return path


def reference_rows(cfg_path, tmp_path):
    evs = Campaign(load_config(cfg_path), tmp_path / f"ref-{cfg_path.stem}.nc", registry=get_registry(),
                   progress=False).run()
    return rows(evs)


def start(cfg_path, out, root, *extra, log=None):
    log = log or out.with_suffix(".log")
    fh = open(log, "a")
    return subprocess.Popen([EXE, "optimize", str(cfg_path), "-o", str(out), "--quiet", "--optimizer", "sobol",
                             "--resume", *extra], stdout=fh, stderr=subprocess.PIPE, text=True,
                            env=env_with(root), preexec_fn=_default_sigint)


def _default_sigint() -> None:
    """In the child: Ctrl-C's default action, whatever the suite inherited. A shell that starts a
    job in the background (``pytest ... &``) sets SIGINT to ignored, the child would inherit that,
    and Python does not raise KeyboardInterrupt for an ignored signal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stored(out: Path):
    return CampaignStore.open(out).evaluations if out.exists() else []


def wait_for_evaluations(out: Path, proc, n: int, limit_s: float = 180.0, required: bool = True) -> None:
    """Until ``out`` holds ``n`` rows; if the process ends or ``limit_s`` passes first, fail
    (``required``) or just return."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit_s and proc.poll() is None:
        if len(stored(out)) >= n:  # the file is replaced atomically: never torn
            return
        time.sleep(0.05)
    if required:
        raise AssertionError(f"no {n} evaluations in {out} after {limit_s:.0f} s (rc={proc.poll()})")


def kill9_and_resume(cfg_path, out, root, reference, kills_wanted, rng, extra=()):
    """Kill -9 the campaign ``kills_wanted`` times at random moments, resuming each time; after
    every kill the file must open and hold exactly the first rows of the reference."""
    counts, t_ready = [], None
    while len(counts) < kills_wanted:
        t0 = time.monotonic()
        proc = start(cfg_path, out, root, *extra)
        if t_ready is None:  # first run: measure start-up (until the first evaluation is written)
            created = None
            while proc.poll() is None and time.monotonic() - t0 < 120:
                mtime = out.stat().st_mtime_ns if out.exists() else None
                if created is None:
                    created = mtime
                elif mtime != created:
                    break
                time.sleep(0.01)
            t_ready = time.monotonic() - t0
            time.sleep(rng.uniform(0.0, 1.5))
        elif rng.random() < 0.3:  # inside start-up, replay or the first new evaluation
            time.sleep(rng.uniform(0.6, 1.0) * t_ready)
        else:  # at a random moment once this run has added a row (progress even on a loaded machine)
            wait_for_evaluations(out, proc, counts[-1] + 1, required=False)
            time.sleep(rng.uniform(0.0, 1.5))
        if proc.poll() is not None:  # finished before the kill: the budget is too small for the seed
            proc.communicate()
            break
        proc.kill()
        proc.communicate()
        have = stored(out)
        assert [e.index for e in have] == list(range(len(have))), "rows lost or duplicated"
        assert rows(have) == reference[:len(have)]
        assert not counts or len(have) >= counts[-1]
        counts.append(len(have))
    return counts


def test_kill9_ten_times_at_random_moments_then_resume_equals_uninterrupted(fake_dist, tmp_path):
    # budget and per-design time large enough that ten kills land before the end, idle or loaded
    cfg_path = write_config(tmp_path, budget=60, batch=3, gen={"sleep_s": 0.3})
    reference = reference_rows(cfg_path, tmp_path)
    assert any(r[5] == "failed" for r in reference) and any(r[5] == "ok" for r in reference)
    out = tmp_path / "cut.nc"
    rng = random.Random(KILL_SEED)
    counts = kill9_and_resume(cfg_path, out, fake_dist, reference, 10, rng)
    assert len(counts) == 10, f"the campaign finished after {len(counts)} kills; raise the budget ({counts})"
    assert counts[-1] < 60 and len(set(counts)) >= 3, counts  # kills landed at several stages
    proc = start(cfg_path, out, fake_dist)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert rows(stored(out)) == reference
    assert not out.with_name(out.name + ".tmp").exists()


def test_a_kill_during_the_file_write_leaves_the_previous_file_and_resume_ignores_the_temp(
        fake_dist, tmp_path, monkeypatch):
    cfg_path = write_config(tmp_path, budget=6, batch=2)
    reference = reference_rows(cfg_path, tmp_path)
    out = tmp_path / "cut.nc"
    cfg = load_config(cfg_path)
    real_replace = os.replace
    calls = {"n": 0}

    def dying_replace(src, dst):
        calls["n"] += 1
        if calls["n"] == 4:  # the 4th write (3rd evaluation): temp written, rename never happens
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", dying_replace)
    with pytest.raises(KeyboardInterrupt):
        Campaign(cfg, out, registry=get_registry(), progress=False).run()
    monkeypatch.setattr(os, "replace", real_replace)
    tmp = out.with_name(out.name + ".tmp")
    assert tmp.exists() and rows(stored(out)) == reference[:2]
    tmp.write_bytes(b"half a netCDF file")  # and make the stale temp garbage
    resumed = Campaign(cfg, out, registry=get_registry(), progress=False, resume=True).run()
    assert rows(resumed) == reference and rows(stored(out)) == reference
    assert not tmp.exists()


def _sigint_and_check(proc, out):
    before = child_pids(proc.pid)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert len(lines) == 1, err
    m = INTERRUPTED.match(lines[0])
    assert m, err
    assert int(m.group(1)) == len(stored(out)) >= 1
    deadline = time.monotonic() + 10
    while any(alive(p) for p in before) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in before if alive(p)], "worker processes outlived the interrupted campaign"


@pytest.mark.parametrize("workers", [0, pytest.param(2, id="pool")])
def test_ctrl_c_saves_prints_one_line_exits_130_and_resume_completes(fake_dist, tmp_path, workers):
    cfg_path = write_config(tmp_path, budget=8, batch=4, gen={"sleep_s": 1.0})
    out = tmp_path / "c.nc"
    proc = start(cfg_path, out, fake_dist, "--workers", str(workers))
    wait_for_evaluations(out, proc, 1)
    time.sleep(0.2)  # the next evaluations are now running (in this process or in the workers)
    _sigint_and_check(proc, out)
    proc = start(cfg_path, out, fake_dist, "--workers", str(workers))
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert rows(stored(out)) == reference_rows(cfg_path, tmp_path)


@pytest.mark.slow
def test_ctrl_c_with_a_dask_local_cluster(fake_dist, tmp_path):
    pytest.importorskip("distributed")
    cfg_path = write_config(tmp_path, budget=8, batch=4, gen={"sleep_s": 1.0})
    out = tmp_path / "c.nc"
    proc = start(cfg_path, out, fake_dist, "--dask-local", "2")
    wait_for_evaluations(out, proc, 1)
    time.sleep(0.2)
    _sigint_and_check(proc, out)


@pytest.mark.slow
def test_kill9_with_a_process_pool_leaves_no_orphan_workers_and_resumes(fake_dist, tmp_path):
    cfg_path = write_config(tmp_path, budget=8, batch=4, gen={"sleep_s": 1.0})
    reference = reference_rows(cfg_path, tmp_path)
    out = tmp_path / "c.nc"
    proc = start(cfg_path, out, fake_dist, "--workers", "2")
    wait_for_evaluations(out, proc, 1)
    workers = child_pids(proc.pid)
    assert workers
    proc.kill()
    proc.communicate()
    deadline = time.monotonic() + 15
    while any(alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in workers if alive(p)], "pool workers outlived a kill -9 of the campaign"
    assert rows(stored(out)) == reference[:len(stored(out))]
    proc = start(cfg_path, out, fake_dist, "--workers", "2")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert rows(stored(out)) == reference


@pytest.mark.slow
def test_kill9_with_trieste_then_resume_equals_uninterrupted(fake_dist, tmp_path):
    cfg_path = write_config(tmp_path, budget=10, batch=2, optimizer="trieste", optimizer_options={"n_initial": 4},
                            gen={"sleep_s": 0.3})
    reference = reference_rows(cfg_path, tmp_path)
    out = tmp_path / "cut.nc"
    counts = kill9_and_resume(cfg_path, out, fake_dist, reference, 3, random.Random(KILL_SEED),
                              extra=("--optimizer", "trieste"))
    assert counts
    proc = start(cfg_path, out, fake_dist, "--optimizer", "trieste")
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    got = rows(stored(out))
    assert [r[:3] + r[5:7] for r in got] == [r[:3] + r[5:7] for r in reference]
    for g, r in zip(got, reference):  # the GP fit is deterministic up to floating-point noise
        assert g[3] == pytest.approx(r[3], abs=1e-6) and g[4] == pytest.approx(r[4], abs=1e-6)
