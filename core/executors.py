"""Where the evaluations of a batch run: in this process, or in a pool of worker processes.

Executors yield :class:`~electroforge.model.Evaluation` objects as they finish (any order). Heavy
arrays (microstructures) stay where the evaluation runs; only the evaluation travels back.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
from collections.abc import Iterator, Sequence
from typing import Any

from electroforge.model import STATUS_FAILED, Evaluation
from electroforge.pipeline import Components, evaluate_design, evaluation_seed

Job = tuple[int, dict[str, float], int]  # (index, params, batch)


class InProcessExecutor:
    """Evaluate one design after another in the calling process (the default)."""

    name = "in-process"

    def __init__(self, config, registry=None):
        self.config = config
        self.components = Components.from_config(config, registry)

    def run(self, jobs: Sequence[Job]) -> Iterator[Evaluation]:
        for index, params, batch in jobs:
            yield evaluate_design(params, self.components, self.config, index=index, batch=batch)

    def close(self) -> None:
        pass


# ------------------------------------------------------------------ process pool
_WORKER: dict[str, Any] = {}


def _worker_init(config, disable, threads: int) -> None:
    os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:  # pragma: no cover
        pass
    from electroforge.registry import get_registry

    _WORKER["config"] = config
    _WORKER["components"] = Components.from_config(config, get_registry(disable=disable))


def _worker_eval(job: Job) -> Evaluation:
    index, params, batch = job
    return evaluate_design(params, _WORKER["components"], _WORKER["config"], index=index, batch=batch)


class ProcessPoolExecutor:
    """Evaluate designs in ``workers`` spawned processes, each with its own components.

    An evaluation that runs longer than ``config.timeout_s`` or whose worker dies is recorded as
    failed with the reason (the pool is restarted), never silently dropped.
    """

    name = "process-pool"

    def __init__(self, config, workers: int = 2, disable: Sequence[str] = ()):
        self.config = config
        self.workers = max(1, int(workers))
        self.disable = list(disable)
        self._pool: cf.ProcessPoolExecutor | None = None

    def _ensure_pool(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            threads = max(1, (os.cpu_count() or 1) // self.workers)
            self._pool = cf.ProcessPoolExecutor(
                max_workers=self.workers, mp_context=mp.get_context("spawn"),
                initializer=_worker_init, initargs=(self.config, self.disable, threads),
            )
        return self._pool

    def _kill_pool(self) -> None:
        if self._pool is not None:
            for proc in list(getattr(self._pool, "_processes", {}).values()):
                proc.kill()
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def run(self, jobs: Sequence[Job]) -> Iterator[Evaluation]:
        pending = list(jobs)
        while pending:
            pool = self._ensure_pool()
            futures = {pool.submit(_worker_eval, job): job for job in pending}
            pending = []
            try:
                for fut in cf.as_completed(futures, timeout=self.config.timeout_s * max(1, len(futures))):
                    job = futures.pop(fut)
                    try:
                        yield fut.result()
                    except cf.process.BrokenProcessPool:
                        yield _failed(job, self.config, "worker process died during the evaluation")
                        pending = [j for f, j in futures.items() if not f.done()]
                        self._kill_pool()
                        break
                    except Exception as exc:  # pickling or worker start-up errors
                        yield _failed(job, self.config, f"worker error: {type(exc).__name__}: {exc}")
            except cf.TimeoutError:
                for fut, job in futures.items():
                    yield _failed(job, self.config, f"evaluation exceeded timeout_s={self.config.timeout_s:g}")
                self._kill_pool()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _failed(job: Job, config, error: str) -> Evaluation:
    index, params, batch = job
    return Evaluation(index=index, params=params, objective=float("nan"), status=STATUS_FAILED, error=error,
                      seed=evaluation_seed(config.seed, index), batch=batch)


def make_executor(config, workers: int = 0, registry=None, disable: Sequence[str] = ()):
    """``workers`` 0 or 1: in-process; more: a process pool of that many workers."""
    if workers and workers > 1:
        return ProcessPoolExecutor(config, workers=workers, disable=disable)
    return InProcessExecutor(config, registry)
