"""Cheap fake components for subprocess, executor and benchmark tests (not a real plugin).

Installed as a throw-away distribution by :func:`fakedist.install_fake_dist` (a copy of this module
plus a ``*.dist-info`` with an ``electroforge`` entry point), so that a campaign subprocess, a
process pool or a Dask worker finds them through ordinary entry-point discovery.

Every evaluation is a deterministic function of the design: objective
``10 - 10*((x-0.3)^2 + (y-0.7)^2)``; the simulator fails (EvaluationError) for ``x > fail_above``.
Options make an evaluation slow (``sleep_s`` idles, ``burn_s`` spins the CPU) so that kills land
mid-evaluation, or make a worker die: ``die_once_file`` (the first evaluation that finds that file
deletes it and SIGKILLs its own process), ``die_always_x`` (any design with x above it SIGKILLs its
process, every time), or hang: ``hang_above_x`` (designs with x above it sleep ``hang_s``).
"""
import os
import signal
import time

import numpy as np

from electroforge import Metrics, Microstructure, Performance, hookimpl
from electroforge.errors import EvaluationError

OPTIMUM = {"x": 0.3, "y": 0.7}


def _burn(seconds):
    end = time.process_time() + seconds
    acc = 0.0
    while time.process_time() < end:
        acc += sum(i * i for i in range(2000))
    return acc


class FakeGen:
    name = "fakegen"
    parameters = {"x": (0.0, 1.0), "y": (0.0, 1.0)}

    def __init__(self, sleep_s=0.0, burn_s=0.0, die_once_file="", die_always_x=2.0, raise_below_y=-1.0, edge=4,
                 hang_above_x=2.0, hang_s=60.0):
        self.sleep_s, self.burn_s = float(sleep_s), float(burn_s)
        self.hang_above_x, self.hang_s = float(hang_above_x), float(hang_s)
        self.die_once_file, self.die_always_x = str(die_once_file), float(die_always_x)
        self.raise_below_y, self.edge = float(raise_below_y), int(edge)

    def generate(self, params, shape, seed):
        if self.die_once_file:
            try:  # removing is the claim: of two workers that race for the file, only one dies
                os.remove(self.die_once_file)
            except FileNotFoundError:
                pass
            else:
                os.kill(os.getpid(), signal.SIGKILL)
        if params["x"] > self.die_always_x:
            os.kill(os.getpid(), signal.SIGKILL)
        if params["x"] > self.hang_above_x:
            time.sleep(self.hang_s)
        if params["y"] < self.raise_below_y:
            raise RuntimeError("fake generator exploded")
        if self.sleep_s:
            time.sleep(self.sleep_s)
        if self.burn_s:
            _burn(self.burn_s)
        labels = np.zeros((self.edge,) * 3, np.uint8)
        return Microstructure(labels, 1e-6, metadata={"params": dict(params), "seed": seed})


class FakeChar:
    name = "fakechar"

    def __init__(self, raise_below_y=-1.0):
        self.raise_below_y = float(raise_below_y)

    def characterize(self, ms):
        p = ms.metadata["params"]
        if p["y"] < self.raise_below_y:
            raise ZeroDivisionError("fake characterizer divided by zero")
        return Metrics({"pore": 0.4, "active": 0.5, "binder": 0.1}, 1e5, 0.1, 1.5, 0.1,
                       extras={"x": p["x"], "y": p["y"]})


class FakeSim:
    name = "fakesim"

    def __init__(self, fail_above=0.85):
        self.fail_above = float(fail_above)

    def simulate(self, electrode, cell, protocol):
        x, y = electrode.metrics.extras["x"], electrode.metrics.extras["y"]
        if x > self.fail_above:
            raise EvaluationError("fake solver failure region")
        f = 10.0 - 10 * ((x - OPTIMUM["x"]) ** 2 + (y - OPTIMUM["y"]) ** 2)
        return Performance(f, f, 1.0, 3600.0, f, f, f)


@hookimpl
def register_generators():
    return [FakeGen]


@hookimpl
def register_characterizers():
    return [FakeChar]


@hookimpl
def register_cell_simulators():
    return [FakeSim]
