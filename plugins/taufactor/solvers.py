"""The steady-state transport solvers (through-thickness = axis 0): our multigrid CG and taufactor's SOR.

Three methods, the same discretisation (taufactor's): ``"multigrid"`` (default;
:mod:`electroforge.plugins.taufactor.multigrid`, multigrid-preconditioned CG in float32 on the
current-carrying cluster, ~10-20x fewer operations than SOR), ``"sor"`` (taufactor's SOR loop run in
place, :func:`sor_in_place`) and ``"taufactor"`` (taufactor's own ``solve``).

taufactor prints progress and warnings ("Warning: not converged", "no percolating path") even
with ``verbose=False``; every call here runs with stdout redirected and warnings caught, so the
user sees nothing unless they ask for it. Callers check percolation first (see
:func:`~electroforge.plugins.taufactor.geometry.through_x_fraction`): a blocked image can run to
the iteration limit and return a huge finite tortuosity instead of infinity.
"""
from __future__ import annotations

import contextlib
import io
import math
import os
import warnings
from collections.abc import Mapping

import attrs
import numpy as np


@attrs.frozen
class SolveResult:
    """Outcome of one taufactor solve."""

    tau: float
    """taufactor's tortuosity factor (for the multi-phase solver: D_mean / D_eff)."""
    d_eff: float
    """Effective transport coefficient: eps/tau (binary) or sigma_eff in the units of ``cond`` (multi-phase)."""
    iterations: int
    converged: bool
    flux_spread: float = float("nan")
    """(max - min) / max of the current through the x layers at the end (taufactor's convergence measure)."""


METHODS = ("multigrid", "sor", "taufactor")


def resolve_device(device: str) -> str:
    """``"auto"`` -> ``"cuda"`` when torch sees a GPU, else ``"cpu"``; other values pass through."""
    if device == "auto":
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def default_threads() -> int:
    """Threads of a solve when none are asked for: min(2, cores, the process's torch threads).

    Read at solve time, so a process that limited torch (a campaign worker, the optimiser race:
    ``torch.set_num_threads(1)``) is respected: two threads contending for one free core cost about
    twice the CPU of one, and 10-25x when OpenMP spins (docs/characterizer.md).
    """
    import torch

    return max(1, min(2, os.cpu_count() or 1, torch.get_num_threads()))


