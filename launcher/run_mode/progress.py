"""Following a run-mode sweep: rows, manifest, progress line, ETA.

Jobs write their own records (:mod:`launcher.run_mode.state`); a thread here asks
the one judge (:mod:`launcher.run_mode.follow`) what changed for the runs not yet
ended, updates their rows (O(1) per change), rewrites ``manifest.jsonl`` now and
then (every few seconds, less often for huge sweeps, and at the end), and shows
one progress line: redrawn in place on a terminal, printed as a plain line only
when the counts change otherwise. A terminal that goes away (a lost SSH session)
costs nothing: the output goes on in ``<sweep dir>/sweeper.log``.
"""
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, TextIO

from launcher.core.status import RUN_MODE, Status
from launcher.run_mode.follow import Follower, Verdict
from launcher.run_mode.state import Row

POLL_S = 0.5
SAVE_EVERY_S = 3.0  # at least; a manifest that takes long to write is written less often
SWEEPER_LOG = "sweeper.log"


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def eta_s(pending: int, running_for: Sequence[float], finished_s: Sequence[float], slots: int) -> Optional[float]:
    """Seconds until the last run ends, if runs take as long as those that finished did (their
    mean) and ``slots`` run at once: the work left (each pending run whole, each running one
    less what it has done) spread over the slots, never less than one run for pending runs or
    what the longest running run still needs. None until a run has finished."""
    if not finished_s:
        return None
    mean = sum(finished_s) / len(finished_s)
    left_running = [max(mean - done, 0.0) for done in running_for]
    work = pending * mean + sum(left_running)
    return max(work / max(slots, 1), max(left_running, default=0.0), mean if pending else 0.0)


class Progress:
    """The sweep's rows, updated by the judge. Safe to use from two threads."""

    def __init__(self, rows: List[Row], save: Callable[[], None], slots: int = 1) -> None:
        self.rows = rows
        self._save = save
        self.slots = slots
        self.follower = Follower([])
        self.finished_s: List[float] = []  # how long each run that ended in this sweep took
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
            self.follower.add(rows)

    def set(self, row: Row, status: str, reason: str, **fields: Any) -> None:
        """Change one row (from the sweeper's side)."""
        with self._lock:
            for key, value in fields.items():
                setattr(row, key, value)
            self._settle(row, (status, reason))

    def _settle(self, row: Row, verdict: Verdict) -> None:
        before = row.status
        self.follower.settle(row, verdict)
        if row.status != before:
            self.counts[before] -= 1
            self.counts[row.status] += 1
            if row.status in (Status.SUCCEEDED, Status.FAILED) and row.duration_s:
                self.finished_s.append(float(row.duration_s))
        self.changed = True

    def poll(self, force_check: bool = False) -> None:
        """Take in what changed for the runs in flight."""
        with self._lock:
            for row, verdict in self.follower.poll(force_check):
                self._settle(row, verdict)

    def in_flight(self) -> List[Row]:
        with self._lock:
            return list(self.follower.open.values())

    def done(self) -> bool:
        with self._lock:
            return not self.follower.open

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
        return summary_counts(self.counts)

    def eta(self) -> Optional[float]:
        with self._lock:
            now = time.time()
            finished = self.finished_s
            running = [now - float((r.job or {}).get("started") or now) for r in self.follower.open.values()
                       if r.status == Status.RUNNING]
            return eta_s(self.counts[Status.PENDING], running, finished, self.slots)

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        eta = self.eta()
        return (f"[sweep] {self.summary_counts()} | {format_duration(elapsed)} elapsed, "
                f"ETA {'--:--' if eta is None else format_duration(eta)}")


def summary_counts(counts: Dict[str, int]) -> str:
    c = counts
    parts = [f"{c[Status.SUCCEEDED]} done", f"{c[Status.FAILED]} failed", f"{c[Status.RUNNING]} running",
             f"{c[Status.PENDING]} left", f"{c[Status.SKIPPED]} skipped"]
    if c[Status.INTERRUPTED]:
        parts.append(f"{c[Status.INTERRUPTED]} interrupted")
    return ", ".join(parts)


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

    def __init__(self, progress: Progress, stream: Optional[TextIO] = None, log_file: Optional[Path] = None) -> None:
        self.progress = progress
        self.log_file = log_file  # where the output goes once the terminal is gone
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
        try:
            self._show(final)
        except OSError:  # the terminal is gone (EIO after a hangup): go on in the sweep dir's log
            if self.log_file is None:
                raise
            output_to_file(self.log_file)
            self.live = False
            self._show(final)

    def _show(self, final: bool) -> None:
        if self.live:
            self.stream.write("\r\033[K" + self.progress.line() + ("\n" if final else ""))
            self.stream.flush()
            return
        counts = self.progress.summary_counts()
        if counts != self._last_counts:
            self._last_counts = counts
            self.stream.write(self.progress.line() + "\n")
            self.stream.flush()


def output_to_file(path: Path) -> None:
    """Send this process's stdout and stderr to ``path`` (appended) from now on."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass  # what the terminal did not take is lost with it
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    print(f"[sweep] {time.strftime('%Y-%m-%d %H:%M:%S')}: the terminal is gone; the sweep goes on, its output here",
          file=sys.stderr, flush=True)
