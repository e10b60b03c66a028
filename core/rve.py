"""Representativity (RVE) analysis over any characterizer: how big a cube, and how many of them?

For each cube edge (e.g. 32, 48, 64, 96, 128 voxels) the volume is cut into disjoint sub-cubes on a
regular grid; up to ``count`` of them, picked at random, are characterised. Per edge and per metric
we report the mean, the sample standard deviation and the 95 % confidence interval of the mean
(Student t). The small-cube bias of the tortuosity factor is its mean at an edge relative to the mean
at the largest edge. The recommendation is the cheapest (edge, count) — count × measured seconds per
cube, in CPU seconds of this process so that other jobs on a shared machine do not distort it —
whose 95 % CI half-width is within ``target_ci`` × mean for every ``target_metrics`` entry,
among the edges without a significant tortuosity bias: an edge is excluded when its bias exceeds
``target_ci`` *and* the 95 % CI of the difference of the two means (a single reference cube counts
as exact). A bias above the target that the data cannot resolve does not exclude the edge but is
reported in ``warnings``. The largest edge is the reference and qualifies whenever it has two or
more cubes.

Sub-cubes are disjoint so that they are (nearly) independent samples: overlapping crops would be
correlated and understate the CI. An edge therefore gets at most as many cubes as fit in the volume;
an edge with a single cube gets a mean but no CI. Cubes whose metrics say "does not percolate"
(infinite tortuosity, zero conductivity) are counted as failed and left out of the statistics.
"""
from __future__ import annotations

import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable, Iterable, Mapping, Sequence

import attrs
import numpy as np

from electroforge.errors import ValidationError
from electroforge.model import Metrics, Microstructure

DEFAULT_SIZES: tuple[int, ...] = (32, 48, 64, 96, 128)
DEFAULT_TARGET_METRICS: tuple[str, ...] = (
    "tortuosity_factor",
    "effective_conductivity_S_per_m",
    "specific_surface_area_per_m",
)
TAU = "tortuosity_factor"


def metric_values(metrics: Metrics) -> dict[str, float]:
    """Flatten a :class:`Metrics` into named scalars (volume fractions as ``volume_fraction_<phase>``)."""
    out = {f"volume_fraction_{k}": float(v) for k, v in metrics.volume_fractions.items()}
    out.update({
        "specific_surface_area_per_m": float(metrics.specific_surface_area_per_m),
        "binder_coverage": float(metrics.binder_coverage),
        "tortuosity_factor": float(metrics.tortuosity_factor),
        "effective_diffusivity_ratio": float(metrics.effective_diffusivity_ratio),
        "effective_conductivity_S_per_m": float(metrics.effective_conductivity_S_per_m),
    })
    return out


@attrs.frozen
class MetricStats:
    """Statistics of one metric over the cubes of one edge length."""

    mean: float
    std: float
    """Sample standard deviation (ddof=1); NaN with fewer than two cubes."""
    ci95: float
    """Half-width of the 95 % confidence interval of the mean (Student t); inf with fewer than two cubes."""

    @property
    def relative_ci95(self) -> float:
        return self.ci95 / abs(self.mean) if self.mean else math.inf

    def cubes_needed(self, target: float) -> int | None:
        """Smallest count whose 95 % CI half-width is <= target × |mean| (None if unknown)."""
        if not (math.isfinite(self.std) and self.mean):
            return None
        if self.std == 0:
            return 2
        from scipy.stats import t

        goal = target * abs(self.mean)
        n = max(2, math.ceil((1.96 * self.std / goal) ** 2))
        while t.ppf(0.975, n - 1) * self.std / math.sqrt(n) > goal and n < 10**7:
            n += 1
        return n


@attrs.frozen
class SizeResult:
    """All cubes of one edge length."""

    edge_vox: int
    count: int
    """Cubes characterised (ok + failed)."""
    available: int
    """Disjoint cubes of this edge that fit in the volume."""
    failed: int
    seconds_per_cube: float
    """CPU seconds of this process per cube (all its threads): the compute cost, insensitive to other
    jobs on a shared machine (wall-clock time is not); ~ wall time for a one-thread characterizer."""
    stats: Mapping[str, MetricStats]
    samples: Mapping[str, tuple[float, ...]] = attrs.field(repr=False)
    wall_seconds_per_cube: float = math.nan
    """Wall-clock seconds per cube (inflated by other jobs on a shared machine)."""

    @property
    def ok(self) -> int:
        return self.count - self.failed


