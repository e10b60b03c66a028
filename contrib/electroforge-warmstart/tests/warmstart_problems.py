"""Shared helpers for the warm-start tests: a related pair of analytic problems (the optimum
moves, the scale changes) and a writer of real campaign files."""
from __future__ import annotations

import numpy as np

from electroforge import DesignSpace
from electroforge.model import Evaluation
from electroforge.store import CampaignStore

SPACE = DesignSpace.from_bounds({"am_mass_fraction": (0.85, 0.97), "porosity": (0.25, 0.5)})
OLD_OPTIMUM = np.array([0.55, 0.38])  # "10 W": the earlier campaign's problem
NEW_OPTIMUM = np.array([0.63, 0.30])  # "20 W": the optimum moved, the values dropped


def bump(u: np.ndarray, centre: np.ndarray) -> float:
    u = np.asarray(u, dtype=float)
    return float(np.exp(-0.5 * (((u[0] - centre[0]) / 0.15) ** 2 + ((u[1] - centre[1]) / 0.2) ** 2)))


def old_problem(p) -> float:
    return 120.0 * bump(SPACE.to_unit(p), OLD_OPTIMUM)  # e.g. Wh/kg at 10 W


def new_problem(p) -> float:
    return 105.0 * bump(SPACE.to_unit(p), NEW_OPTIMUM)  # e.g. Wh/kg at 20 W: lower, optimum moved


def write_campaign(path, space: DesignSpace, params, objectives, failed=None) -> None:
    failed = [False] * len(params) if failed is None else failed
    store = CampaignStore.create(path, space, ["10W"], objective_name="specific_energy_Wh_per_kg")
    for i, (p, y, f) in enumerate(zip(params, objectives, failed)):
        store.evaluations.append(
            Evaluation(index=i, params=p, objective=float("nan") if f else y, status="failed" if f else "ok",
                       error="generator: out of bounds" if f else "")
        )
    store.flush()


def evaluations_to_reach(opt, fn, target: float, budget: int) -> int:
    """Sequential ask/tell until fn >= target; the number of evaluations (budget + 1 if never)."""
    for n in range(1, budget + 1):
        (p,) = opt.ask(1)
        y = fn(p)
        opt.tell([p], [y], [False])
        if y >= target:
            return n
    return budget + 1
