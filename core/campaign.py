"""The closed loop (docs/campaigns.md): ask -> evaluate -> store -> tell, resumable.

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

No display here: a caller observes the loop through ``progress`` (a :class:`CampaignProgress`,
e.g. the command line's bar in :mod:`electroforge.cli.progress`) and ``on_evaluation``; plugins
through the ``on_evaluation`` and ``on_campaign_end`` hooks, the latter receiving a frozen
:class:`CampaignSummary`.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

import attrs

from electroforge.components import Optimizer, accepts_noise
from electroforge.config import CampaignConfig
from electroforge.errors import ElectroforgeError, InputFileError, PluginError
from electroforge.executors import make_executor
from electroforge.model import Evaluation
from electroforge.registry import get_registry, one_line
from electroforge.store import CampaignStore

MIN_EVALUATIONS_BEFORE_FAILURE_STOP = 6


class CampaignStopped(ElectroforgeError):
    """The campaign stopped early because too many evaluations failed (the message summarises)."""


class CampaignProgress(Protocol):
    """What observes a running campaign for display (the CLI's progress bar is one)."""

    def start(self, existing: Iterable[Evaluation]) -> None:
        """Called once before the loop with the evaluations already stored (a resume)."""

    def update(self, evaluation: Evaluation) -> None:
        """Called after each new evaluation is stored."""

    def stop(self) -> None:
        """Called once when the loop ends, however it ends."""


#: How a campaign ended, in :attr:`CampaignSummary.status`.
FINISHED, STOPPED, INTERRUPTED = "finished", "stopped", "interrupted"


@attrs.frozen
class CampaignSummary:
    """What ``on_campaign_end`` receives: the end state of a campaign, frozen (nothing a plugin
    does with it can change the campaign)."""

    name: str
    path: str
    """The campaign file."""
    config: CampaignConfig
    status: str
    """``"finished"``, ``"stopped"`` (too many failures, see ``stopped_reason``) or
    ``"interrupted"`` (Ctrl-C or an error; the file holds what was done)."""
    evaluations: tuple[Evaluation, ...]
    """Every evaluation, stored and new, in index order."""
    stopped_reason: str = ""
    error: str = ""
    """One line naming the exception when ``status == "interrupted"``."""

    @property
    def n_evaluations(self) -> int:
        return len(self.evaluations)

    @property
    def n_failed(self) -> int:
        return sum(not e.ok for e in self.evaluations)

    @property
    def best(self) -> Evaluation | None:
        return best_evaluation(self.evaluations)


class Campaign:
    """A closed-loop design campaign writing to one netCDF file.

    ``Campaign(config, "run.nc").run()`` returns every evaluation (stored and new). Use
    ``resume=True`` to continue an interrupted file, ``overwrite=True`` to replace one.
    ``progress`` observes the loop (a :class:`CampaignProgress`); ``True`` is a shortcut for the
    command line's rich bar, ``None``/``False`` shows nothing.
    """

    def __init__(
        self,
        config: CampaignConfig,
        path: str | Path,
        *,
        resume: bool = False,
        overwrite: bool = False,
        workers: int = 0,
        registry=None,
        disable=(),
        progress: CampaignProgress | bool | None = None,
        on_evaluation: Callable[[Evaluation], None] | None = None,
        executor=None,
        scheduler: str | None = None,
        dask_local: int = 0,
    ):
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
        self.summary: CampaignSummary | None = None
        """The frozen end state, set when :meth:`run` returns or raises."""
        self._warned_noise = False

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
            self.path,
            cfg.space,
            cfg.protocols,
            config_text=cfg.to_toml(),
            plugins=plugins,
            objective_name=f"{cfg.objective} at {cfg.objective_label}",
            overwrite=self.overwrite,
            extra_attributes={
                "objective": cfg.objective,
                "objective_protocol": cfg.objective_label,
                "campaign_name": cfg.name,
                "seed": cfg.seed,
                "budget": cfg.budget,
                "batch_size": cfg.batch,
                "generator": cfg.generator.name,
                "characterizer": cfg.characterizer.name,
                "cell_simulator": cfg.simulator.name,
                "optimizer": cfg.optimizer.name,
                "cell_format": cfg.cell_format,
                "shape": cfg.shape,
                "n_cubes": cfg.n_cubes,
            },
        )

    def _batch_bounds(self, b: int) -> tuple[int, int]:
        q, budget = self.config.batch, self.config.budget
        return b * q, min((b + 1) * q, budget)

    def _tell(self, optimizer: Optimizer, rows: list[Evaluation]) -> None:
        """Tell one batch in index order; per-row noise only to an optimizer that declares it."""
        if not rows:
            return
        rows = sorted(rows, key=lambda e: e.index)
        kwargs: dict[str, Any] = {}
        if any(e.uncertainty > 0 for e in rows):
            if accepts_noise(optimizer):
                # the generator's spread is relative: turn it into an objective variance per row
                kwargs["noise"] = [(e.uncertainty * e.objective) ** 2 if e.ok else 0.0 for e in rows]
            elif not self._warned_noise:
                self._warned_noise = True
                name = getattr(optimizer, "name", type(optimizer).__name__)
                print(
                    f"warning: optimizer {name!r} takes no noise in tell(); the generator's uncertainty "
                    "is stored but not told",
                    file=sys.stderr,
                )
        args = ([dict(e.params) for e in rows], [e.objective for e in rows], [not e.ok for e in rows])
        try:
            optimizer.tell(*args, **kwargs)
        except ElectroforgeError:
            raise
        except Exception as exc:
            name = getattr(optimizer, "name", type(optimizer).__name__)
            raise PluginError(f"optimizer {name!r} failed in tell: {one_line(exc)}") from exc

    # ---------------------------------------------------------------- the loop
    def run(self) -> list[Evaluation]:
        cfg = self.config
        self.store = store = self._open_store()
        optimizer = self.registry.create(
            "optimizer", cfg.optimizer.name, space=cfg.space, seed=cfg.seed, **cfg.optimizer.options
        )
        done = {e.index: e for e in store.evaluations}
        n_batches = math.ceil(cfg.budget / cfg.batch)
        executor = self._executor or make_executor(
            cfg, self.workers, self.registry, self.disable, scheduler=self.scheduler, dask_local=self.dask_local
        )
        bar = self._progress_observer()
        if bar is not None:
            bar.start(list(done.values()))
        self._warned_noise = False
        aborted = False
        status, error = INTERRUPTED, ""
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
                jobs = [
                    (lo + k, {n: float(p[n]) for n in cfg.space.names}, b)
                    for k, p in enumerate(proposals)
                    if lo + k not in done
                ]
                for ev in executor.run(jobs):
                    store.append(ev)
                    done[ev.index] = ev
                    self.registry.notify("on_evaluation", evaluation=ev)
                    if self._callback:
                        self._callback(ev)
                    if bar is not None:
                        bar.update(ev)
                self._tell(optimizer, [done[i] for i in range(lo, hi)])
                self._check_failures(done)
            status = FINISHED
        except CampaignStopped:
            status, aborted = STOPPED, True
            raise
        except BaseException as exc:
            aborted = True
            error = one_line(exc)
            raise
        finally:
            if bar is not None:
                bar.stop()
            if self._executor is None:
                if aborted and hasattr(executor, "abort"):
                    executor.abort()
                else:
                    executor.close()
            self.summary = CampaignSummary(
                name=cfg.name,
                path=str(self.path),
                config=cfg,
                status=status,
                evaluations=tuple(sorted(done.values(), key=lambda e: e.index)),
                stopped_reason=self.stopped_reason,
                error=error,
            )
            # `campaign` is the argument's name for plugins written before the summary existed
            self.registry.notify("on_campaign_end", summary=self.summary, campaign=self.summary)
        return sorted(done.values(), key=lambda e: e.index)

    def _progress_observer(self) -> CampaignProgress | None:
        if self.progress is True:
            from electroforge.cli.progress import ProgressBar

            return ProgressBar(self.config)
        if self.progress is False or self.progress is None:
            return None
        return self.progress

    def _check_failures(self, done: dict[int, Evaluation]) -> None:
        n = len(done)
        failed = [e for e in done.values() if not e.ok]
        if n >= MIN_EVALUATIONS_BEFORE_FAILURE_STOP and len(failed) > self.config.max_failure_fraction * n:
            reasons: dict[str, int] = {}
            for e in failed:
                reasons[e.error] = reasons.get(e.error, 0) + 1
            top = max(reasons, key=lambda r: reasons[r])
            self.stopped_reason = (
                f"{len(failed)} of {n} evaluations failed (more than max_failure_fraction="
                f"{self.config.max_failure_fraction:g}); most common reason ({reasons[top]}x): {top}. "
                f"Results so far are in {self.path}"
            )
            raise CampaignStopped(self.stopped_reason)


def best_evaluation(evaluations) -> Evaluation | None:
    ok = [e for e in evaluations if e.ok and math.isfinite(e.objective)]
    return max(ok, key=lambda e: e.objective) if ok else None


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