@attrs.frozen
class Recommendation:
    edge_vox: int
    count: int
    seconds: float
    """Estimated compute time of ``count`` cubes of this edge (count × measured seconds per cube)."""


@attrs.frozen
class RVEResult:
    """The outcome of :func:`analyse`."""

    sizes: tuple[SizeResult, ...]
    target_ci: float
    target_metrics: tuple[str, ...]
    voxel_size_m: float
    characterizer: str
    recommendation: Recommendation | None
    note: str = ""
    """Why there is no recommendation, if there is none."""
    warnings: tuple[str, ...] = ()
    """Caveats on the recommendation (e.g. a tortuosity bias larger than the target but within the noise)."""

    def tortuosity_bias(self) -> dict[int, float]:
        """Edge -> (mean tau at edge) / (mean tau at the largest edge) - 1 (NaN where unknown)."""
        ref = self.sizes[-1].stats.get(TAU) if self.sizes else None
        out = {}
        for s in self.sizes:
            st = s.stats.get(TAU)
            if ref is None or st is None or not (math.isfinite(ref.mean) and ref.mean > 0 and math.isfinite(st.mean)):
                out[s.edge_vox] = math.nan
            else:
                out[s.edge_vox] = st.mean / ref.mean - 1.0
        return out

    def to_dict(self) -> dict:
        bias = self.tortuosity_bias()
        return {
            "characterizer": self.characterizer,
            "voxel_size_m": self.voxel_size_m,
            "target_ci": self.target_ci,
            "target_metrics": list(self.target_metrics),
            "sizes": [
                {
                    "edge_vox": s.edge_vox,
                    "edge_m": s.edge_vox * self.voxel_size_m,
                    "count": s.count,
                    "available": s.available,
                    "failed": s.failed,
                    "seconds_per_cube": s.seconds_per_cube,
                    "wall_seconds_per_cube": s.wall_seconds_per_cube,
                    "tortuosity_bias": bias.get(s.edge_vox, math.nan),
                    "metrics": {
                        k: {"mean": v.mean, "std": v.std, "ci95": v.ci95, "relative_ci95": v.relative_ci95,
                            "cubes_needed": v.cubes_needed(self.target_ci)}
                        for k, v in s.stats.items()
                    },
                }
                for s in self.sizes
            ],
            "recommendation": None if self.recommendation is None else attrs.asdict(self.recommendation),
            "note": self.note,
            "warnings": list(self.warnings),
        }


def _stats(values: Sequence[float] | np.ndarray) -> MetricStats:
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return MetricStats(math.nan, math.nan, math.inf)
    mean = float(arr.mean())
    if arr.size < 2:
        return MetricStats(mean, math.nan, math.inf)
    from scipy.stats import t

    std = float(arr.std(ddof=1))
    return MetricStats(mean, std, float(t.ppf(0.975, arr.size - 1) * std / math.sqrt(arr.size)))


def cube_origins(shape: Sequence[int], edge: int) -> list[tuple[int, int, int]]:
    """Corners of the disjoint ``edge``³ cubes tiling ``shape`` (centred: the leftover is split)."""
    axes = []
    for n in shape:
        k = n // edge
        off = (n - k * edge) // 2
        axes.append([off + i * edge for i in range(k)])
    return [(a, b, c) for a in axes[0] for b in axes[1] for c in axes[2]]


