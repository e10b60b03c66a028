"""Install the fake components of ``ef_fakes.py`` as a throw-away distribution, write configs.

``install_fake_dist(root)`` copies the module into ``root`` and adds an ``ef_fakes-0.1.dist-info``
whose ``entry_points.txt`` declares it in the ``electroforge`` group; put ``root`` on ``PYTHONPATH``
(subprocesses, pool and Dask workers) or ``sys.path`` and the registry discovers it like any plugin.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODULE = "ef_fakes"


def install_fake_dist(root: str | Path) -> Path:
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(HERE / f"{MODULE}.py", root / f"{MODULE}.py")
    info = root / f"{MODULE}-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {MODULE}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[electroforge]\nfakes = {MODULE}\n")
    return root


def env_with(root: str | Path) -> dict[str, str]:
    """os.environ plus ``root`` first on PYTHONPATH (for subprocesses)."""
    old = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(root), old) if p),
            "PYBAMM_DISABLE_TELEMETRY": "true"}


def _toml_value(v) -> str:
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(v)


def _inline(options: dict) -> str:
    return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in options.items()) + "}"


def config_text(budget: int = 12, batch: int = 3, seed: int = 3, optimizer: str = "sobol",
                gen: dict | None = None, char: dict | None = None, sim: dict | None = None,
                optimizer_options: dict | None = None, max_failure_fraction: float = 0.5,
                timeout_s: float = 600.0) -> str:
    """A campaign TOML over the fake components (design x, y in [0, 1])."""
    return "\n".join([
        'name = "fake"', f"seed = {seed}", f"budget = {budget}", f"batch = {batch}",
        'objective = "energy_Wh"', 'protocols = ["1C"]', f"max_failure_fraction = {max_failure_fraction}",
        f"timeout_s = {timeout_s}",
        "[design]", "x = [0.0, 1.0]", "y = [0.0, 1.0]",
        "[generator]", 'name = "fakegen"', "shape = 8", f"options = {_inline(gen or {})}",
        "[characterizer]", 'name = "fakechar"', f"options = {_inline(char or {})}",
        "[simulator]", 'name = "fakesim"', f"options = {_inline(sim or {})}",
        "[cell]", 'format = "half"',
        "[optimizer]", f'name = "{optimizer}"', f"options = {_inline(optimizer_options or {})}",
        "",
    ])


class on_path:
    """Context manager: ``root`` first on sys.path and PYTHONPATH (for spawned workers), undone after."""

    def __init__(self, root: str | Path):
        self.root = str(root)

    def __enter__(self):
        import sys

        self._path, self._env = list(sys.path), os.environ.get("PYTHONPATH")
        sys.path.insert(0, self.root)
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (self.root, self._env) if p)
        return Path(self.root)

    def __exit__(self, *exc):
        import sys

        sys.path[:] = self._path
        if self._env is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = self._env
        sys.modules.pop(MODULE, None)
        return False


def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc)."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(d.name))
    return out


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"
