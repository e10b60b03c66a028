"""The ``taufactor`` characterizer: the four electrode metrics of a labelled volume.

Through-thickness is x (array axis 0). Computed per call to :meth:`TauFactorCharacterizer.characterize`:

1. volume fraction of every phase (voxel counts);
2. active-material surface area by marching cubes (unsmoothed), split by voxel-face counting into
   the part touching pore (``specific_surface_area_per_m``, 1/m, per electrode volume) and the
   part touching binder (``binder_coverage`` = binder faces / all non-active faces of the active phase);
3. pore tortuosity factor, taufactor's binary problem (D_eff/D = eps/tau);
4. effective electronic conductivity (S/m), taufactor's multi-phase problem, active material and
   binder at their own intrinsic conductivities, pore (and any unknown phase) insulating.

Both transport problems are solved by multigrid-preconditioned CG by default (``solver="multigrid"``,
:mod:`~electroforge.plugins.taufactor.multigrid`; agrees with taufactor's SOR within its own
convergence error, tested), or by taufactor's SOR (``"sor"``: in place; ``"taufactor"``: its ``solve``).

Percolation is checked (face connectivity) **before** each solve: pores that do not connect the two
x faces give ``tortuosity_factor = inf``; a solid that does not gives conductivity 0. Nothing is raised:
:func:`electroforge.characterization.failure_reason` turns that into the evaluation's error.
"""
from __future__ import annotations

import math
import time

import numpy as np

from electroforge.errors import ValidationError
from electroforge.materials import NMC811
from electroforge.model import Metrics, Microstructure
from electroforge.plugins.taufactor import geometry, solvers

PORE, ACTIVE, BINDER = "pore", "active", "binder"


