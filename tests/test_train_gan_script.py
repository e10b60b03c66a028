"""``scripts/train_gan.py`` stops cleanly on SIGINT: it finishes the update, checkpoints and exports."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "train_gan.py"
TINY = {"tile": 16, "batch": 2, "slices_per_axis": 2, "critic_iters": 1, "channels": [8, 8, 8, 8],
        "critic_channels": [8, 8], "nz": 4, "calibration_size": 16}


@pytest.mark.slow
def test_train_gan_script_checkpoints_on_sigint(tmp_path):
    ckpt, out = tmp_path / "run.ckpt", tmp_path / "run.pt"
    cmd = [sys.executable, str(SCRIPT), "--data", str(tmp_path / "data"), "--size", "16", "--seeds", "1",
           "--steps", "100000", "--checkpoint", str(ckpt), "--out", str(out), "--checkpoint-every", "100000",
           "--checkpoint-minutes", "0", "--monitor-every", "0", "--device", "cpu", "--design", json.dumps(TINY)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines = []
    deadline = time.monotonic() + 240
    assert proc.stdout is not None
    for line in proc.stdout:  # wait until it has trained: "step 10 ..." is printed every 10 updates
        lines.append(line)
        if line.startswith("step ") or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=240)
    text = "".join(lines) + rest
    assert proc.returncode == 0, text
    assert "Traceback" not in text and "SIGINT: stopping after this update" in text
    state = torch.load(ckpt, map_location="cpu", weights_only=False)
    assert state["step"] >= 10  # the updates before the interrupt are kept, though no checkpoint was due
    weights = torch.load(out, map_location="cpu", weights_only=True)
    assert weights["steps"] == state["step"] and weights["fraction_model"] is not None
