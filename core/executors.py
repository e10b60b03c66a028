"""Where the evaluations of a batch run: in this process, a local process pool, or Dask.

Every executor has ``run(jobs)`` yielding :class:`~electroforge.model.Evaluation` objects as they
finish (any order; the campaign stores them by index), ``close()`` (wait, release) and ``abort()``
(stop now, used on Ctrl-C). A job is ``(index, params, batch)``; the evaluation's seed depends on
(campaign seed, index) alone, so every executor returns the same evaluations for the same jobs.

Heavy arrays (microstructures) stay where the evaluation runs: a worker builds the components once
(per process), receives only the parameters and sends back only the Evaluation (metrics and
performance, a few kB).

A job is never silently dropped:

* in-process: an exception escaping the pipeline marks the evaluation failed;
* process pool: when a worker dies, the evaluations it may have been running are re-run one at a
  time in a fresh pool; an evaluation that kills its worker (or exceeds ``config.timeout_s``) while
  running alone is recorded as failed with the reason;
* Dask: the scheduler re-runs the task of a dead worker on another one (``allowed-failures``,
  default 3, then ``KilledWorker``: recorded as failed); a batch that makes no progress for
  ``config.timeout_s`` records its unfinished evaluations as failed.
"""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from electroforge.errors import ElectroforgeError
from electroforge.model import STATUS_FAILED, Evaluation
from electroforge.pipeline import Components, evaluate_design, evaluation_seed
from electroforge.registry import one_line

Job = tuple[int, dict[str, float], int]  # (index, params, batch)

WORKER_DIED = "worker process died during the evaluation"


def _failed(job: Job, config, error: str) -> Evaluation:
    index, params, batch = job
    return Evaluation(index=index, params=params, objective=float("nan"), status=STATUS_FAILED, error=error,
                      seed=evaluation_seed(config.seed, index), batch=batch)


def _evaluate_safely(job: Job, components: Components, config) -> Evaluation:
    """``evaluate_design`` that turns anything escaping it into a failed evaluation."""
    index, params, batch = job
    try:
        return evaluate_design(params, components, config, index=index, batch=batch)
    except Exception as exc:  # evaluate_design catches plugin errors itself; this is the last guard
        return _failed(job, config, f"evaluation error: {one_line(exc)}")


class InProcessExecutor:
    """Evaluate one design after another in the calling process (the default)."""

    name = "in-process"

    def __init__(self, config, registry=None):
        self.config = config
        self.components = Components.from_config(config, registry)

    def run(self, jobs: Sequence[Job]) -> Iterator[Evaluation]:
        for job in jobs:
            yield _evaluate_safely(job, self.components, self.config)

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


# ------------------------------------------------------------------ worker-side state
_WORKER: dict[Any, Any] = {}  # "config", "components", ("dask", key) -> per-process state


def _limit_threads(threads: int) -> None:
    os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")
    try:
        import torch

        torch.set_num_threads(max(1, int(threads)))
    except ImportError:  # pragma: no cover
        pass


def _exit_with_parent(parent_pid: int) -> None:
    """A daemon thread ending this worker when its parent dies (a kill -9 leaves no orphans)."""

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="electroforge-parent-watch", daemon=True).start()


def _worker_init(config, disable, threads: int, parent_pid: int | None = None) -> None:
    # Ctrl-C in a terminal reaches the whole process group: the parent handles it and kills us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent_pid:
        _exit_with_parent(parent_pid)
    _limit_threads(threads)
    from electroforge.registry import get_registry

    _WORKER["config"] = config
    _WORKER["components"] = Components.from_config(config, get_registry(disable=disable))


def _worker_eval(job: Job) -> Evaluation:
    return _evaluate_safely(job, _WORKER["components"], _WORKER["config"])