class TauFactorCharacterizer:
    """Electrode metrics with TauFactor (CUDA when torch sees it, else the CPU); quiet by default.

    Options (all keyword, with defaults):

    * ``active_conductivity_S_per_m`` (0.18, NMC811) and ``binder_conductivity_S_per_m`` (10, CBD):
      intrinsic conductivities for the solid network (see :mod:`electroforge.materials`);
    * ``device``: ``"auto"`` (cuda if available, else cpu), ``"cpu"`` or ``"cuda"``;
    * ``conv_crit``: taufactor's convergence criterion (max spread of the layer fluxes, relative);
    * ``iter_limit``: iteration cap per solve (an unconverged solve is flagged in ``extras``);
    * ``threads``: torch CPU threads during the solves (default min(2, cores, the process's
      ``torch.get_num_threads()`` at solve time), so campaign workers, which limit torch to their
      share of the cores, are not oversubscribed;
    * ``solver``: ``"multigrid"`` (default; multigrid CG, float32, stops when the estimated relative
      error of the conductance is below ``rtol``, default 3e-4), ``"sor"`` (taufactor's SOR loop,
      convergence by ``conv_crit`` / ``iter_limit``) or ``"taufactor"`` (taufactor's own ``solve``);
    * ``fast_sor``: ``False`` is the same as ``solver="taufactor"`` (kept for old configs).
    """

    name = "taufactor"

    def __init__(
        self,
        active_conductivity_S_per_m: float = NMC811.active_conductivity_S_per_m,
        binder_conductivity_S_per_m: float = NMC811.cbd_conductivity_S_per_m,
        device: str = "auto",
        conv_crit: float = 1e-2,
        iter_limit: int = 10000,
        threads: int | None = None,
        fast_sor: bool = True,
        solver: str = "multigrid",
        rtol: float = 3e-4,
    ):
        for key, value in (("active_conductivity_S_per_m", active_conductivity_S_per_m),
                           ("binder_conductivity_S_per_m", binder_conductivity_S_per_m),
                           ("conv_crit", conv_crit)):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValidationError(f"taufactor: {key}={value!r} must be a finite number > 0")
        if isinstance(iter_limit, float) and iter_limit.is_integer():
            iter_limit = int(iter_limit)
        if not (isinstance(iter_limit, int) and iter_limit >= 100):
            raise ValidationError(f"taufactor: iter_limit={iter_limit!r} must be an integer >= 100")
        if device not in ("auto", "cpu") and not str(device).startswith("cuda"):
            raise ValidationError(f"taufactor: device={device!r} must be 'auto', 'cpu' or 'cuda[:N]'")
        self.active_conductivity_S_per_m = float(active_conductivity_S_per_m)
        self.binder_conductivity_S_per_m = float(binder_conductivity_S_per_m)
        self.device = device
        self.conv_crit = float(conv_crit)
        self.iter_limit = int(iter_limit)
        if threads is not None and not (isinstance(threads, (int, float)) and float(threads).is_integer() and threads >= 1):
            raise ValidationError(f"taufactor: threads={threads!r} must be a whole number >= 1")
        #: None: :func:`solvers.default_threads` at each solve (respects the process's torch threads)
        self.threads = None if threads is None else int(threads)
        self.fast_sor = bool(fast_sor)
        if solver not in solvers.METHODS:
            raise ValidationError(f"taufactor: solver={solver!r} must be one of {', '.join(solvers.METHODS)}")
        if not (isinstance(rtol, (int, float)) and 0 < rtol < 0.1):
            raise ValidationError(f"taufactor: rtol={rtol!r} must lie in (0, 0.1), e.g. 3e-4")
        self.solver = "taufactor" if not self.fast_sor else solver
        self.rtol = float(rtol)

    # ------------------------------------------------------------------ public
    def characterize(self, microstructure: Microstructure) -> Metrics:
        """The four metrics of ``microstructure`` (x through the thickness)."""
        ms = microstructure
        if PORE not in ms.phases:
            raise ValidationError(
                f"taufactor: the microstructure has no 'pore' phase (phases {list(ms.phases)}); "
                "name the electrolyte phase 'pore' (e.g. --phases pore,active,binder)"
            )
        labels = np.asarray(ms.labels)
        n_labels = len(ms.phases)
        pore = ms.phases.index(PORE)
        active = ms.phases.index(ACTIVE) if ACTIVE in ms.phases else None
        binder = ms.phases.index(BINDER) if BINDER in ms.phases else None
        device = solvers.resolve_device(self.device)
        dx = ms.voxel_size_m
        extras: dict[str, float] = {}
        timings: dict[str, float] = {}

        t0 = time.perf_counter()
        vf = ms.volume_fractions()
        timings["volume_fractions"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        ssa, coverage, total_area = self._surface(labels, active, pore, binder, n_labels, dx)
        extras["total_active_surface_area_per_m"] = total_area
        timings["surface"] = time.perf_counter() - t0

        threads = (self.threads or solvers.default_threads()) if device == "cpu" else None
        with solvers.torch_threads(threads):
            t0 = time.perf_counter()
            tau, pore_extras = self._pore_tortuosity(labels == pore, device)
            extras.update(pore_extras)
            timings["tortuosity"] = time.perf_counter() - t0

            t0 = time.perf_counter()
            sigma, solid_extras = self._solid_conductivity(labels, active, binder, device)
            extras.update(solid_extras)
            timings["conductivity"] = time.perf_counter() - t0

        extras.update({f"time_{k}_s": v for k, v in timings.items()})
        return Metrics(
            volume_fractions=vf,
            specific_surface_area_per_m=ssa,
            binder_coverage=coverage,
            tortuosity_factor=tau,
            effective_conductivity_S_per_m=sigma,
            extras=extras,
        )

    # ------------------------------------------------------------------ parts
    @staticmethod
    def _surface(labels, active, pore, binder, n_labels, dx):
        """(active-pore area per volume 1/m, binder coverage, total active area per volume 1/m)."""
        if active is None:
            return 0.0, 0.0, 0.0
        total = geometry.surface_area_voxels(labels == active) / labels.size / dx
        faces = geometry.face_counts(labels, active, n_labels)
        n_faces = int(faces.sum())
        if n_faces == 0:
            return 0.0, 0.0, total
        coverage = float(faces[binder]) / n_faces if binder is not None else 0.0
        pore_share = float(faces[pore]) / n_faces
        return total * pore_share, coverage, total

    def _pore_tortuosity(self, mask, device):
        spanning = geometry.spanning_mask(mask)
        total = int(mask.sum())
        frac = float(spanning.sum()) / total if total else 0.0
        extras = {"pore_percolating_fraction": frac}
        if frac == 0.0:
            return math.inf, extras
        if self.solver == "multigrid":
            res = solvers.multigrid_tortuosity(mask, device=device, rtol=self.rtol, spanning=spanning)
        else:
            res = solvers.binary_tortuosity(mask, device=device, conv_crit=self.conv_crit,
                                            iter_limit=self.iter_limit, fast=self.solver == "sor")
        tau = res.tau
        if not (math.isfinite(tau) and tau > 0):
            return math.inf, extras  # the solver found no flux after all
        extras.update({
            "tortuosity_factor_raw": tau,
            "tortuosity_iterations": float(res.iterations),
            "tortuosity_converged": float(res.converged),
            "tortuosity_flux_spread": float(res.flux_spread),
        })
        return max(tau, 1.0), extras  # clip the tiny numerical undershoot of straight channels

    def _solid_conductivity(self, labels, active, binder, device):
        cond = {}
        image = np.zeros(labels.shape, dtype=np.uint8)
        if active is not None:
            image[labels == active] = 1
            cond[1] = self.active_conductivity_S_per_m
        if binder is not None:
            image[labels == binder] = 2
            cond[2] = self.binder_conductivity_S_per_m
        solid = image > 0
        spanning = geometry.spanning_mask(solid)
        total = int(solid.sum())
        frac = float(spanning.sum()) / total if total else 0.0
        extras = {"solid_percolating_fraction": frac}
        if frac == 0.0:
            return 0.0, extras
        if self.solver == "multigrid":
            res = solvers.multigrid_conductivity(image, cond, device=device, rtol=self.rtol, spanning=spanning)
        else:
            res = solvers.multiphase_conductivity(image, cond, device=device, conv_crit=self.conv_crit,
                                                  iter_limit=self.iter_limit, fast=self.solver == "sor")
        sigma = res.d_eff if math.isfinite(res.d_eff) and res.d_eff > 0 else 0.0
        extras.update({
            "tortuosity_solid": res.tau if math.isfinite(res.tau) else math.inf,
            "conductivity_iterations": float(res.iterations),
            "conductivity_converged": float(res.converged),
            "conductivity_flux_spread": float(res.flux_spread),
        })
        return sigma, extras
