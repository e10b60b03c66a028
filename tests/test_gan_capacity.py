"""The slot-capacity ablation (plugins/gan/capacity.py) and the procedural packing it reads."""
from __future__ import annotations

import numpy as np
import pytest

from electroforge.plugins.gan.capacity import keep_per_cell, slot_capacity, smallest_mask, union_sdf
from electroforge.plugins.procedural.generator import ProceduralGenerator

PARAMS = {"am_mass_fraction": 0.93, "porosity": 0.33, "binder_adhesion": 0.5}


def test_particle_packing_replays_the_spheres_of_generate():
    gen = ProceduralGenerator()
    shape = (40, 40, 40)
    spheres = gen.particle_packing(PARAMS, shape, seed=3)
    active = gen.generate(PARAMS, shape, seed=3).labels == 1
    assert spheres.shape[1] == 4 and len(spheres) > 10
    assert np.all((spheres[:, :3] >= 0) & (spheres[:, :3] <= 40))
    # the union of the recorded spheres, at the generator's exact fraction, is its active phase
    mask = smallest_mask(union_sdf(spheres, shape, spheres[:, 3].max() + 2), int(active.sum()))
    assert np.count_nonzero(mask != active) <= 0.001 * active.size  # ties at the fraction's edge only


def test_keep_per_cell_keeps_the_largest_spheres_of_each_cell_and_clips_radii():
    s = np.array([[1, 1, 1, 2.0], [2, 2, 2, 5.0], [3, 3, 3, 3.0], [12, 1, 1, 1.0]])
    kept = keep_per_cell(s, cell=8, slots=2, radius_max=4.0)
    assert sorted(kept[:, 3].tolist()) == [1.0, 3.0, 4.0]  # the 2.0 of the first cell has no slot; 5 -> 4


def test_slot_capacity_is_lossless_with_enough_slots_and_loses_with_too_few():
    gen = ProceduralGenerator()
    shape = (48, 48, 48)
    spheres = gen.particle_packing(PARAMS, shape, seed=0)
    active = gen.generate(PARAMS, shape, seed=0).labels == 1
    full = slot_capacity(spheres, active, cell=16, slots=99)
    one = slot_capacity(spheres, active, cell=16, slots=1)
    assert full["iou"] > 0.995 and full["dropped"] == 0.0
    assert one["iou"] < full["iou"] - 0.1 and one["dropped"] > 0.3
    with pytest.raises(ValueError, match="no radius"):
        slot_capacity(spheres, active, cell=4, slots=3)
