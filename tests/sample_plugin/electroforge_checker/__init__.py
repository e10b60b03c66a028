"""A complete minimal third-party electroforge plugin: a three-phase checkerboard generator."""
import numpy as np

from electroforge import Microstructure, hookimpl


class CheckerGenerator:
    """Cubes of ``cell`` voxels alternating pore / active / binder along x+y+z."""

    name = "checker"
    parameters = {"cell": (1.0, 16.0)}

    def __init__(self, voxel_size_m: float = 4e-7):
        self.voxel_size_m = voxel_size_m

    def generate(self, params, shape, seed):
        cell = int(round(params.get("cell", 4.0)))
        x, y, z = np.indices(shape)
        labels = ((x // cell + y // cell + z // cell) % 3).astype(np.uint8)
        return Microstructure(labels, self.voxel_size_m, metadata={"generator": self.name, "seed": seed})


@hookimpl
def register_generators():
    return [CheckerGenerator]
