"""Campaign files: one netCDF4 file per campaign, one row per evaluation (docs/campaigns.md).

Layout (readable with ``xarray.open_dataset``):

* dimension ``evaluation`` (one row per evaluation, in evaluation-index order) and ``protocol``
  (the campaign's protocol labels, e.g. ``"10W"``);
* **one variable per design parameter, named by the parameter** (contract);
* ``objective``, ``status`` (``ok``/``failed``), ``error``, ``seed``, ``batch``, ``uncertainty``;
* metrics: ``vf_<phase>``, ``specific_surface_area_per_m``, ``binder_coverage``,
  ``tortuosity_factor``, ``effective_conductivity_S_per_m``, ``effective_diffusivity_ratio``,
  extras as ``metric_<name>``, except the representativity of the evaluation: ``n_cubes`` (cubes
  characterised) and ``<metric>_ci95`` (relative 95 % CI half-width of the mean over those cubes, NaN
  with one cube), e.g. ``tortuosity_factor_ci95`` (files from before have neither: read as absent);
* performance per protocol, dims ``(evaluation, protocol)``: every :attr:`Performance.SCALARS`
  field, plus extras as ``perf_<name>``;
* stage timings ``time_<stage>_s``;
* global attributes: ``config`` (the TOML text), ``plugins`` (JSON name -> version),
  ``electroforge_version``, ``objective_name``, ``parameters`` (JSON bounds), ``created``; a
  campaign adds ``objective`` (the Performance field) and ``objective_protocol`` (its protocol label).

Crash safety: every append rewrites the whole file to ``<name>.tmp``, fsyncs it and renames it
over the old one (atomic on POSIX), so a kill at any instant leaves either the previous or the
new complete file, never a torn one.
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from electroforge._version import __version__
from electroforge.design import DesignSpace, Parameter
from electroforge.errors import InputFileError
from electroforge.model import STATUS_FAILED, Evaluation, Metrics, Performance

METRIC_FIELDS = (*Metrics.SCALARS, "effective_diffusivity_ratio")
RESERVED = {"objective", "status", "error", "seed", "batch", "uncertainty", "evaluation", "protocol",
            *METRIC_FIELDS, *Performance.SCALARS}


class CampaignStore:
    """Append-only campaign file. ``evaluations`` holds every stored row as :class:`Evaluation`."""

    def __init__(self, path: str | Path, space: DesignSpace, protocols: Sequence[str],
                 attributes: Mapping[str, Any] | None = None, evaluations: Sequence[Evaluation] = ()):
        self.path = Path(path)
        self.space = space
        self.protocols = list(protocols)
        self.attributes = dict(attributes or {})
        self.evaluations: list[Evaluation] = list(evaluations)
        clash = RESERVED.intersection(space.names)
        if clash:
            raise InputFileError(f"design parameter name(s) {sorted(clash)} clash with campaign-file variables")

    # ---------------------------------------------------------------- creating / opening
    @classmethod
    def create(cls, path: str | Path, space: DesignSpace, protocols: Sequence[str], *, config_text: str = "",
               plugins: Mapping[str, str] | None = None, objective_name: str = "objective",
               overwrite: bool = False, extra_attributes: Mapping[str, Any] | None = None) -> CampaignStore:
        path = Path(path)
        if path.exists() and not overwrite:
            raise InputFileError(f"{path}: campaign file exists; use --resume to continue it or --overwrite to replace it")
        attributes = {
            "config": config_text,
            "plugins": json.dumps(dict(plugins or {}), sort_keys=True),
            "electroforge_version": __version__,
            "objective_name": objective_name,
            "parameters": json.dumps(
                [{"name": p.name, "lower": p.lower, "upper": p.upper, "stage": p.stage, "unit": p.unit}
                 for p in space.parameters]
            ),
            "protocols": json.dumps(list(protocols)),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            **dict(extra_attributes or {}),
        }
        store = cls(path, space, protocols, attributes)
        store.flush()
        return store

    @property
    def objective_protocol(self) -> str:
        """The protocol label whose performance is the objective (``"10W"``): the
        ``objective_protocol`` attribute, or for files written before it existed the part of
        ``objective_name`` after `` at ``, else the first protocol."""
        label = self.attributes.get("objective_protocol")
        if label:
            return str(label)
        name = str(self.attributes.get("objective_name", ""))
        if " at " in name:
            return name.rsplit(" at ", 1)[-1]
        return self.protocols[0] if self.protocols else ""

    @classmethod
    def open(cls, path: str | Path) -> CampaignStore:
        """Read a campaign file back (for ``--resume`` and ``report``)."""
        import xarray as xr

        path = Path(path)
        if not path.is_file():
            raise InputFileError(f"{path}: no such campaign file")
        try:
            with xr.open_dataset(path, engine="netcdf4") as ds:
                ds = ds.load()
        except Exception as exc:
            raise InputFileError(f"{path}: not a readable campaign file ({type(exc).__name__})") from None
        try:
            params = json.loads(ds.attrs["parameters"])
            protocols = json.loads(ds.attrs.get("protocols", "[]"))
        except (KeyError, ValueError):
            raise InputFileError(f"{path}: not an electroforge campaign file (no 'parameters' attribute)") from None
        space = DesignSpace(tuple(Parameter(**p) for p in params))
        return cls(path, space, protocols, dict(ds.attrs), _rows_from_dataset(ds, space, protocols))

    # ---------------------------------------------------------------- writing
    def append(self, evaluation: Evaluation) -> None:
        """Add a row (kept in evaluation-index order, whatever order evaluations finish in)."""
        self.evaluations.append(evaluation)
        self.evaluations.sort(key=lambda e: e.index)
        self.flush()

    def flush(self) -> None:
        """Atomically rewrite the file with every row (write temp, fsync, rename)."""
        ds = self.to_dataset()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        ds.to_netcdf(tmp, engine="netcdf4")
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        try:
            dfd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass

    def to_dataset(self):
        import xarray as xr

        evs = self.evaluations
        n, nprot = len(evs), len(self.protocols)
        data: dict[str, Any] = {}
        for name in self.space.names:
            data[name] = ("evaluation", np.array([e.params.get(name, np.nan) for e in evs], dtype=float))
        data["objective"] = ("evaluation", np.array([e.objective for e in evs], dtype=float))
        data["status"] = ("evaluation", np.array([e.status for e in evs], dtype=object))
        data["error"] = ("evaluation", np.array([e.error for e in evs], dtype=object))
        data["seed"] = ("evaluation", np.array([e.seed for e in evs], dtype=np.int64))
        data["batch"] = ("evaluation", np.array([e.batch for e in evs], dtype=np.int64))
        data["index"] = ("evaluation", np.array([e.index for e in evs], dtype=np.int64))
        data["uncertainty"] = ("evaluation", np.array([e.uncertainty for e in evs], dtype=float))

        phases = sorted({p for e in evs if e.metrics for p in e.metrics.volume_fractions})
        for ph in phases:
            data[f"vf_{ph}"] = ("evaluation", _col(evs, lambda e, ph=ph: e.metrics.volume_fractions.get(ph, np.nan)))
        if any(e.metrics for e in evs):
            for f in METRIC_FIELDS:
                data[f] = ("evaluation", _col(evs, lambda e, f=f: getattr(e.metrics, f)))
        for key in sorted({k for e in evs if e.metrics for k in e.metrics.extras}):
            name = key if _is_sampling_key(key) else f"metric_{key}"
            data[name] = ("evaluation", _col(evs, lambda e, key=key: e.metrics.extras.get(key, np.nan)))

        if nprot:
            for f in Performance.SCALARS:
                arr = np.full((n, nprot), np.nan)
                for i, e in enumerate(evs):
                    for j, lab in enumerate(self.protocols):
                        if lab in e.performances:
                            arr[i, j] = getattr(e.performances[lab], f)
                data[f] = (("evaluation", "protocol"), arr)
            for key in sorted({k for e in evs for p in e.performances.values() for k in p.extras}):
                arr = np.full((n, nprot), np.nan)
                for i, e in enumerate(evs):
                    for j, lab in enumerate(self.protocols):
                        if lab in e.performances:
                            arr[i, j] = e.performances[lab].extras.get(key, np.nan)
                data[f"perf_{key}"] = (("evaluation", "protocol"), arr)

        for stage in sorted({s for e in evs for s in e.timings_s}):
            data[f"time_{stage}_s"] = ("evaluation", np.array([e.timings_s.get(stage, np.nan) for e in evs]))

        coords = {"evaluation": np.arange(n, dtype=np.int64)}
        if nprot:
            coords["protocol"] = np.array(self.protocols, dtype=object)
        ds = xr.Dataset(data, coords=coords, attrs=self.attributes)
        ds.attrs["n_evaluations"] = n
        return ds


def _is_sampling_key(key: str) -> bool:
    """``n_cubes`` and ``<metric>_ci95``: stored under their own names, not as ``metric_<name>``."""
    return key == "n_cubes" or key.endswith("_ci95")


def _col(evs, getter) -> np.ndarray:
    out = np.full(len(evs), np.nan)
    for i, e in enumerate(evs):
        if e.metrics is not None:
            out[i] = float(getter(e))
    return out


def _rows_from_dataset(ds, space: DesignSpace, protocols: Sequence[str]) -> list[Evaluation]:
    rows = []
    n = ds.sizes.get("evaluation", 0)
    phases = [v[3:] for v in ds.data_vars if v.startswith("vf_")]
    for i in range(n):
        r = ds.isel(evaluation=i)
        metrics = None
        if phases and "tortuosity_factor" in ds and not math.isnan(float(r["tortuosity_factor"])):
            vf = {p: float(r[f"vf_{p}"]) for p in phases if not math.isnan(float(r[f"vf_{p}"]))}
            extras = {v[7:]: float(r[v]) for v in ds.data_vars if v.startswith("metric_") and not math.isnan(float(r[v]))}
            extras.update({v: float(r[v]) for v in ds.data_vars if _is_sampling_key(v) and ds[v].dims == ("evaluation",)
                           and not math.isnan(float(r[v]))})
            metrics = Metrics(
                volume_fractions=vf,
                specific_surface_area_per_m=float(r["specific_surface_area_per_m"]),
                binder_coverage=float(r["binder_coverage"]),
                tortuosity_factor=float(r["tortuosity_factor"]),
                effective_conductivity_S_per_m=float(r["effective_conductivity_S_per_m"]),
                extras=extras,
            )
        perfs = {}
        for j, lab in enumerate(protocols):
            if "energy_Wh" not in ds:
                break
            vals = {f: float(ds[f].values[i, j]) for f in Performance.SCALARS}
            if math.isnan(vals["energy_Wh"]):
                continue
            extras = {v[5:]: float(ds[v].values[i, j]) for v in ds.data_vars if v.startswith("perf_")}
            perfs[lab] = Performance(**vals, extras={k: x for k, x in extras.items() if not math.isnan(x)})
        timings = {v[5:-2]: float(r[v]) for v in ds.data_vars if v.startswith("time_") and v.endswith("_s")
                   and not math.isnan(float(r[v]))}
        rows.append(
            Evaluation(
                index=int(r["index"]) if "index" in ds else i,
                params={name: float(r[name]) for name in space.names},
                objective=float(r["objective"]),
                status=str(r["status"].values) if str(r["status"].values) else STATUS_FAILED,
                metrics=metrics,
                performances=perfs,
                error=str(r["error"].values) if "error" in ds else "",
                timings_s=timings,
                seed=int(r["seed"]),
                batch=int(r["batch"]),
                uncertainty=float(r["uncertainty"]) if "uncertainty" in ds else 0.0,
            )
        )
    return rows
