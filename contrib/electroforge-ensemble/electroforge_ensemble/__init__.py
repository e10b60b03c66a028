"""electroforge-ensemble: the ``gan-ensemble`` generator, a deep ensemble of conditional GANs whose
spread across members is reported as the generator's relative uncertainty (see
:mod:`electroforge_ensemble.generator`). Registered through the ``electroforge`` entry-point group;
torch is imported only when the generator is constructed.
"""
from __future__ import annotations

import electroforge

__version__ = "0.1.0"


@electroforge.hookimpl
def register_generators():
    from electroforge_ensemble.generator import EnsembleGenerator

    return [EnsembleGenerator]