class ProcessPoolExecutor:
    """Evaluate designs in ``workers`` spawned processes, each with its own components.

    When a worker dies the pool breaks and every unfinished evaluation is re-run, one at a time, in
    a fresh pool: the one that kills its worker again (or exceeds ``config.timeout_s`` alone) is
    recorded as failed with the reason; the innocent ones complete. Nothing is silently dropped.
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
                initializer=_worker_init, initargs=(self.config, self.disable, threads, os.getpid()),
            )
            # Start the workers before any evaluation is timed: start-up is not the design's fault.
            warm = [self._pool.submit(os.getpid) for _ in range(self.workers)]
            try:
                for fut in warm:
                    fut.result(timeout=max(300.0, self.config.timeout_s))
            except (cf.process.BrokenProcessPool, cf.TimeoutError) as exc:
                self._kill_pool()
                raise ElectroforgeError(
                    f"process pool: worker start-up failed ({one_line(exc)}); run with --workers 0 to see why"
                ) from None
        return self._pool

    def _kill_pool(self) -> None:
        if self._pool is not None:
            for proc in list((getattr(self._pool, "_processes", None) or {}).values()):
                try:
                    proc.kill()
                except Exception:  # pragma: no cover - already gone
                    pass
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def run(self, jobs: Sequence[Job]) -> Iterator[Evaluation]:
        queue = list(jobs)
        suspects: list[Job] = []  # jobs to re-run alone after a broken pool or a timeout
        while queue or suspects:
            if suspects:
                yield self._run_alone(suspects.pop(0))
                continue
            batch, queue = queue, []
            pool = self._ensure_pool()
            futures = {pool.submit(_worker_eval, job): job for job in batch}
            try:
                for fut in cf.as_completed(futures, timeout=self.config.timeout_s * len(futures)):
                    job = futures.pop(fut)
                    try:
                        yield fut.result()
                    except cf.process.BrokenProcessPool:
                        futures[fut] = job
                        break
                    except Exception as exc:  # pickling or worker start-up errors
                        yield _failed(job, self.config, f"worker error: {one_line(exc)}")
            except cf.TimeoutError:
                pass
            if futures:  # broken pool or timeout: keep what finished, re-run the rest alone
                for fut, job in futures.items():
                    if fut.done() and not fut.cancelled() and fut.exception() is None:
                        yield fut.result()
                    else:
                        suspects.append(job)
                self._kill_pool()
                suspects.sort(key=lambda j: j[0])

    def _run_alone(self, job: Job) -> Evaluation:
        pool = self._ensure_pool()
        fut = pool.submit(_worker_eval, job)
        try:
            return fut.result(timeout=self.config.timeout_s)
        except cf.process.BrokenProcessPool:
            self._kill_pool()
            return _failed(job, self.config, WORKER_DIED)
        except cf.TimeoutError:
            self._kill_pool()
            return _failed(job, self.config, f"evaluation exceeded timeout_s={self.config.timeout_s:g}")
        except Exception as exc:
            return _failed(job, self.config, f"worker error: {one_line(exc)}")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def abort(self) -> None:
        """Kill the workers now (Ctrl-C): the evaluations in flight are lost, nothing else."""
        self._kill_pool()


# ------------------------------------------------------------------ Dask distributed
def _config_key(config, disable: Sequence[str]) -> str:
    return hashlib.sha1(repr((config, sorted(disable))).encode()).hexdigest()


def _dask_eval(config, disable: Sequence[str], threads: int, job: Job) -> Evaluation:
    """Runs on a Dask worker: components are built once per worker process and config."""
    key = _config_key(config, disable)
    components = _WORKER.get(("dask", key))
    if components is None:
        _limit_threads(threads)
        from electroforge.registry import get_registry

        components = Components.from_config(config, get_registry(disable=disable))
        _WORKER[("dask", key)] = components
    return _evaluate_safely(job, components, config)


class DaskExecutor:
    """Evaluate designs on Dask distributed: an existing scheduler or a LocalCluster.

    ``DaskExecutor(config, scheduler="tcp://host:8786")`` connects to a running scheduler (started
    with ``dask scheduler``, workers with ``dask worker tcp://host:8786``); ``local_workers=N``
    starts a LocalCluster of N single-threaded worker processes on this machine instead. Each
    worker needs electroforge and the campaign's plugins installed; the config and the parameters
    go out, the Evaluation comes back.
    """

    name = "dask"

    def __init__(self, config, scheduler: str | None = None, local_workers: int = 0,
                 disable: Sequence[str] = (), threads_per_worker: int = 1):
        if not scheduler and not local_workers:
            raise ElectroforgeError("Dask executor: give a scheduler address (tcp://HOST:PORT) or a worker count")
        self.config = config
        self.scheduler = scheduler
        self.local_workers = int(local_workers or 0)
        self.disable = list(disable)
        self.threads = max(1, int(threads_per_worker))
        self._client = None
        self._cluster = None
        self._futures: list = []

    def _ensure_client(self):
        if self._client is not None:
            return self._client
        try:
            import distributed
        except ImportError:
            raise ElectroforgeError(
                "Dask executor needs the 'distributed' package: pip install 'electroforge[dask]'") from None
        import logging

        if self.scheduler:
            addr = self.scheduler
            if "://" not in addr:
                raise ElectroforgeError(f"--scheduler {addr!r}: expected an address like tcp://HOST:8786")
            try:
                self._client = distributed.Client(addr, timeout=30, set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise ElectroforgeError(f"--scheduler {addr}: cannot connect ({one_line(exc)})") from None
        else:
            self._cluster = distributed.LocalCluster(
                n_workers=self.local_workers, threads_per_worker=self.threads, processes=True,
                dashboard_address=":0", silence_logs=logging.CRITICAL,  # any free port: never clash
            )
            self._client = distributed.Client(self._cluster, set_as_default=False)
        return self._client

    def run(self, jobs: Sequence[Job]) -> Iterator[Evaluation]:
        import distributed

        client = self._ensure_client()
        futures = {}
        for job in jobs:
            fut = client.submit(_dask_eval, self.config, self.disable, self.threads, job, pure=False,
                                key=f"electroforge-eval-{job[0]}-{os.getpid()}-{time.monotonic_ns()}")
            futures[fut] = job
        self._futures = list(futures)
        pending = set(futures)
        last_progress = time.monotonic()
        while pending:
            done = {f for f in pending if f.done()}
            if not done:
                if time.monotonic() - last_progress > self.config.timeout_s:  # no progress: give up on the rest
                    for fut in sorted(pending, key=lambda f: futures[f][0]):
                        fut.cancel()
                        yield _failed(futures[fut], self.config,
                                      f"evaluation exceeded timeout_s={self.config.timeout_s:g} on Dask")
                    return
                time.sleep(0.02)
                continue
            last_progress = time.monotonic()
            pending -= done
            for fut in sorted(done, key=lambda f: futures[f][0]):
                job = futures[fut]
                try:
                    yield fut.result()
                except distributed.KilledWorker:
                    yield _failed(job, self.config, f"{WORKER_DIED} (Dask KilledWorker, retries exhausted)")
                except Exception as exc:
                    yield _failed(job, self.config, f"Dask worker error: {one_line(exc)}")
                finally:
                    fut.release()

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            finally:
                self._client = None
        if self._cluster is not None:
            try:
                self._cluster.close()
            finally:
                self._cluster = None

    def abort(self) -> None:
        """Ctrl-C: cancel what is queued and shut the client (and a LocalCluster) down now.

        A LocalCluster whose workers are busy can take long to close; after a bounded wait, the
        worker processes this campaign started are killed so that nothing outlives it.
        """
        import psutil

        children: list[Any] = psutil.Process().children(recursive=True) if self._cluster is not None else []
        if self._client is not None and self._futures:
            try:
                self._client.cancel(self._futures)
            except Exception:  # pragma: no cover - shutting down anyway
                pass
        self._futures = []
        try:
            if self._client is not None:
                self._client.close(timeout=5)
            if self._cluster is not None:
                self._cluster.close(timeout=10)
        except Exception:  # pragma: no cover - shutting down anyway
            pass
        finally:
            self._client = self._cluster = None
            for child in children:
                try:
                    child.kill()
                except psutil.Error:
                    pass


def make_executor(config, workers: int = 0, registry=None, disable: Sequence[str] = (), *,
                  scheduler: str | None = None, dask_local: int = 0):
    """``scheduler`` or ``dask_local`` N: Dask; ``workers`` > 1: a process pool; else in-process."""
    if scheduler or dask_local:
        if scheduler and dask_local:
            raise ElectroforgeError("give --scheduler or --dask-local, not both")
        if dask_local and dask_local < 1:
            raise ElectroforgeError(f"--dask-local {dask_local}: need at least 1 worker")
        return DaskExecutor(config, scheduler=scheduler, local_workers=dask_local, disable=disable)
    if workers and workers > 1:
        return ProcessPoolExecutor(config, workers=workers, disable=disable)
    return InProcessExecutor(config, registry)
