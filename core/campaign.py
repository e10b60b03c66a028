"""The closed loop (DESIGN.md section 5): ask -> evaluate -> store -> tell, resumable.

Batch ``b`` holds the evaluations with indices ``[b*q, min((b+1)*q, budget))``. After every
evaluation the campaign file is rewritten atomically. ``resume`` rebuilds a fresh optimizer from the
stored rows of the complete batches (told in index order), asks again for an interrupted batch —
optimizers answer ``ask`` as a pure function of their seed and the observations told, so they
propose the same batch — and evaluates only the designs missing from it. The evaluation seeds depend
on (campaign seed, index) alone. A resumed campaign therefore ends with the same evaluations as an
uninterrupted one.

Crash safety: the store rewrites the file atomically (temp file, fsync, rename) after every
evaluation, so after a kill -9 at any instant the file holds every evaluation finished before the
last rename; a stale ``<name>.tmp`` left by a kill during a write is removed on resume. On Ctrl-C
(KeyboardInterrupt) or any other exception the executor is aborted (workers killed, nothing
waited for) and the exception propagates; the file on disk stays consistent.

Executors (``workers``, ``scheduler``, ``dask_local``; see :mod:`electroforge.executors`) change
where the evaluations run, not what they are.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from electroforge.config import CampaignConfig
from electroforge.errors import ElectroforgeError, InputFileError, PluginError
from electroforge.executors import make_executor
from electroforge.model import Evaluation
from electroforge.registry import get_registry, one_line
from electroforge.store import CampaignStore

MIN_EVALUATIONS_BEFORE_FAILURE_STOP = 6


class CampaignStopped(ElectroforgeError):
    """The campaign stopped early because too many evaluations failed (the message summarises)."""


class Campaign:
    """A closed-loop design campaign writing to one netCDF file.

    ``Campaign(config, "run.nc").run()`` returns every evaluation (stored and new). Use
    ``resume=True`` to continue an interrupted file, ``overwrite=True`` to replace one.
    """

    def __init__(self, config: CampaignConfig, path: str | Path, *, resume: bool = False, overwrite: bool = False,
                 workers: int = 0, registry=None, disable=(), progress: bool = True,
                 on_evaluation: Callable[[Evaluation], None] | None = None, executor=None,
                 scheduler: str | None = None, dask_local: int = 0):
        self.config = config
        self.path = Path(path)
        self.resume = resume
        self.overwrite = overwrite
        self.registry = registry or get_registry(disable=disable)
        self.workers = workers
        self.disable = list(disable)
        self.progress = progress
        self._callback = on_evaluation
        self._executor = executor
        self.scheduler = scheduler
        self.dask_local = dask_local
        self.store: CampaignStore | None = None
        self.stopped_reason = ""

    # ---------------------------------------------------------------- helpers
    def _open_store(self) -> CampaignStore:
        cfg = self.config
        stale = self.path.with_name(self.path.name + ".tmp")
        if stale.exists():  # a kill during a previous write: the real file is intact
            stale.unlink()
        if self.resume and self.path.exists():
            store = CampaignStore.open(self.path)
            if list(store.space.names) != list(cfg.space.names) or store.protocols != list(cfg.protocols):
                raise InputFileError(
                    f"{self.path}: cannot resume: it holds parameters {list(store.space.names)} and protocols "
                    f"{store.protocols}, the config has {list(cfg.space.names)} and {list(cfg.protocols)}"
                )
            return store
        plugins = self.registry.versions()
        return CampaignStore.create(
            self.path, cfg.space, cfg.protocols, config_text=cfg.text, plugins=plugins,
            objective_name=f"{cfg.objective} at {cfg.objective_label}", overwrite=self.overwrite,
            extra_attributes={
                "campaign_name": cfg.name, "seed": cfg.seed, "budget": cfg.budget, "batch_size": cfg.batch,
                "generator": cfg.generator.name, "characterizer": cfg.characterizer.name,
                "cell_simulator": cfg.simulator.name, "optimizer": cfg.optimizer.name,
                "cell_format": cfg.cell_format, "shape": cfg.shape, "n_cubes": cfg.n_cubes,
            },
        )

    def _batch_bounds(self, b: int) -> tuple[int, int]:
        q, budget = self.config.batch, self.config.budget
        return b * q, min((b + 1) * q, budget)

    @staticmethod
    def _tell(optimizer, rows: list[Evaluation]) -> None:
        if not rows:
            return
        rows = sorted(rows, key=lambda e: e.index)
        kwargs: dict[str, Any] = {}
        if any(e.uncertainty > 0 for e in rows):
            # the generator's spread is relative: turn it into an objective variance per row
            kwargs["noise"] = [(e.uncertainty * e.objective) ** 2 if e.ok else 0.0 for e in rows]
        args = ([dict(e.params) for e in rows], [e.objective for e in rows], [not e.ok for e in rows])
        try:
            try:
                optimizer.tell(*args, **kwargs)
            except TypeError:
                if not kwargs:
                    raise
                optimizer.tell(*args)
        except ElectroforgeError:
            raise
        except Exception as exc:
            name = getattr(optimizer, "name", type(optimizer).__name__)
            raise PluginError(f"optimizer {name!r} failed in tell: {one_line(exc)}") from exc

    # ---------------------------------------------------------------- the loop
    def run(self) -> list[Evaluation]:
        cfg = self.config
        self.store = store = self._open_store()
        optimizer = self.registry.create("optimizer", cfg.optimizer.name, space=cfg.space, seed=cfg.seed,
                                         **cfg.optimizer.options)
        done = {e.index: e for e in store.evaluations}
        n_batches = math.ceil(cfg.budget / cfg.batch)
        executor = self._executor or make_executor(cfg, self.workers, self.registry, self.disable,
                                                   scheduler=self.scheduler, dask_local=self.dask_local)
        bar = _Progress(cfg, enabled=self.progress)
        bar.start(done.values())
        aborted = False
        try:
            for b in range(n_batches):
                lo, hi = self._batch_bounds(b)
                have = [done[i] for i in range(lo, hi) if i in done]
                if len(have) == hi - lo:  # a complete stored batch: just tell it
                    self._tell(optimizer, have)
                    continue
                try:
                    proposals = optimizer.ask(hi - lo)
                except ElectroforgeError:
                    raise
                except Exception as exc:
                    raise PluginError(f"optimizer {cfg.optimizer.name!r} failed in ask: {one_line(exc)}") from exc
                if len(proposals) != hi - lo:
                    raise ElectroforgeError(
                        f"optimizer {cfg.optimizer.name!r} returned {len(proposals)} designs for a batch of {hi - lo}"
                    )
                jobs = [(lo + k, {n: float(p[n]) for n in cfg.space.names}, b)
                        for k, p in enumerate(proposals) if lo + k not in done]
                for ev in executor.run(jobs):
                    store.append(ev)
                    done[ev.index] = ev
                    self.registry.notify("on_evaluation", evaluation=ev)
                    if self._callback:
                        self._callback(ev)
                    bar.update(ev)
                self._tell(optimizer, [done[i] for i in range(lo, hi)])
                self._check_failures(done)
        except BaseException:
            aborted = True
            raise
        finally:
            bar.stop()
            if self._executor is None:
                if aborted and hasattr(executor, "abort"):
                    executor.abort()
                else:
                    executor.close()
            self.registry.notify("on_campaign_end", campaign=self)
        return sorted(done.values(), key=lambda e: e.index)

    def _check_failures(self, done: dict[int, Evaluation]) -> None:
        n = len(done)
        failed = [e for e in done.values() if not e.ok]
        if n >= MIN_EVALUATIONS_BEFORE_FAILURE_STOP and len(failed) > self.config.max_failure_fraction * n:
            reasons: dict[str, int] = {}
            for e in failed:
                reasons[e.error] = reasons.get(e.error, 0) + 1
            top = max(reasons, key=reasons.get)
            self.stopped_reason = (
                f"{len(failed)} of {n} evaluations failed (more than max_failure_fraction="
                f"{self.config.max_failure_fraction:g}); most common reason ({reasons[top]}x): {top}. "
                f"Results so far are in {self.path}"
            )
            raise CampaignStopped(self.stopped_reason)


def best_evaluation(evaluations) -> Evaluation | None:
    ok = [e for e in evaluations if e.ok and math.isfinite(e.objective)]
    return max(ok, key=lambda e: e.objective) if ok else None


class _Progress:
    """A rich progress bar: evaluations done, best objective so far, last evaluation's stage times."""

    def __init__(self, config: CampaignConfig, enabled: bool = True):
        self.config = config
        self.enabled = enabled
        self.best = -math.inf
        self.n_failed = 0
        self._progress = None
        self._task = None

    def start(self, existing) -> None:
        existing = list(existing)
        for e in existing:
            self._account(e)
        if not self.enabled:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from rich.console import Console

        console = Console()
        bar = [BarColumn(bar_width=20)] if console.width >= 110 else []
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), *bar, MofNCompleteColumn(), TimeElapsedColumn(),
            TextColumn("{task.fields[status]}"), console=console, transient=False,
        )
        self._progress.start()
        self._task = self._progress.add_task(self.config.name, total=self.config.budget, completed=len(existing),
                                             status=self._status(None))

    def _account(self, ev: Evaluation) -> None:
        if ev.ok and ev.objective > self.best:
            self.best = ev.objective
        if not ev.ok:
            self.n_failed += 1

    def _status(self, ev: Evaluation | None) -> str:
        best = f"best {self.best:.4g}" if math.isfinite(self.best) else "best -"
        parts = [best, f"failed {self.n_failed}"]
        if ev is not None:
            t = ev.timings_s
            stages = " ".join(f"{k[:3]} {t[k]:.1f}s" for k in ("generate", "characterize", "simulate") if k in t)
            parts.append(f"last: {stages}" if stages else "last: -")
        return " | ".join(parts)

    def update(self, ev: Evaluation) -> None:
        self._account(ev)
        if self._progress is not None:
            self._progress.update(self._task, advance=1, status=self._status(ev))

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()


def run_campaign(config: CampaignConfig, path: str | Path, **kwargs) -> list[Evaluation]:
    """Convenience wrapper: ``Campaign(config, path, **kwargs).run()``."""
    return Campaign(config, path, **kwargs).run()


def evaluate(params, config: CampaignConfig | str = "case-study-2", registry=None) -> Evaluation:
    """Evaluate one design outside a campaign (Python API): ``electroforge.evaluate({...})``."""
    from electroforge.config import load_config
    from electroforge.pipeline import Components, evaluate_design

    if isinstance(config, str):
        config = load_config(config)
    components = Components.from_config(config, registry)
    return evaluate_design({n: float(v) for n, v in params.items()}, components, config)
