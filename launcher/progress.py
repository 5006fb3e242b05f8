"""Following a run-mode sweep from the sweeper while the launcher works.

Jobs append events (:mod:`launcher.state`); a thread here reads them, keeps
``manifest.jsonl`` current, and shows one progress line: redrawn in place on a
terminal, printed as plain lines (when something changed) otherwise.
"""
import sys
import threading
import time
from typing import Any, Dict, List, Optional, TextIO

from launcher.state import FAILED, PENDING, RUNNING, SKIPPED, SUCCEEDED, SweepFiles, read_events, write_manifest

POLL_S = 0.5
PLAIN_EVERY_S = 5.0  # without a terminal, at most one progress line this often


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class SweepProgress:
    """The rows of a sweep's manifest, updated from job events."""

    def __init__(self, files: SweepFiles, rows: List[Dict[str, Any]]) -> None:
        self.files = files
        self.rows = {row["name"]: row for row in rows}
        self.offset = 0
        self.started = time.monotonic()
        self._lock = threading.Lock()

    def poll(self) -> bool:
        """Apply new events; whether anything changed. Safe from several threads."""
        with self._lock:
            events, self.offset = read_events(self.files, self.offset)
            for event in events:
                row = self.rows.get(event["name"])
                if row is not None:
                    row.update({k: v for k, v in event.items() if k != "name"})
            return bool(events)

    def update(self, name: str, **fields: Any) -> None:
        with self._lock:
            self.rows[name].update(fields)

    def counts(self) -> Dict[str, int]:
        counts = {PENDING: 0, RUNNING: 0, SUCCEEDED: 0, FAILED: 0, SKIPPED: 0}
        for row in self.rows.values():
            counts[row["status"]] += 1
        return counts

    def line(self) -> str:
        c = self.counts()
        finished = c[SUCCEEDED] + c[FAILED]
        elapsed = time.monotonic() - self.started
        eta = "--:--"
        if finished:
            eta = format_duration(elapsed / finished * (c[PENDING] + c[RUNNING]))
        return (
            f"[sweep] {c[SUCCEEDED]} done, {c[FAILED]} failed, {c[RUNNING]} running, "
            f"{c[PENDING]} left, {c[SKIPPED]} skipped | {format_duration(elapsed)} elapsed, ETA {eta}"
        )

    def save(self) -> None:
        with self._lock:
            rows = [dict(r) for r in sorted(self.rows.values(), key=lambda r: r["index"])]
        write_manifest(self.files, iter(rows))


class ProgressMonitor:
    """Runs :class:`SweepProgress` in a thread for the duration of a ``with`` block."""

    def __init__(self, progress: SweepProgress, stream: Optional[TextIO] = None) -> None:
        self.progress = progress
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sweep-progress", daemon=True)
        self._last_plain = ""
        self._last_plain_at = 0.0

    def __enter__(self) -> "ProgressMonitor":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.progress.poll()
        self.progress.save()
        self._show(final=True)

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            if self.progress.poll():
                self.progress.save()
            self._show(final=False)

    def _show(self, final: bool) -> None:
        line = self.progress.line()
        if self.live:
            self.stream.write("\r\033[K" + line + ("\n" if final else ""))
            self.stream.flush()
            return
        now = time.monotonic()
        if line != self._last_plain and (final or now - self._last_plain_at >= PLAIN_EVERY_S):
            self.stream.write(line + "\n")
            self.stream.flush()
            self._last_plain, self._last_plain_at = line, now
