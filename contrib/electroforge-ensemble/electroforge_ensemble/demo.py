"""A cheap closed-loop demonstration of the ensemble's noise reaching the optimizer.

The real ``gan-ensemble`` generator and the real ``trieste`` optimizer run through the real
:class:`~electroforge.campaign.Campaign`; only the characterizer and the cell simulator are
replaced by analytic stand-ins (``volume-fractions`` and ``toy-energy``, registered by hand by
:func:`demo_registry`, never through the entry point) so that one evaluation costs milliseconds:

* ``volume-fractions`` measures the generated cube's volume fractions and pore/solid interface area;
* ``toy-energy`` scores ``100 * active_fraction * (1 - exp(-porosity / 0.12))``: more active
  material stores more energy, too little pore space starves the electrolyte. On the generator's
  output the optimum lies near porosity 0.23, just below the training envelope (0.25-0.50), so the
  optimizer is drawn to the region where the generator extrapolates.

:func:`run_demo` runs the same campaign (same seed, same Sobol start) with the generator's
uncertainty reported (per-observation noise for BO) or switched off (``report_uncertainty=False``).
"""
from __future__ import annotations

import math
from pathlib import Path

from electroforge import Metrics, Performance, hookimpl
from electroforge.config import config_from_dict

#: the design space of the demonstration: porosity extends beyond the envelope on both sides
DEMO_SPACE = {"porosity": [0.15, 0.60], "am_mass_fraction": [0.85, 0.97]}


class VolumeFractionCharacterizer:
    """Measured volume fractions and interface area; the transport metrics are fixed placeholders."""

    name = "volume-fractions"

    def characterize(self, ms):
        from electroforge_ensemble.generator import probe_metrics

        lab = ms.labels
        n = len(ms.phases)
        vf = {p: float((lab == i).mean()) for i, p in enumerate(ms.phases[:n])}
        faces_per_voxel = float(probe_metrics(lab)[2])
        return Metrics(vf, faces_per_voxel / ms.voxel_size_m, 0.5, 1.5, 1.0)


class ToyEnergySimulator:
    """``energy_Wh = 100 * active * (1 - exp(-porosity / 0.12))`` from the measured fractions."""

    name = "toy-energy"

    def simulate(self, electrode, cell, protocol):
        vf = electrode.metrics.volume_fractions
        e = 100.0 * vf["active"] * (1.0 - math.exp(-vf["pore"] / 0.12))
        return Performance(e / 3.6, e, e, 3600.0, e, e, e)


class DemoPlugin:
    @hookimpl
    def register_characterizers(self):
        return [VolumeFractionCharacterizer]

    @hookimpl
    def register_cell_simulators(self):
        return [ToyEnergySimulator]


def demo_registry():
    """The installed plugins (``gan-ensemble`` comes from its entry point) plus the demo stand-ins."""
    from electroforge.registry import get_registry

    return get_registry(plugins=[("ensemble-demo", DemoPlugin())])


def demo_config(noise: bool, budget: int = 14, batch: int = 2, seed: int = 7, shape: int = 32, fast_bo: bool = True):
    # 5 Sobol points, then BO: a short demo budget still leaves most evaluations model-based
    bo = {"n_initial": 5}
    if fast_bo:
        bo.update({"num_kernel_samples": 3, "num_initial_samples": 300, "num_optimization_runs": 2})
    return config_from_dict({
        "name": f"ensemble-demo-{'noise' if noise else 'nonoise'}", "seed": seed, "budget": budget, "batch": batch,
        "objective": "energy_Wh", "protocols": ["1C"], "design": dict(DEMO_SPACE),
        "generator": {"name": "gan-ensemble", "shape": shape, "options": {"report_uncertainty": bool(noise)}},
        "characterizer": {"name": "volume-fractions"}, "simulator": {"name": "toy-energy"},
        "cell": {"format": "half"}, "optimizer": {"name": "trieste", "options": bo},
    })


def run_demo(noise: bool, path: str | Path, **kwargs):
    """Run the demonstration campaign to ``path`` (overwritten); returns its evaluations."""
    from electroforge.campaign import Campaign

    return Campaign(demo_config(noise, **kwargs), path, overwrite=True, registry=demo_registry(), progress=False).run()