@contextlib.contextmanager
def quiet():
    """Swallow taufactor's stdout chatter and warnings."""
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Run with ``torch.set_num_threads(n)``, restoring the previous value afterwards."""
    import torch

    old = torch.get_num_threads()
    if n:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def sor_in_place(solver, conv_crit: float = 1e-2, iter_limit: int = 10000, multiphase: bool = False):
    """taufactor's red-black SOR loop, rewritten to run in place; returns taufactor's ``tau``.

    Same update, same convergence test (taufactor's own ``check_convergence`` every 100
    iterations), same result up to float rounding, but with the per-voxel weights
    omega*chequerboard/N_i (and, multi-phase, the pair conductances) folded together once before
    the loop and no temporaries inside it: ~2x fewer memory passes per iteration
    (measured ratio in benchmarks/bench_characterizer.py).
    """
    import torch

    with torch.no_grad():
        field = solver.field
        inner = field[:, 1:-1, 1:-1, 1:-1]
        inv = torch.where(torch.isinf(solver.factor), torch.zeros_like(solver.factor), 1.0 / solver.factor)
        shifts = [(slice(2, None), slice(1, -1), slice(1, -1)), (slice(None, -2), slice(1, -1), slice(1, -1)),
                  (slice(1, -1), slice(2, None), slice(1, -1)), (slice(1, -1), slice(None, -2), slice(1, -1)),
                  (slice(1, -1), slice(1, -1), slice(2, None)), (slice(1, -1), slice(1, -1), slice(None, -2))]
        views = [field[(slice(None), *sl)] for sl in shifts]
        if multiphase:
            weights = [[solver.pre_factors[k][(slice(None), *sl)] * inv * cb for k, sl in enumerate(shifts)]
                       for cb in solver.cb]
        else:
            weights = [inv * cb for cb in solver.cb]
        relax = solver.cb  # omega * chequerboard
        buf = torch.empty_like(inner)
        it = solver.iter
        converged = False
        while not converged and it < iter_limit:
            c = it % 2
            if multiphase:
                w = weights[c]
                torch.mul(views[0], w[0], out=buf)
                for k in range(1, 6):
                    buf.addcmul_(views[k], w[k])
            else:
                torch.add(views[0], views[1], out=buf)
                for k in range(2, 6):
                    buf.add_(views[k])
                buf.mul_(weights[c])
            buf.addcmul_(inner, relax[c], value=-1.0)
            inner.add_(buf)
            it += 1
            if it % 100 == 0:
                solver.iter = it
                converged = solver.check_convergence(False, conv_crit, 10)
        solver.iter = it
        solver.converged = converged
        if not converged:  # taufactor's solve() computes tau at the end when it stops unconverged
            solver.tau, _ = solver.compute_metrics()
    return solver.tau


def _harmonic_pairs(c, axis: int):
    """Conductance of the faces between neighbours along ``axis``: 2 c_i c_j / (c_i + c_j) (0 if either is 0)."""
    import torch

    n = c.shape[axis]
    a, b = c.narrow(axis, 0, n - 1), c.narrow(axis, 1, n - 1)
    s = a + b
    return torch.where(s > 0, 2 * a * b / torch.where(s > 0, s, torch.ones_like(s)), torch.zeros_like(s))


DIRECT_FALLBACK_MAX_UNKNOWNS = 50_000
"""Largest cluster for the sparse direct fallback (0.05 s on a tenuous 10 k-voxel cluster; a compact
170 k-voxel solid took 60 s, where multigrid needs 20 iterations)."""


def _conductance(problem, rtol, iter_limit, unknowns):
    """Multigrid CG; if it has not converged after ``iter_limit`` iterations: a sparse direct solve for a
    small cluster (barely percolating structures are tenuous and cheap to factorise), else multigrid CG
    again with ten times the iterations (flagged unconverged if that is not enough either)."""
    from electroforge.plugins.taufactor import multigrid

    res = multigrid.solve_conductance(*problem, rtol=rtol, max_iter=iter_limit, kcycle=True)
    if res.converged:
        return res
    if unknowns <= DIRECT_FALLBACK_MAX_UNKNOWNS:
        return attrs.evolve(multigrid.solve_conductance_direct(*problem), iterations=res.iterations)
    more = multigrid.solve_conductance(*problem, rtol=rtol, max_iter=10 * iter_limit, kcycle=True)
    return attrs.evolve(more, iterations=res.iterations + more.iterations)


def multigrid_tortuosity(mask: np.ndarray, device: str = "cpu", rtol: float = 3e-4, iter_limit: int = 100,
                         spanning: np.ndarray | None = None) -> SolveResult:
    """taufactor's binary problem solved by multigrid CG: tau = eps / D_rel with eps the total ``mask`` fraction.

    Same discretisation as ``taufactor.Solver``: unit conductance between face neighbours of the
    phase, conductance 2 from the first/last x layer to the potentials on the x faces (half a voxel
    away), D_rel = current × nx / (ny nz) for a unit potential difference. ``spanning`` (the voxels in
    clusters touching both x faces, :func:`~electroforge.plugins.taufactor.geometry.spanning_mask`)
    is computed when not given. ``rtol``: relative accuracy aimed at for the conductance.
    """
    import torch

    from electroforge.plugins.taufactor import geometry

    mask = np.asarray(mask, dtype=bool)
    if spanning is None:
        spanning = geometry.spanning_mask(mask)
    eps = float(mask.mean())
    if not spanning.any():
        return SolveResult(math.inf, 0.0, 0, True, 0.0)
    nx, ny, nz = mask.shape
    t = torch.from_numpy(spanning.astype(np.float32)).to(device)
    res = _conductance((t[1:] * t[:-1], t[:, 1:] * t[:, :-1], t[:, :, 1:] * t[:, :, :-1], 2.0 * t[0], 2.0 * t[-1]),
                       rtol, iter_limit, int(spanning.sum()))
    d_rel = res.conductance * nx / (ny * nz)
    tau = eps / d_rel if d_rel > 0 else math.inf
    return SolveResult(tau, d_rel, res.iterations, res.converged, res.flux_spread)


def multigrid_conductivity(labels: np.ndarray, cond: Mapping[int, float], device: str = "cpu",
                           rtol: float = 3e-4, iter_limit: int = 100,
                           spanning: np.ndarray | None = None) -> SolveResult:
    """taufactor's multi-phase problem solved by multigrid CG; ``d_eff`` is sigma_eff in the units of ``cond``.

    Same discretisation as ``taufactor.MultiPhaseSolver``: face neighbours exchange current through
    the harmonic mean of their conductivities; the first/last x layer connects to the boundary
    potential through a virtual layer of its own conductivity one voxel further out, so the potentials
    are nx + 1 voxels apart; label 0 (and any label missing from ``cond``) insulates. ``tau`` is
    taufactor's D_mean / D_eff with D_mean the volume-weighted mean conductivity.
    """
    import torch

    from electroforge.plugins.taufactor import geometry

    labels = np.asarray(labels)
    c = np.zeros(labels.shape, dtype=np.float32)
    d_mean = 0.0
    for k, v in cond.items():
        sel = labels == int(k)
        c[sel] = float(v)
        d_mean += float(sel.mean()) * float(v)
    if spanning is None:
        spanning = geometry.spanning_mask(c > 0)
    c[~spanning] = 0.0
    if not spanning.any():
        return SolveResult(math.inf, 0.0, 0, True, 0.0)
    nx, ny, nz = labels.shape
    t = torch.from_numpy(c).to(device)
    res = _conductance((_harmonic_pairs(t, 0), _harmonic_pairs(t, 1), _harmonic_pairs(t, 2), t[0], t[-1]),
                       rtol, iter_limit, int(spanning.sum()))
    sigma = res.conductance * (nx + 1) / (ny * nz)
    tau = d_mean / sigma if sigma > 0 else math.inf
    return SolveResult(tau, sigma, res.iterations, res.converged, res.flux_spread)


def binary_tortuosity(mask: np.ndarray, device: str = "cpu", conv_crit: float = 1e-2,
                      iter_limit: int = 10000, fast: bool = True) -> SolveResult:
    """Tortuosity factor of the ``mask`` phase through axis 0 by taufactor's SOR (Dirichlet on the x faces, no flux on the sides).

    ``fast`` runs the same iteration through :func:`sor_in_place`; ``fast=False`` calls taufactor's ``solve``.
    """
    import taufactor as tf

    with quiet():
        solver = tf.Solver(np.ascontiguousarray(mask, dtype=np.uint8), device=device)
        if fast:
            tau = sor_in_place(solver, conv_crit=conv_crit, iter_limit=iter_limit)
        else:
            tau = solver.solve(verbose=False, conv_crit=conv_crit, iter_limit=iter_limit)
    return _result(solver, tau)


def _result(solver, tau) -> SolveResult:
    """Read a finished taufactor solver (either kind) into a :class:`SolveResult`."""
    flux = np.asarray(getattr(solver, "flux_1d", [[np.nan]]), dtype=float).ravel()
    spread = float((flux.max() - flux.min()) / flux.max()) if flux.size and flux.max() > 0 else float("nan")
    return SolveResult(
        tau=float(np.atleast_1d(tau)[0]),
        d_eff=float(np.atleast_1d(solver.D_eff)[0]),
        iterations=int(solver.iter),
        converged=bool(solver.converged),
        flux_spread=spread,
    )


def multiphase_conductivity(labels: np.ndarray, cond: Mapping[int, float], device: str = "cpu",
                            conv_crit: float = 1e-2, iter_limit: int = 10000, fast: bool = True) -> SolveResult:
    """Effective conductivity through axis 0 of a multi-phase image; label 0 insulates.

    ``cond`` maps each conducting label to its intrinsic conductivity; the result's ``d_eff``
    is in the same units. Neighbouring voxels exchange flux through the harmonic mean of their
    conductivities (taufactor's ``MultiPhaseSolver``; ``fast`` as in :func:`binary_tortuosity`).
    """
    import taufactor as tf

    present = {int(v) for v in np.unique(labels)} - {0}
    cond = {int(k): float(v) for k, v in cond.items() if int(k) in present}
    with quiet():
        solver = tf.MultiPhaseSolver(np.ascontiguousarray(labels, dtype=np.uint8), cond=cond, device=device)
        if fast:
            tau = sor_in_place(solver, conv_crit=conv_crit, iter_limit=iter_limit, multiphase=True)
        else:
            tau = solver.solve(verbose=False, conv_crit=conv_crit, iter_limit=iter_limit)
    return _result(solver, tau)
