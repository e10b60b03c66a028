"""Microstructure files round-trip; foreign or broken files give one-line errors naming the file."""
import numpy as np
import pytest
import tifffile

from electroforge import Microstructure
from electroforge.errors import InputFileError
from electroforge.imageio import read_microstructure, write_microstructure


@pytest.fixture
def ms():
    rng = np.random.default_rng(0)
    return Microstructure(rng.integers(0, 3, size=(6, 5, 4)).astype(np.uint8), 4e-7)


@pytest.mark.parametrize("suffix", [".tif", ".nc"])
def test_round_trip_keeps_labels_voxel_size_and_phases(ms, tmp_path, suffix):
    path = write_microstructure(ms, tmp_path / f"ms{suffix}")
    back = read_microstructure(path)
    assert np.array_equal(back.labels, ms.labels)
    assert back.voxel_size_m == pytest.approx(4e-7) and back.phases == ms.phases


def test_npy_needs_voxel_size(ms, tmp_path):
    path = write_microstructure(ms, tmp_path / "ms.npy")
    with pytest.raises(InputFileError, match=r"ms.npy: voxel size missing"):
        read_microstructure(path)
    assert np.array_equal(read_microstructure(path, voxel_size_m=1e-6).labels, ms.labels)


def test_foreign_tiff_labels_are_mapped_in_sorted_order(tmp_path):
    arr = np.zeros((4, 4, 4), np.uint8)
    arr[1] = 128
    arr[2:] = 255
    tifffile.imwrite(tmp_path / "scan.tif", arr, photometric="minisblack")
    with pytest.raises(InputFileError, match=r"unexpected label values \[0, 128, 255\]"):
        read_microstructure(tmp_path / "scan.tif", voxel_size_m=1e-6)
    ms = read_microstructure(tmp_path / "scan.tif", voxel_size_m=1e-6, phases=["pore", "active", "binder"])
    assert ms.volume_fractions() == {"pore": 0.25, "active": 0.25, "binder": 0.5}


def test_label_count_mismatch_is_named(tmp_path):
    arr = np.arange(64, dtype=np.uint8).reshape(4, 4, 4) % 5 * 10
    tifffile.imwrite(tmp_path / "five.tif", arr, photometric="minisblack")
    with pytest.raises(InputFileError, match=r"five.tif: 5 distinct label values"):
        read_microstructure(tmp_path / "five.tif", voxel_size_m=1e-6, phases=["pore", "active", "binder"])


def test_2d_tiff_is_not_a_stack(tmp_path):
    tifffile.imwrite(tmp_path / "flat.tif", np.zeros((8, 8), np.uint8))
    with pytest.raises(InputFileError, match=r"flat.tif: not a 3D stack"):
        read_microstructure(tmp_path / "flat.tif", voxel_size_m=1e-6)


def test_garbage_and_missing_files(tmp_path):
    (tmp_path / "junk.tif").write_bytes(b"not a tiff at all")
    with pytest.raises(InputFileError, match=r"junk.tif: cannot read"):
        read_microstructure(tmp_path / "junk.tif", voxel_size_m=1e-6)
    with pytest.raises(InputFileError, match=r"nothere.tif: no such file"):
        read_microstructure(tmp_path / "nothere.tif")
    with pytest.raises(InputFileError, match=r"unsupported file type .png"):
        read_microstructure(tmp_path / "a.png")


def test_a_volume_four_voxels_thick_is_written_as_slices_not_rgba(tmp_path):
    import warnings

    from electroforge import Microstructure

    labels = np.random.default_rng(0).integers(0, 3, size=(4, 5, 6), dtype=np.uint8)
    ms = Microstructure(labels, 4e-7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # tifffile warns when it guesses RGB(A) planes
        ms.to_file(tmp_path / "thin.tif")
    back = Microstructure.from_file(tmp_path / "thin.tif")
    assert back.shape == (4, 5, 6) and np.array_equal(back.labels, labels)