def analyse(
    microstructure: Microstructure,
    characterize: Callable[[Microstructure], Metrics],
    sizes: Iterable[int] = DEFAULT_SIZES,
    count: int = 8,
    target_ci: float = 0.01,
    target_metrics: Sequence[str] = DEFAULT_TARGET_METRICS,
    seed: int = 0,
    characterizer_name: str = "",
    progress: Callable[[int, int, int], None] | None = None,
    warmup: bool = True,
) -> RVEResult:
    """Characterise up to ``count`` disjoint sub-cubes per edge in ``sizes`` and summarise (see module doc).

    ``progress(edge, i, n)`` is called before each cube if given. With ``warmup`` one extra, untimed
    cube of the smallest edge is characterised first so that one-off costs do not bias the timings.
    """
    if not (isinstance(count, int) and count >= 1):
        raise ValidationError(f"rve: count={count!r} must be an integer >= 1")
    if not (0 < target_ci < 1):
        raise ValidationError(f"rve: target_ci={target_ci!r} must lie in (0, 1), e.g. 0.01 for 1 %")
    shape = microstructure.shape
    requested = sorted({int(s) for s in sizes})
    if not requested or requested[0] < 4:
        raise ValidationError(f"rve: sizes {requested} must be cube edges of at least 4 voxels")
    usable = [s for s in requested if s <= min(shape)]
    if not usable:
        raise ValidationError(
            f"rve: no cube edge in {requested} fits in the {'x'.join(map(str, shape))} volume; "
            f"use edges <= {min(shape)}"
        )
    rng = np.random.default_rng(seed)
    if warmup:  # pay one-off costs (imports, allocator, JIT) outside the timings
        characterize(microstructure.crop((0, 0, 0), (usable[0],) * 3))
    results = []
    for edge in usable:
        origins = cube_origins(shape, edge)
        pick = rng.choice(len(origins), size=min(count, len(origins)), replace=False)
        samples: dict[str, list[float]] = {}
        failed, seconds, wall = 0, 0.0, 0.0
        for i, j in enumerate(sorted(pick)):
            if progress is not None:
                progress(edge, i, len(pick))
            cube = microstructure.crop(origins[j], (edge, edge, edge))
            t0, c0 = time.perf_counter(), time.process_time()
            m = characterize(cube)
            seconds += time.process_time() - c0
            wall += time.perf_counter() - t0
            if not m.percolating:
                failed += 1
                continue
            for k, v in metric_values(m).items():
                samples.setdefault(k, []).append(v)
        results.append(SizeResult(
            edge_vox=edge,
            count=len(pick),
            available=len(origins),
            failed=failed,
            seconds_per_cube=seconds / len(pick),
            wall_seconds_per_cube=wall / len(pick),
            stats={k: _stats(v) for k, v in samples.items()},
            samples={k: tuple(v) for k, v in samples.items()},
        ))
    return _recommend(tuple(results), target_ci, tuple(target_metrics), microstructure.voxel_size_m, characterizer_name)


def _combined_rel_ci(size: SizeResult, ref: SizeResult) -> float:
    """Relative 95 % CI of the difference of the two tortuosity means (inf if either is unknown)."""
    if size is ref:
        return math.inf
    a, b = size.stats.get(TAU), ref.stats.get(TAU)
    if a is None or b is None or not math.isfinite(a.relative_ci95):
        return math.inf
    ref_ci = b.relative_ci95 if math.isfinite(b.relative_ci95) else 0.0  # a single reference cube: its own noise is unknown
    return math.hypot(a.relative_ci95, ref_ci)


def _recommend(sizes, target_ci, target_metrics, voxel, name) -> RVEResult:
    partial = RVEResult(sizes, target_ci, target_metrics, voxel, name, None)
    bias = partial.tortuosity_bias()
    best, reasons = None, []
    for s in sizes:
        if s.ok < 2:
            reasons.append(f"{s.edge_vox}: {s.ok} usable cube(s), no CI")
            continue
        b = bias.get(s.edge_vox, math.nan)
        if math.isnan(b):
            reasons.append(f"{s.edge_vox}: no tortuosity")
            continue
        if abs(b) > target_ci and abs(b) > _combined_rel_ci(s, sizes[-1]):
            reasons.append(f"{s.edge_vox}: significant tortuosity bias {b:+.2%}")
            continue
        needed = []
        for k in target_metrics:
            if k not in s.stats:
                raise ValidationError(f"rve: unknown metric {k!r}; known: {', '.join(sorted(s.stats))}")
            needed.append(s.stats[k].cubes_needed(target_ci))
        if any(n is None for n in needed):
            reasons.append(f"{s.edge_vox}: undefined statistics")
            continue
        n = max(needed)
        cost = n * s.seconds_per_cube
        if best is None or cost < best.seconds:
            best = Recommendation(s.edge_vox, n, cost)
    note = "" if best is not None else "no edge qualifies (" + "; ".join(reasons) + "); use a larger volume"
    warnings = []
    if best is not None:
        b = bias.get(best.edge_vox, math.nan)
        if abs(b) > target_ci:
            warnings.append(
                f"the tortuosity bias at {best.edge_vox}³ ({b:+.2%} vs the largest edge) exceeds the target "
                f"but is within the noise of the cubes measured; confirm it with more or larger cubes"
            )
    return attrs.evolve(partial, recommendation=best, note=note, warnings=tuple(warnings))


