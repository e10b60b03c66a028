"""Read and write microstructures: multi-page TIFF (tifffile), netCDF (xarray) and ``.npy``.

TIFF stacks hold one page per x slice (x = through-thickness). electroforge writes the voxel size
and phase names into the TIFF description as JSON, so its own files read back without options.
Foreign stacks with arbitrary integer labels are mapped to phases with ``phases`` (the sorted
distinct values map to the names in order) or ``label_map`` (value -> phase name).
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from electroforge.errors import InputFileError, ValidationError
from electroforge.model import DEFAULT_PHASES, Microstructure

SUFFIXES = (".tif", ".tiff", ".nc", ".npy")


def _suffix(path: Path) -> str:
    suf = path.suffix.lower()
    if suf not in SUFFIXES:
        raise InputFileError(f"{path}: unsupported file type {suf or '(none)'}; use one of {', '.join(SUFFIXES)}")
    return suf


def read_microstructure(
    path: str | Path,
    voxel_size_m: float | None = None,
    phases: Sequence[str] | None = None,
    label_map: Mapping[int, str] | None = None,
) -> Microstructure:
    """Load a 3D labelled volume. Explicit ``voxel_size_m``/``phases`` override the file's own."""
    path = Path(path)
    suf = _suffix(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    meta: dict = {}
    try:
        if suf in (".tif", ".tiff"):
            arr, meta = _read_tiff(path)
        elif suf == ".nc":
            arr, meta = _read_netcdf(path)
        else:
            arr = _read_npy(path)
    except InputFileError:
        raise
    except Exception as exc:
        raise InputFileError(f"{path}: cannot read as {suf[1:]} ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
    arr = np.asarray(arr)
    if arr.ndim != 3:
        raise InputFileError(f"{path}: not a 3D stack (array shape {arr.shape}); need (nx, ny, nz) with x through the thickness")
    if arr.size == 0:
        raise InputFileError(f"{path}: empty stack (array shape {arr.shape})")
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.bool_)):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(np.mod(arr, 1) == 0):
            arr = arr.astype(np.int64)
        else:
            raise InputFileError(f"{path}: labels must be integers, got dtype {arr.dtype}")
    voxel = voxel_size_m if voxel_size_m is not None else meta.get("voxel_size_m")
    if voxel is None:
        raise InputFileError(f"{path}: voxel size missing; pass it (e.g. --voxel-size 0.4um)")
    file_phases = tuple(meta.get("phases") or ())
    labels, names = _map_labels(path, arr, phases, label_map, file_phases)
    try:
        return Microstructure(labels=labels, voxel_size_m=voxel, phases=names, metadata={"source": str(path)})
    except ValidationError as exc:
        raise InputFileError(f"{path}: {exc}") from None


def _map_labels(path, arr, phases, label_map, file_phases):
    values = [int(v) for v in np.unique(arr)]
    if label_map:
        names = tuple(dict.fromkeys(label_map.values()))
        unknown = [v for v in values if v not in label_map]
        if unknown:
            raise InputFileError(f"{path}: label value(s) {unknown} are not in the label map {dict(label_map)}")
        lut = np.zeros(max(values) + 1, dtype=np.uint8)
        for v, name in label_map.items():
            if 0 <= int(v) < lut.size:
                lut[int(v)] = names.index(name)
        return lut[arr], names
    if phases:
        phases = tuple(phases)
        if values == list(range(len(phases))) or (max(values) < len(phases) and min(values) >= 0):
            return arr.astype(np.uint8), phases
        if len(values) != len(phases):
            raise InputFileError(
                f"{path}: {len(values)} distinct label values {values} cannot map onto {len(phases)} phases {list(phases)}"
            )
        lut = np.zeros(max(values) + 1, dtype=np.uint8)
        for i, v in enumerate(values):
            lut[v] = i
        return lut[arr], phases
    names = file_phases or DEFAULT_PHASES
    if min(values) < 0 or max(values) >= len(names):
        raise InputFileError(
            f"{path}: unexpected label values {values} for phases {list(names)} "
            f"(labels 0..{len(names) - 1}); map them with --phases"
        )
    return arr.astype(np.uint8), tuple(names)


