"""Shared fixtures. Unit tests of the core use fake plugins registered by hand; the integration
tests use the real installed plugins."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REPO = Path(__file__).resolve().parent.parent


def run_cli(*args: str, env: dict | None = None, cwd: str | Path | None = None, timeout: float = 600):
    """Run the installed ``electroforge`` console script in a subprocess; returns CompletedProcess."""
    exe = Path(sys.executable).with_name("electroforge")
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=timeout)


@pytest.fixture
def cli():
    return run_cli
