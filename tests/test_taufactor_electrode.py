"""The taufactor characterizer on a 64³ synthetic three-phase electrode: physically sensible metrics."""
from __future__ import annotations

import math

import numpy as np
import pytest

from electroforge import Microstructure
from electroforge.characterization import status_of
from electroforge.plugins.taufactor import TauFactorCharacterizer
from electroforge.plugins.taufactor.synthetic import synthetic_electrode

SIGMA_AM, SIGMA_CBD = 0.18, 10.0


@pytest.fixture(scope="module")
def electrode():
    ms = Microstructure(labels=synthetic_electrode(64, seed=1), voxel_size_m=4e-7)
    return ms, TauFactorCharacterizer(threads=1).characterize(ms)


def test_64_cube_metrics_are_physically_sensible(electrode):
    ms, m = electrode
    eps = m.porosity
    assert status_of(m) == ("ok", "")
    assert 0.3 < eps < 0.5
    assert m.volume_fractions == ms.volume_fractions()
    # electrolyte: tortuous but connected; Bruggeman-like neighbourhood
    assert m.tortuosity_factor > 1.0
    assert 0 < m.effective_diffusivity_ratio < eps
    assert 1.2 < m.tortuosity_factor < 4.0
    # solid: between the series (harmonic) and parallel (arithmetic) bounds of its phases
    f_am, f_cbd = m.volume_fractions["active"], m.volume_fractions["binder"]
    upper = f_am * SIGMA_AM + f_cbd * SIGMA_CBD
    assert 0 < m.effective_conductivity_S_per_m < upper
    # binder coats part of the active surface; active-pore area = total x (1 - coverage)
    assert 0 < m.binder_coverage < 1
    total = m.extras["total_active_surface_area_per_m"]
    assert m.specific_surface_area_per_m == pytest.approx(total * (1 - m.binder_coverage))
    # spheres of radius 6 voxels (2.4 µm): a ~ 3 eps_am / R order of magnitude for the total area
    r_m = 6 * 4e-7
    assert 0.3 < total / (3 * f_am / r_m) < 1.5
    assert m.extras["tortuosity_converged"] == 1.0 and m.extras["conductivity_converged"] == 1.0


def test_cbd_network_raises_the_solid_conductivity_above_active_alone(electrode):
    ms, m = electrode
    no_binder = TauFactorCharacterizer(threads=1, binder_conductivity_S_per_m=SIGMA_AM).characterize(ms)
    assert no_binder.effective_conductivity_S_per_m < m.effective_conductivity_S_per_m
    assert no_binder.tortuosity_factor == pytest.approx(m.tortuosity_factor)
    assert math.isfinite(no_binder.extras["tortuosity_solid"])


def test_same_input_same_metrics(electrode):
    ms, m = electrode
    again = TauFactorCharacterizer(threads=1).characterize(Microstructure(np.array(ms.labels), ms.voxel_size_m))
    assert again.tortuosity_factor == m.tortuosity_factor
    assert again.effective_conductivity_S_per_m == m.effective_conductivity_S_per_m