#: Deflate/LZW cannot shrink data by more than ~1000-4000x: a header declaring more than this many
#: bytes per byte of file is corrupt, and reading it would allocate gigabytes for nothing.
MAX_EXPANSION = 4096


def _check_declared_size(path: Path, shape, dtype) -> None:
    """Refuse a header whose declared array cannot come from a file this small (corrupt header)."""
    nbytes = int(np.prod([int(n) for n in shape], dtype=np.float64)) * np.dtype(dtype).itemsize
    size = path.stat().st_size
    if nbytes > MAX_EXPANSION * size + (1 << 20):
        raise InputFileError(
            f"{path}: corrupt header: it declares an array of shape {tuple(int(n) for n in shape)} "
            f"({nbytes / 1e6:.0f} MB) in a file of {size} bytes"
        )


def _read_npy(path: Path):
    with open(path, "rb") as fh:
        version = np.lib.format.read_magic(fh)
        shape, _, dtype = np.lib.format._read_array_header(fh, version)  # type: ignore[attr-defined]
    if dtype.hasobject:
        raise InputFileError(f"{path}: .npy holds Python objects; labels must be an integer array")
    if int(np.prod(shape, dtype=np.float64)) * dtype.itemsize > path.stat().st_size:
        raise InputFileError(f"{path}: truncated .npy: header declares shape {shape} {dtype}, the file is shorter")
    return np.load(path, allow_pickle=False)


def _read_tiff(path: Path):
    import tifffile

    with tifffile.TiffFile(path) as tif:
        if not tif.series:
            raise InputFileError(f"{path}: TIFF holds no image")
        series = tif.series[0]
        _check_declared_size(path, series.shape, series.dtype)
        arr = tif.asarray()
        meta: dict[str, Any] = {}
        desc = tif.pages[0].tags.get("ImageDescription")  # type: ignore[union-attr]
        if desc is not None:
            try:
                parsed = json.loads(desc.value)
                if isinstance(parsed, dict):
                    meta = parsed
            except (ValueError, TypeError):
                pass
        if arr.ndim == 4 and arr.shape[-1] in (3, 4):
            raise InputFileError(f"{path}: RGB stack; labels must be a single-channel integer stack")
    return arr, meta


def _read_netcdf(path: Path):
    import xarray as xr

    with xr.open_dataset(path) as ds:
        if "labels" not in ds:
            raise InputFileError(f"{path}: netCDF file has no 'labels' variable (has {list(ds.data_vars)})")
        _check_declared_size(path, ds["labels"].shape, ds["labels"].dtype)
        arr = ds["labels"].values
        meta: dict[str, Any] = {}
        if "voxel_size_m" in ds.attrs:
            meta["voxel_size_m"] = float(ds.attrs["voxel_size_m"])
        if "phases" in ds.attrs:
            meta["phases"] = [p for p in str(ds.attrs["phases"]).split(",") if p]
    return arr, meta


def write_microstructure(ms: Microstructure, path: str | Path) -> Path:
    """Write to ``.tif``/``.tiff`` (one page per x slice), ``.nc`` or ``.npy`` by suffix."""
    path = Path(path)
    suf = _suffix(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suf in (".tif", ".tiff"):
        import tifffile

        desc = json.dumps({"voxel_size_m": ms.voxel_size_m, "phases": list(ms.phases), "axes": "x,y,z"})
        tifffile.imwrite(path, np.asarray(ms.labels), description=desc, metadata=None, compression="zlib",
                         photometric="minisblack")  # a stack of 2D slices, never RGB(A) planes
    elif suf == ".nc":
        import xarray as xr

        ds = xr.Dataset(
            {"labels": (("x", "y", "z"), np.asarray(ms.labels))},
            attrs={
                "voxel_size_m": ms.voxel_size_m,
                "phases": ",".join(ms.phases),
                "x_axis": "through the electrode thickness (current collector at x=0)",
                **{f"meta_{k}": str(v) for k, v in ms.metadata.items()},
            },
        )
        ds.to_netcdf(path, engine="netcdf4", encoding={"labels": {"zlib": True, "complevel": 4}})
    else:
        np.save(path, np.asarray(ms.labels))
    return path