# ---------------------------------------------------------------------------- representativity in the loop
#: Metrics whose relative 95 % CI an evaluation records as ``<metric>_ci95``.
CI_METRICS: tuple[str, ...] = (*Metrics.SCALARS, "effective_diffusivity_ratio")
MIN_CUBES_FOR_CI = 3
"""Cubes characterised before a CI may stop the sampling (two give a CI, but a very unreliable one)."""


def relative_ci95(values: Sequence[float] | np.ndarray) -> float:
    """Half-width of the 95 % confidence interval of the mean (Student t) relative to |mean|.

    ``inf`` with fewer than two values, a zero mean or a non-finite value; 0 for identical values.
    """
    arr = np.asarray(values, dtype=float)
    if arr.size < 2 or not np.all(np.isfinite(arr)):
        return math.inf
    st = _stats(arr)
    return st.relative_ci95


def relative_standard_error(values: Sequence[float] | np.ndarray) -> float:
    """Standard error of the mean relative to |mean| (the CI half-width / t quantile); inf if unknown."""
    arr = np.asarray(values, dtype=float)
    ci = relative_ci95(arr)
    if not math.isfinite(ci):
        return math.inf
    from scipy.stats import t

    return ci / float(t.ppf(0.975, arr.size - 1))


def check_target(target_ci: float | None, max_cubes: int) -> None:
    """One-line errors for a bad ``target_ci`` (0 or None = off, else in (0, 1)) or ``max_cubes`` (>= 1)."""
    if target_ci is not None and (isinstance(target_ci, bool) or not isinstance(target_ci, (int, float))
                                  or not 0 <= target_ci < 1 or math.isnan(target_ci)):
        raise ValidationError(f"target_ci={target_ci!r}: must be a relative 95 % CI half-width in (0, 1), "
                              "e.g. 0.01 for 1 % (0 = off)")
    if isinstance(max_cubes, bool) or not isinstance(max_cubes, int) or not 1 <= max_cubes <= 1024:
        raise ValidationError(f"max_cubes={max_cubes!r}: must be a whole number of cubes in 1..1024")


@attrs.frozen
class CubeSampling:
    """Cubes characterised for one design by :func:`characterize_to_target`."""

    metrics: tuple[Metrics, ...]
    first: Microstructure | None
    """The first cube (its metadata feeds the cell stage)."""
    stopped: str
    """``"target"`` (CI reached), ``"max_cubes"``, ``"n_cubes"`` (fixed count), ``"failed"`` (a cube does not percolate)."""

    @property
    def n_cubes(self) -> int:
        return len(self.metrics)

    def ci_extras(self) -> dict[str, float]:
        """``n_cubes`` and ``<metric>_ci95`` (relative; NaN with one cube) for the extras of the combined metrics."""
        out: dict[str, float] = {"n_cubes": float(self.n_cubes)}
        for name in CI_METRICS:
            vals = [metric_values(m)[name] for m in self.metrics]
            ci = relative_ci95(vals)
            out[f"{name}_ci95"] = ci if math.isfinite(ci) else math.nan
        return out

    def tortuosity_relative_standard_error(self) -> float:
        """Relative standard error of the mean tortuosity factor (0 with one cube: unknown, no noise told)."""
        se = relative_standard_error([m.tortuosity_factor for m in self.metrics])
        return se if math.isfinite(se) else 0.0


class _OwnCpuRate:
    """This process's CPU use in cores, averaged like the kernel's 1-minute load average.

    The load average counts this process's own threads too: a campaign that prefetched cubes for
    one evaluation (two busy cores) would otherwise read its own load as a busy machine and stop
    prefetching for the next ones (measured: 72 s for a 40-cube evaluation with prefetch, then
    109 s for 27 cubes without). Sampled on each call (at least 5 s apart), with the load
    average's 60 s time constant.
    """

    def __init__(self) -> None:
        self._wall = time.monotonic()
        self._cpu = time.process_time()
        self.rate = 0.0

    def update(self) -> float:
        wall, cpu = time.monotonic(), time.process_time()
        dt = wall - self._wall
        if dt >= 5.0:
            weight = 1.0 - math.exp(-dt / 60.0)
            self.rate += weight * ((cpu - self._cpu) / dt - self.rate)
            self._wall, self._cpu = wall, cpu
        return self.rate


