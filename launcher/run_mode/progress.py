"""Following a run-mode sweep while Hydra's launcher works: rows, manifest, progress line.

Jobs write their own records (:mod:`launcher.run_mode.state`); a thread here reads
the records of the runs in flight, updates their rows (O(1) per change), rewrites
``manifest.jsonl`` now and then (every few seconds, less often for huge sweeps,
and at the end), and shows one progress line: redrawn in place on a terminal,
printed as a plain line only when the counts change otherwise.
"""
import logging
import sys
import threading
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, TextIO

from launcher.core.status import FINAL, RUN_MODE, Status
from launcher.run_mode.state import LaunchDir, Row, read_json

POLL_S = 0.5
SAVE_EVERY_S = 3.0  # at least; a manifest that takes long to write is written less often


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class Progress:
    """A launch's rows, updated from its jobs' records. Safe to use from two threads."""

    def __init__(self, rows: List[Row], launch: LaunchDir, save: Callable[[], None]) -> None:
        self.rows = rows
        self.launch = launch
        self._save = save
        self._active: Dict[str, Row] = {}  # handed to the launcher and not finished
        self.counts = {status: 0 for status in RUN_MODE}
        for row in rows:
            self.counts[row.status] += 1
        self.started = time.monotonic()
        self.changed = True
        self._saved_at = 0.0
        self._save_cost = 0.0
        self._lock = threading.RLock()

    def watch(self, rows: Iterable[Row]) -> None:
        with self._lock:
            for row in rows:
                self._active[row.name] = row

    def set(self, row: Row, **fields: Any) -> None:
        """Change one row (from the sweeper's side)."""
        with self._lock:
            self._apply(row, fields)

    def _apply(self, row: Row, record: Dict[str, Any]) -> None:
        before = row.status
        row.apply(record)
        if row.status != before:
            self.counts[before] -= 1
            self.counts[row.status] += 1
        if row.status in FINAL:
            self._active.pop(row.name, None)
        self.changed = True

    def poll(self) -> None:
        """Take in new records of the runs in flight."""
        with self._lock:
            for row in list(self._active.values()):
                record = read_json(self.launch.run_file(row.name))
                if record is not None and record.get("status") in RUN_MODE and record["status"] != row.status:
                    self._apply(row, record)

    def in_flight(self) -> List[Row]:
        with self._lock:
            return list(self._active.values())

    def save(self, force: bool = False) -> None:
        """Rewrite the manifest if something changed, at most every few seconds unless ``force``."""
        with self._lock:
            now = time.monotonic()
            if not self.changed or not force and now - self._saved_at < max(SAVE_EVERY_S, 20 * self._save_cost):
                return
            self.changed = False
            self._save()
            self._saved_at = time.monotonic()
            self._save_cost = self._saved_at - now

    def summary_counts(self) -> str:
        c = self.counts
        parts = [f"{c[Status.SUCCEEDED]} done", f"{c[Status.FAILED]} failed", f"{c[Status.RUNNING]} running",
                 f"{c[Status.PENDING]} left", f"{c[Status.SKIPPED]} skipped"]
        if c[Status.INTERRUPTED]:
            parts.append(f"{c[Status.INTERRUPTED]} interrupted")
        return ", ".join(parts)

    def line(self) -> str:
        c = self.counts
        finished = c[Status.SUCCEEDED] + c[Status.FAILED]
        elapsed = time.monotonic() - self.started
        eta = "--:--"
        if finished:
            eta = format_duration(elapsed / finished * (c[Status.PENDING] + c[Status.RUNNING]))
        return f"[sweep] {self.summary_counts()} | {format_duration(elapsed)} elapsed, ETA {eta}"


class _HydraJobLines(logging.Filter):
    """Hydra's launchers log ``#3 : launch.run='<run>'`` for every job they start.

    On their own loggers: Hydra's launchers set up the root logger's handlers again at every
    launch, and a filter on a logger stays. The loggers that log those lines are named, as
    joblib's launcher makes its own only when it first launches."""

    LAUNCHERS = ("hydra._internal.core_plugins.basic_launcher", "hydra_plugins.hydra_joblib_launcher._core",
                 "hydra_plugins.hydra_submitit_launcher.submitit_launcher")

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).lstrip().startswith("#")

    @classmethod
    def loggers(cls) -> List[logging.Logger]:
        names = [n for n in list(logging.root.manager.loggerDict) if n.startswith(("hydra.", "hydra_plugins."))]
        return [logging.getLogger(name) for name in dict.fromkeys([*cls.LAUNCHERS, *names])]


class ProgressMonitor:
    """Runs :class:`Progress` in a thread for the duration of a ``with`` block.

    Without a terminal (a log file, a batch job), the progress lines are the record of the
    sweep, and Hydra's line per job would only interleave with them, saying the same: those
    are left out while the monitor runs."""

    def __init__(self, progress: Progress, stream: Optional[TextIO] = None) -> None:
        self.progress = progress
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sweep-progress", daemon=True)
        self._last_counts = ""
        self._quiet = _HydraJobLines()

    def __enter__(self) -> "ProgressMonitor":
        if not self.live:
            for logger in _HydraJobLines.loggers():
                logger.addFilter(self._quiet)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
        for logger in _HydraJobLines.loggers():
            logger.removeFilter(self._quiet)

    def stop(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join()
        self.progress.poll()
        self.progress.save(force=True)
        self.show(final=True)

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            self.progress.poll()
            self.progress.save()
            self.show(final=False)

    def show(self, final: bool) -> None:
        if self.live:
            self.stream.write("\r\033[K" + self.progress.line() + ("\n" if final else ""))
            self.stream.flush()
            return
        counts = self.progress.summary_counts()
        if counts != self._last_counts:
            self._last_counts = counts
            self.stream.write(self.progress.line() + "\n")
            self.stream.flush()
