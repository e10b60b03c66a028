"""The ``procedural`` generator honours its parameters, is deterministic and places binder by adhesion."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from electroforge.errors import ValidationError
from electroforge.materials import solid_volume_fractions
from electroforge.plugins.procedural import ProceduralGenerator

GEN = ProceduralGenerator()
PARAM_SETS = [
    {"am_mass_fraction": 0.85, "porosity": 0.25, "binder_adhesion": 0.0},
    {"am_mass_fraction": 0.97, "porosity": 0.50, "binder_adhesion": 1.0},
    {"am_mass_fraction": 0.91, "porosity": 0.375, "binder_adhesion": 0.5},
    {"am_mass_fraction": 0.88, "porosity": 0.45, "binder_adhesion": 0.2},
]


def _pores_percolate_x(labels: np.ndarray) -> bool:
    lab, _ = ndi.label(labels == 0)
    return bool((set(np.unique(lab[0])) & set(np.unique(lab[-1]))) - {0})


@pytest.mark.parametrize("params", PARAM_SETS)
def test_procedural_fractions_match_mass_fraction_and_porosity_64(params):
    ms = GEN.generate(params, (64, 64, 64), seed=3)
    vf = ms.volume_fractions()
    eps_am, eps_cbd = solid_volume_fractions(params["am_mass_fraction"], params["porosity"])
    assert abs(vf["pore"] - params["porosity"]) <= 0.01
    assert abs(vf["active"] - eps_am) <= 0.01
    assert abs(vf["binder"] - eps_cbd) <= 0.01
    assert _pores_percolate_x(ms.labels)


def test_procedural_fractions_at_128_and_non_cubic():
    p = PARAM_SETS[0]
    eps_am, eps_cbd = solid_volume_fractions(p["am_mass_fraction"], p["porosity"])
    for shape in [(128, 128, 128), (96, 48, 40)]:
        vf = GEN.generate(p, shape, seed=1).volume_fractions()
        assert abs(vf["pore"] - 0.25) <= 0.01 and abs(vf["active"] - eps_am) <= 0.01 and abs(vf["binder"] - eps_cbd) <= 0.01


def test_procedural_contract_labels_metadata_and_voxel_size():
    ms = GEN.generate(PARAM_SETS[2], (48, 40, 32), seed=5)
    assert ms.shape == (48, 40, 32) and ms.labels.dtype == np.uint8
    assert set(np.unique(ms.labels)) == {0, 1, 2}
    assert ms.voxel_size_m == pytest.approx(4e-7)
    assert ms.metadata["generator"] == "procedural" and ms.metadata["seed"] == 5
    assert ms.metadata["params"]["porosity"] == pytest.approx(0.375)
    assert ProceduralGenerator.parameters == {
        "am_mass_fraction": (0.85, 0.97), "porosity": (0.25, 0.50), "binder_adhesion": (0.0, 1.0)}


def test_procedural_deterministic_for_a_seed():
    a = GEN.generate(PARAM_SETS[1], (40, 40, 40), seed=11)
    b = GEN.generate(PARAM_SETS[1], (40, 40, 40), seed=11)
    c = GEN.generate(PARAM_SETS[1], (40, 40, 40), seed=12)
    assert np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.labels, c.labels)


def _binder_touching_active(labels: np.ndarray) -> float:
    """Fraction of binder voxels with a face neighbour in the active phase."""
    near_am = ndi.binary_dilation(labels == 1)
    binder = labels == 2
    return float((binder & near_am).sum() / binder.sum())


def test_procedural_binder_adhesion_moves_binder_onto_particles():
    p = {"am_mass_fraction": 0.90, "porosity": 0.35}
    wet = GEN.generate({**p, "binder_adhesion": 1.0}, (64, 64, 64), seed=2).labels
    dry = GEN.generate({**p, "binder_adhesion": 0.0}, (64, 64, 64), seed=2).labels
    mid = GEN.generate({**p, "binder_adhesion": 0.5}, (64, 64, 64), seed=2).labels
    # films and necks: most binder touches particles; agglomerates: most of it sits in the pores
    wet_f, mid_f, dry_f = (_binder_touching_active(x) for x in (wet, mid, dry))
    assert wet_f > 0.7 and dry_f < 0.4
    assert wet_f > mid_f > dry_f


def test_procedural_particle_size_follows_the_option():
    """Larger particles -> less active/pore interface per volume (a ~ 6 eps / d)."""
    p = PARAM_SETS[2]

    def interface(gen):
        lab = gen.generate(p, (64, 64, 64), seed=4).labels
        am = lab == 1
        return sum(int((am[(slice(None),) * ax + (slice(1, None),)] != am[(slice(None),) * ax + (slice(None, -1),)]).sum())
                   for ax in range(3))

    small = interface(ProceduralGenerator(particle_diameter_m=3e-6))
    large = interface(ProceduralGenerator(particle_diameter_m=8e-6))
    assert large < 0.7 * small


def test_procedural_missing_params_use_mid_range_defaults_and_unknown_names_fail():
    ms = GEN.generate({}, (32, 32, 32), seed=0)
    assert ms.metadata["params"] == {"am_mass_fraction": 0.91, "porosity": 0.375, "binder_adhesion": 0.5}
    assert abs(ms.volume_fractions()["pore"] - 0.375) <= 0.01
    with pytest.raises(ValidationError, match="calendering"):
        GEN.generate({"calendering": 1.0}, (32, 32, 32), seed=0)
    with pytest.raises(ValidationError, match="binder_adhesion"):
        GEN.generate({"binder_adhesion": 1.5}, (32, 32, 32), seed=0)
    with pytest.raises(ValidationError, match="shape"):
        GEN.generate({}, (32, 32), seed=0)
    with pytest.raises(ValidationError, match="voxel_size_m"):
        ProceduralGenerator(voxel_size_m=-1)


def test_procedural_is_registered_and_cli_generates_with_preview(tmp_path, cli):
    from electroforge.registry import get_registry

    assert isinstance(get_registry().create("generator", "procedural"), ProceduralGenerator)
    out, png = tmp_path / "ms.nc", tmp_path / "ms.png"
    r = cli("generate", "--generator", "procedural", "-p", "porosity=0.4", "-p", "am_mass_fraction=0.9",
            "--shape", "48", "--seed", "1", "-o", str(out), "--preview", str(png))
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 0 and png.stat().st_size > 10_000
    from electroforge.imageio import read_microstructure

    assert abs(read_microstructure(out).volume_fractions()["pore"] - 0.4) <= 0.01
    bad = cli("generate", "--generator", "procedural", "-p", "porosity=0.7", "--shape", "32", "-o", str(out))
    assert bad.returncode == 2
    assert bad.stderr.startswith("error:") and "porosity" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_distance_from_active_is_scipys_euclidean_distance_transform():
    """The fast transform (``edt`` package) gives scipy's values exactly, including pores that touch
    the volume's faces (no implicit wall at the border) and the no-active-voxel corner case."""
    from electroforge.plugins.procedural.generator import distance_from_active

    rng = np.random.default_rng(3)
    pore = ndi.gaussian_filter(rng.standard_normal((37, 24, 30)), 2.0) < 0.3
    pore[:, :, :4] = True  # a slab of pore on one face
    got = distance_from_active(pore)
    assert got.dtype == np.float32 and got.shape == pore.shape
    assert np.array_equal(got, ndi.distance_transform_edt(pore).astype(np.float32))
    one = np.ones((9, 9, 9), bool)
    one[4, 4, 4] = False
    assert distance_from_active(one)[0, 0, 0] == pytest.approx(np.sqrt(48))
    assert np.array_equal(distance_from_active(np.ones((4, 4, 4), bool)),
                          ndi.distance_transform_edt(np.ones((4, 4, 4), bool)).astype(np.float32))