_OWN_CPU = _OwnCpuRate()


def spare_core() -> bool:
    """True when other processes leave at least one core idle beyond the one this process uses.

    Other processes' load = the 1-minute load average minus this process's own CPU rate
    (:class:`_OwnCpuRate`); a core is spare when that is below ``cores - 1.5`` (on 2 cores: the
    others use less than half a core). Prefetching the next cube pays only then: measured at 128³
    (procedural + taufactor, 2 threads, 2 cores), 1.78 s per cube with prefetch against 3.16 s
    without on an idle machine, but 3.3 s against 2.9 s while another process held a core."""
    try:
        load = os.getloadavg()[0]
    except OSError:  # pragma: no cover - no load average on this platform
        return False
    others = max(0.0, load - _OWN_CPU.update())
    return others < (os.cpu_count() or 1) - 1.5


def characterize_to_target(
    make_cube: Callable[[int], Microstructure],
    characterize: Callable[[Microstructure], Metrics],
    n_cubes: int = 1,
    target_ci: float | None = None,
    max_cubes: int = 16,
    metric: str = TAU,
    on_stage: Callable[[str, float], None] | None = None,
    prefetch: bool | None = None,
) -> CubeSampling:
    """Characterise independent cubes of one design until the mean of ``metric`` is known well enough.

    ``make_cube(k)`` returns cube ``k`` (independent realisations: different generator seeds).
    Without ``target_ci`` (None or 0) exactly ``n_cubes`` cubes are characterised. With it, at least
    ``max(n_cubes, MIN_CUBES_FOR_CI)`` (capped by ``max_cubes``) and then one more at a time until the
    relative 95 % CI half-width of the mean ``metric`` (Student t) is <= ``target_ci`` or
    ``max_cubes`` cubes are done. A cube that does not percolate stops the sampling (the design
    fails). ``on_stage(stage, seconds)`` is called after each generate / characterize call, so a
    caller can account time per stage (``prefetch``: None = when a core is free, see
    :func:`spare_core`; with it the next cube's generation overlaps the
    current one's characterisation, so the stage seconds overlap in wall time); exceptions
    propagate with ``.stage`` set to ``"generate"`` or ``"characterize"``; an error in a
    prefetched cube that is never needed is dropped.
    """
    check_target(target_ci, max_cubes)
    adaptive = bool(target_ci)
    first_batch = min(max(n_cubes, MIN_CUBES_FOR_CI), max_cubes) if adaptive else n_cubes

    def timed(stage, fn, arg):
        t0 = time.perf_counter()
        try:
            return fn(arg)
        except Exception as exc:
            exc.stage = stage
            raise
        finally:
            if on_stage is not None:
                on_stage(stage, time.perf_counter() - t0)

    results: list[Metrics] = []
    first = None
    stopped = "n_cubes"
    k = 0
    # While cube k is characterised, cube k+1 is generated in a background thread (numpy, scipy
    # and torch release the GIL): on two cores the sampling costs ~max(generate, characterize)
    # per cube instead of their sum. Cube k is make_cube(k) either way, so results do not change;
    # at most one prefetched cube is discarded when the sampling stops.
    limit = max_cubes if adaptive else n_cubes
    if prefetch is None:
        prefetch = spare_core()
    pool = ThreadPoolExecutor(max_workers=1) if (prefetch and limit > 1) else None
    pending = None
    try:
        while True:
            if pending is not None:
                ms = pending.result()
                pending = None
            else:
                ms = timed("generate", make_cube, k)
            if pool is not None and k + 1 < limit:
                pending = pool.submit(timed, "generate", make_cube, k + 1)
            m = timed("characterize", characterize, ms)
            first = first if first is not None else ms
            results.append(m)
            k += 1
            if not m.percolating:
                stopped = "failed"
                break
            if k < first_batch:
                continue
            if not adaptive:
                break
            values = [getattr(m, metric) if hasattr(m, metric) else metric_values(m)[metric] for m in results]
            if target_ci is not None and relative_ci95(values) <= target_ci:
                stopped = "target"
                break
            if k >= max_cubes:
                stopped = "max_cubes"
                break
    finally:
        if pool is not None:
            if pending is not None:
                pending.cancel()
            pool.shutdown(wait=True)
    return CubeSampling(tuple(results), first, stopped)
