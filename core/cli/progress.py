"""The ``optimize`` command's progress bar (rich): evaluations done, best objective, stage times.

It observes a campaign through :class:`electroforge.campaign.CampaignProgress` (``start``,
``update``, ``stop``); the campaign itself has no display.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from electroforge.config import CampaignConfig
from electroforge.model import Evaluation


class ProgressBar:
    """A rich progress bar: evaluations done, best objective so far, last evaluation's stage times."""

    def __init__(self, config: CampaignConfig):
        self.config = config
        self.best = -math.inf
        self.n_failed = 0
        self._progress: Any = None
        self._task: Any = None

    def start(self, existing: Iterable[Evaluation]) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        existing = list(existing)
        for e in existing:
            self._account(e)
        console = Console()
        bar = [BarColumn(bar_width=20)] if console.width >= 110 else []
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            *bar,
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[status]}"),
            console=console,
            transient=False,
        )
        self._progress.start()
        self._task = self._progress.add_task(
            self.config.name, total=self.config.budget, completed=len(existing), status=self._status(None)
        )

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
