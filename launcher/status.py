"""``python -m launcher.status SWEEP_DIR [--watch] [--cancel]``: where a run-mode sweep stands.

Why: a sweep outlives its terminal (``launch.detach=true``, a lost SSH session, a
killed sweeper), so its state must be readable without the sweeper. Every run's state
comes from the sweep dir (the runs' own records) and SLURM (one ``squeue -r`` and one
``sacct -X -D`` for all arrays), judged exactly as the sweeper judges it
(:mod:`launcher.run_mode.follow`); ``manifest.jsonl`` is brought up to date (written
whole, then renamed), so ``python -m launcher.report`` reads the same at any time.

* ``--watch`` redraws every few seconds until no run is queued or running.
* ``--cancel`` cancels what is still queued or running (``scancel`` of the arrays,
  a stop for local workers and their trainings) and records why.
"""
import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from launcher.core.status import RUN_MODE, Status
from launcher.output.staging import atomic_file
from launcher.run_mode import slurm
from launcher.run_mode.follow import Follower, cancel_runs, judge_all, launches_of, sweep_rows
from launcher.run_mode.progress import eta_s, format_duration, summary_counts
from launcher.run_mode.state import STATE_DIR, LaunchSettings, Row

WATCH_S = 3.0
CANCEL_WAIT_S = 60.0  # how long --cancel waits for cancelled tasks to end and record themselves
LISTED = 50  # runs listed one per line at most; beyond, those not done and the counts
MANIFEST_FIELDS = ("status", "reason", "attempts", "exit_code", "duration_s", "output_dir", "gpu")


class StatusError(Exception):
    """A sweep dir that cannot be read: the message names it."""


class SweepStatus:
    """A sweep dir's manifest rows, brought up to date from its launches and SLURM."""

    def __init__(self, sweep_dir: Path) -> None:
        self.sweep_dir = sweep_dir
        self.manifest = sweep_dir / "manifest.jsonl"
        if not sweep_dir.is_dir():
            raise StatusError(f"{sweep_dir} is not a folder")
        if not self.manifest.is_file():
            raise StatusError(f"{sweep_dir} has no manifest.jsonl: not a run-mode sweep dir (launch.mode=run), "
                              "or its sweep has not started yet")
        self.rows: List[Dict[str, Any]] = []
        self.launch_rows: Dict[str, Row] = {}
        self.follower: Optional[Follower] = None

    def refresh(self) -> None:
        """Read the manifest, judge every run of the sweep dir's launches, rewrite the manifest."""
        self.rows = _read_manifest(self.manifest)
        self.launch_rows = sweep_rows(self.sweep_dir, names=[r["name"] for r in self.rows])
        self.follower = judge_all(self.launch_rows.values())
        for row in self.rows:
            judged = self.launch_rows.get(row["name"])
            if judged is None:
                continue  # skipped (finished before), or from a launch no task can use any more
            for key in MANIFEST_FIELDS:
                row[key] = getattr(judged, key) if key != "status" else str(judged.status)
            row["slurm_task"] = judged.task
        with atomic_file(self.manifest) as f:
            f.writelines(json.dumps(row) + "\n" for row in self.rows)

    def counts(self) -> Dict[str, int]:
        counts = {status: 0 for status in RUN_MODE}
        for row in self.rows:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        return counts

    def live(self) -> List[Row]:
        return [r for r in self.launch_rows.values() if r.status in (Status.PENDING, Status.RUNNING)]

    def eta(self) -> Optional[float]:
        now = time.time()
        finished = [float(r["duration_s"]) for r in self.rows
                    if r["status"] in (Status.SUCCEEDED, Status.FAILED) and r.get("duration_s")]
        live = self.live()
        running = [now - float((r.job or {}).get("started") or now) for r in live if r.status == Status.RUNNING]
        settings = self.follower.settings if self.follower else {}  # each launch's, read once by the judge
        slots = max([_parallelism(settings.get(launch.root)) for launch in launches_of(live)] or [1])
        return eta_s(self.counts()[Status.PENDING], running, finished, slots)

    def cancel(self, why: str) -> Tuple[int, List[str]]:
        """Cancel every queued or running run; how many, and the SLURM arrays cancelled."""
        live = self.live()
        return len(live), cancel_runs(live, why)


def _parallelism(settings: Optional[LaunchSettings]) -> int:
    return settings.parallelism if settings else 1


