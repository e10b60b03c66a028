"""Built-in generator ``procedural``: a physics-inspired cathode manufacturing simulator.

See :mod:`electroforge.plugins.procedural.generator` for the algorithm, the particle size
distribution and the default voxel size (0.4 µm).
"""
from __future__ import annotations

import electroforge
from electroforge.plugins.procedural.generator import ProceduralGenerator

__all__ = ["ProceduralGenerator"]


@electroforge.hookimpl
def register_generators():
    return [ProceduralGenerator]