def _read_manifest(path: Path) -> List[Dict[str, Any]]:
    try:
        lines = path.read_text().splitlines()
    except OSError as e:
        raise StatusError(f"cannot read {path}: {e.strerror}") from None
    rows = []
    for number, line in enumerate(lines, 1):
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or "name" not in row:
                raise ValueError("not a run's row")
        except ValueError as e:
            raise StatusError(f"{path}, line {number}: not a manifest row ({e})") from None
        rows.append(row)
    return rows


def render(sweep: SweepStatus) -> str:
    """What ``python -m launcher.status`` prints: the counts, the ETA, the runs that need a look."""
    counts = sweep.counts()
    eta = sweep.eta()
    attempts = sum(int(r.get("attempts") or 0) for r in sweep.rows)
    retried = sum(int(r.get("attempts") or 0) > 1 for r in sweep.rows)
    left = counts[Status.PENDING] + counts[Status.RUNNING]
    shown_eta = "done" if not left else "--:--" if eta is None else format_duration(eta)
    lines = [f"{sweep.sweep_dir}: {len(sweep.rows)} runs: {summary_counts(counts)}",
             f"attempts: {attempts} ({retried} run(s) started more than once); ETA {shown_eta}"]
    queued = Counter(_queue_reason(r["reason"]) for r in sweep.rows if r["status"] == Status.PENDING and r["reason"])
    if queued:
        lines.append("queued: " + ", ".join(f"{n} {why}" for why, n in queued.most_common()))
    shown = sweep.rows if len(sweep.rows) <= LISTED else \
        [r for r in sweep.rows if r["status"] not in (Status.SUCCEEDED, Status.SKIPPED)][:LISTED]
    if shown:
        width = max(len(r["name"]) for r in shown)
        lines.append(f"{'run':<{width}}  {'status':<11}  {'attempts':>8}  {'task':<10}  reason")
        for r in shown:
            lines.append(f"{r['name']:<{width}}  {r['status']:<11}  {int(r.get('attempts') or 0):>8}  "
                         f"{r.get('slurm_task') or '':<10}  {r.get('reason') or ''}".rstrip())
    return "\n".join(lines)


def _queue_reason(reason: str) -> str:
    """``queued in SLURM (Priority); ...`` -> ``Priority``."""
    if reason.startswith("queued in SLURM ("):
        return reason[len("queued in SLURM ("):].split(")")[0]
    return reason.split(":")[0]


def watch(sweep: SweepStatus, out: Any) -> None:
    live = out.isatty()
    while True:
        sweep.refresh()
        text = render(sweep)
        out.write(("\033[H\033[2J" if live else "") + text + "\n" + ("" if live else "\n"))
        out.flush()
        if not sweep.live():
            return
        time.sleep(WATCH_S)


def cancel_and_wait(sweep: SweepStatus) -> Tuple[int, int]:
    """Cancel, then wait (a bounded while) until nothing is queued or running, and SLURM has ended
    the tasks (their processes too); (cancelled, still live)."""
    sweep.refresh()
    cancelled, arrays = sweep.cancel("cancelled with python -m launcher.status --cancel")
    deadline = time.monotonic() + CANCEL_WAIT_S
    while True:
        sweep.refresh()
        listed = slurm.query(sorted(arrays), with_sacct=False) if arrays else None
        if not sweep.live() and not (listed and listed.queued) or time.monotonic() > deadline:
            return cancelled, len(sweep.live())
        time.sleep(1.0)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m launcher.status", description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", type=Path, help="the sweep's hydra.sweep.dir")
    parser.add_argument("--watch", action="store_true", help="redraw until no run is queued or running")
    parser.add_argument("--cancel", action="store_true", help="cancel every queued or running run, and say why")
    args = parser.parse_args(argv)
    sweep_dir = args.sweep_dir.expanduser().absolute()
    if args.sweep_dir.name == STATE_DIR:
        sweep_dir = sweep_dir.parent
    try:
        sweep = SweepStatus(sweep_dir)
        if args.cancel:
            cancelled, left = cancel_and_wait(sweep)
            print(f"Cancelled {cancelled} run(s)" + (f"; {left} not yet ended in SLURM" if left else ""))
        if args.watch:
            watch(sweep, sys.stdout)
        else:
            if not args.cancel:
                sweep.refresh()
            print(render(sweep))
    except StatusError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
