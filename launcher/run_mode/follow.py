"""A run's state, from its own record and SLURM's word: the one judge the sweeper and
``python -m launcher.status`` share, and the one way both cancel runs.

Why a judge: a record alone is not the truth on SLURM. A job records ``interrupted``
when SLURM sends it SIGTERM, and SIGTERM means a cancel, a requeue, a preemption or
a node failure alike; only SLURM knows whether the task comes back. A task cancelled
while queued never ran, so it has no record and no sacct line either. So a run's
state is judged from its latest launch's record plus one ``squeue -r`` and one
``sacct -X -D`` for all arrays (:mod:`launcher.run_mode.slurm`); locally, from the
record plus whether the job's process (or its launch's workers) still lives.
"""
import os
import signal
import time
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from launcher.core.status import FINAL, Status
from launcher.run_mode import slurm
from launcher.run_mode.state import LOCAL, SLURM, LaunchDir, LaunchSettings, Row, launch_dirs, read_json, this_host

CHECK_S = 3.0  # how often SLURM is asked while following
STALE_S = 90.0  # a running job on another machine whose record was not touched for this long is gone
HEARTBEAT_S = 20.0  # a running job touches its record this often

Verdict = Tuple[str, str]  # (status, reason)
Cancel = Optional[Tuple[str, str]]  # (status, reason) of a cancel the sweep dir records

QUEUED_FOREVER = "queued forever: SLURM can never start it"
VANISHED = "cancelled before it started: SLURM lists it neither as queued nor in sacct (scancel?)"
JOB_DIED = "its job ended without recording an outcome"
SIGTERM_REASON = "SLURM sent SIGTERM (scancel, a requeue, a preemption or a node failure)"


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie counts as dead: its parent has not reaped it yet)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return True


def on_this_host(row: Row, key: str) -> Optional[int]:
    """A process id a running job recorded (``job_pid``, ``pgid``), if it runs on this machine."""
    job = row.job or {}
    return int(job[key]) if job.get(key) and job.get("host") == this_host() else None


def launches_of(rows: Iterable[Row]) -> List[LaunchDir]:
    """The launches of ``rows``, each once."""
    seen: Dict[Path, LaunchDir] = {}
    for row in rows:
        if row.launch is not None:
            seen.setdefault(row.launch.root, row.launch)
    return list(seen.values())


def stop_trainings(rows: List[Row], sig: int = signal.SIGTERM) -> None:
    """Ask every job to stop, and signal the trainings running on this machine directly."""
    for launch in launches_of(rows):
        launch.request_stop()
    for row in rows:
        pgid = on_this_host(row, "pgid")
        if row.status == Status.RUNNING and pgid is not None:
            try:
                os.killpg(pgid, sig)
            except (ProcessLookupError, PermissionError):
                pass


def cancel_runs(rows: List[Row], why: str) -> List[str]:
    """Cancel ``rows`` (queued or running): record why in their launches, stop their jobs and
    the trainings on this machine, ``scancel`` their launches' arrays; the arrays cancelled."""
    launches = launches_of(rows)
    for launch in launches:
        launch.note_cancel(why)
    stop_trainings(rows)
    arrays = [a["id"] for launch in launches for a in launch.slurm_arrays()]
    slurm.cancel(arrays)
    return arrays


def queued_verdict(state: str, reason: str, record: Optional[Dict[str, Any]]) -> Verdict:
    """A task SLURM lists as queued or running."""
    if state != "PENDING":
        return Status.RUNNING, ""
    if reason in slurm.NEVER_REASONS:
        return Status.PENDING, (f"{QUEUED_FOREVER} ({reason}; check hydra.launcher."
                                "cpus_per_task/mem_gb/gpus_per_node/timeout_min/partition)")
    again = f"; attempt {int(record.get('attempt') or 1) + 1} next" if record else ""
    return Status.PENDING, f"queued in SLURM ({reason or 'None'}){again}"


def ended_verdict(state: str, record: Optional[Dict[str, Any]], cancel: Cancel) -> Verdict:
    """A task SLURM accounts as ended (``state`` as sacct prints it) whose job recorded no outcome."""
    word = state.split()[0]
    recorded = (record or {}).get("status")
    if word == "CANCELLED":
        verdict = cancel or (Status.INTERRUPTED, f"cancelled in SLURM ({state})")
        return not_started(verdict) if record is None else verdict
    if word == "TIMEOUT":
        return Status.FAILED, f"SLURM's time limit ended it ({state}); raise hydra.launcher.timeout_min"
    if word in ("NODE_FAIL", "PREEMPTED", "BOOT_FAIL"):
        return Status.INTERRUPTED, f"SLURM ended it: {state}"
    if recorded == Status.INTERRUPTED:
        return Status.INTERRUPTED, record.get("reason") or SIGTERM_REASON  # type: ignore[union-attr]
    if word == "COMPLETED":
        return Status.FAILED, JOB_DIED
    return Status.FAILED, f"{JOB_DIED}: SLURM says {state}"


def judge_slurm(record: Optional[Dict[str, Any]], task: Optional[str], view: Optional[slurm.QueueView],
                cancel: Cancel) -> Verdict:
    """A SLURM task's run: its record, unless SLURM lists it queued or running (a requeued task
    comes back pending) or ended it without an outcome."""
    recorded = (record or {}).get("status")
    if recorded in (Status.SUCCEEDED, Status.FAILED, Status.SKIPPED) and (view is None or task not in view.queued
                                                                          or view.queued[task][0] == "COMPLETING"):
        return recorded, record.get("reason", "")  # type: ignore[union-attr]
    if view is None or task is None:
        return (recorded or Status.PENDING), (record or {}).get("reason", "")
    state, reason = view.queued.get(task, ("", ""))
    if state and state != "COMPLETING":
        return queued_verdict(state, reason, record)
    if not view.asked_sacct:
        return (recorded or Status.PENDING), (record or {}).get("reason", "")
    accounted = view.last_state(task) or view.last_state(task.split("_")[0] + "_*")
    if accounted is not None and accounted.split()[0] in ("REQUEUED", "PENDING", "REQUEUE_HOLD", "REQUEUE_FED"):
        return Status.PENDING, "requeued in SLURM"
    if accounted is not None and accounted.split()[0] in slurm.FINAL_STATES:
        return ended_verdict(accounted, record, cancel)
    if accounted is not None or state == "COMPLETING":  # ending: sacct has not caught up yet
        if recorded == Status.INTERRUPTED:  # SIGTERM: SLURM's final word says whether it comes back
            return Status.RUNNING, "ending in SLURM"
        return (recorded or Status.RUNNING), (record or {}).get("reason", "")
    if recorded == Status.INTERRUPTED:
        return cancel or (Status.INTERRUPTED, record.get("reason", ""))  # type: ignore[union-attr]
    return not_started(cancel) if cancel else (Status.INTERRUPTED, VANISHED)


def job_alive(record: Dict[str, Any], record_file: Path) -> bool:
    """A running job's process lives (on this machine), or its record is fresh (elsewhere)."""
    if record.get("host") == this_host() and record.get("job_pid"):
        return alive(int(record["job_pid"]))
    try:
        return time.time() - record_file.stat().st_mtime < STALE_S
    except OSError:
        return False


def launch_alive(settings: Optional[LaunchSettings], launch: LaunchDir) -> bool:
    """A local launch can still start runs: no stop was asked, and its sweeper or one of its workers lives."""
    if settings is None or launch.stopped():
        return False
    here = this_host()
    if settings.sweeper_host == here and alive(settings.sweeper_pid):
        return True
    workers = launch.worker_pids()
    if any(w.get("host") != here for w in workers) or settings.sweeper_host != here:
        return True  # elsewhere: cannot tell, so it may
    return any(alive(int(w["pid"])) for w in workers if w.get("pid"))


def judge_local(record: Optional[Dict[str, Any]], record_file: Path, launch_live: bool, cancel: Cancel) -> Verdict:
    recorded = (record or {}).get("status")
    if recorded in FINAL:
        return recorded, record.get("reason", "")  # type: ignore[union-attr]
    if recorded == Status.RUNNING:
        if job_alive(record, record_file):  # type: ignore[arg-type]
            return Status.RUNNING, ""
        return Status.FAILED, JOB_DIED
    if launch_live and not cancel:
        return Status.PENDING, ""
    return not_started(cancel or (Status.INTERRUPTED, "its sweep stopped"))


def _known_arrays(launch: LaunchDir, settings: Optional[LaunchSettings]) -> List[Dict[str, Any]]:
    """The launch's arrays as recorded, or found again by its job name (a sweeper killed
    between sbatch and writing them) and recorded now; none if SLURM never had them."""
    arrays = launch.slurm_arrays()
    if arrays:
        return arrays
    found = slurm.find_arrays(settings.job_name) if settings and settings.job_name else []
    if not found:
        return []
    # The arrays were submitted in order, split as MaxArraySize forces (slurm.submit).
    chunks = slurm.split_arrays(sum(1 for _ in launch.entries()), slurm.max_array_size())
    arrays = [{"id": a, "first": first, "count": n} for a, (first, n) in zip(sorted(found, key=int), chunks)]
    launch.save_slurm(settings.job_name, arrays)  # type: ignore[union-attr]
    return arrays


def not_started(verdict: Verdict) -> Verdict:
    """A run cancelled (or whose sweep stopped) before its training started."""
    return verdict[0], f"not started: {verdict[1]}"


class Follower:
    """Keeps rows that have not ended up to date from their launches' files and SLURM.

    ``poll()`` reads only what can have changed: one listing of each launch's records
    folder, and the records of runs still open that have one; SLURM is asked every
    :data:`CHECK_S` (sacct only while some open task is not queued). A task is taken as
    gone without a trace only on two checks in a row (sacct can lag a few seconds)."""

    def __init__(self, rows: Iterable[Row], steady: bool = True) -> None:
        self.steady = steady  # believe a vanished task only on the second check (a follower that goes on)
        self.open: Dict[str, Row] = {}
        self.records: Dict[str, Dict[str, Any]] = {}  # the last record of each open run
        self.settings: Dict[Path, Optional[LaunchSettings]] = {}
        self._vanished: Set[str] = set()
        self._listings: Dict[Path, Tuple[int, Set[str]]] = {}  # records folder: (mtime, names)
        self._next_check = 0.0
        self.add(rows)

    def add(self, rows: Iterable[Row]) -> None:
        for row in rows:
            if row.status not in FINAL and row.launch is not None:
                self.open[row.name] = row
                if row.launch.root not in self.settings:
                    self.settings[row.launch.root] = row.launch.load_settings()

    def poll(self, force_check: bool = False) -> List[Tuple[Row, Verdict]]:
        """Read what changed; the open rows whose verdict changed, with it."""
        launches = launches_of(self.open.values())
        check = force_check or time.monotonic() >= self._next_check
        if check:
            self._next_check = time.monotonic() + CHECK_S
        changes = []
        for launch in launches:
            rows = [row for row in self.open.values() if row.launch is launch]
            changes.extend(self._poll_launch(launch, rows, check))
        return changes

    def _poll_launch(self, launch: LaunchDir, rows: List[Row], check: bool) -> List[Tuple[Row, Verdict]]:
        settings = self.settings.get(launch.root)
        recorded = self._recorded(launch)
        for row in rows:
            if row.name in recorded:
                record = read_json(launch.run_file(row.name))
                if record is not None:
                    self.records[row.name] = record
                    row.apply(record)
        kind = settings.kind if settings else LOCAL
        if kind == SLURM and not check:
            return []
        cancels = launch.cancel_reasons()
        verdicts = []
        arrays = _known_arrays(launch, settings) if kind == SLURM else []
        if kind == SLURM and not arrays:
            lost = cancels.get(None) or (Status.INTERRUPTED, "its submission did not reach SLURM (the sweeper "
                                                             "stopped while submitting?)")
            verdicts = [(row, judge_slurm(self.records.get(row.name), None, None, None)
                         if row.name in self.records else not_started(lost)) for row in rows]
        elif kind == SLURM:
            for row in rows:
                row.task = row.task or slurm.task_id(arrays, row.position)
            view = self._ask_slurm(arrays, rows)
            for row in rows:
                verdict = judge_slurm(self.records.get(row.name), row.task, view,
                                      cancels.get(row.position, cancels.get(None)))
                verdicts.append((row, self._steady(row, verdict)))
        else:
            live = launch_alive(settings, launch)
            for row in rows:
                cancel = cancels.get(row.position, cancels.get(None))
                if live and not cancel and row.name not in self.records:
                    continue  # not taken by a worker yet: pending, as it was
                verdicts.append((row, judge_local(self.records.get(row.name), launch.run_file(row.name), live,
                                                  cancel)))
        return [(row, v) for row, v in verdicts if v != (row.status, row.reason)]

    def _recorded(self, launch: LaunchDir) -> Set[str]:
        """The runs with a record, listed again only when the records folder changed."""
        try:
            stamp = os.stat(launch.runs).st_mtime_ns
        except OSError:
            return set()
        cached = self._listings.get(launch.root)
        if cached is None or cached[0] != stamp:
            cached = self._listings[launch.root] = (stamp, launch.recorded_names())
        return cached[1]

    @staticmethod
    def _ask_slurm(arrays: List[Dict[str, Any]], rows: List[Row]) -> Optional[slurm.QueueView]:
        """squeue for the launch's arrays; sacct too, but only when one of ``rows``' tasks
        (already set) is no longer queued: sacct is the slower."""
        ids = [a["id"] for a in arrays]
        view = slurm.query(ids, with_sacct=False)
        if view is None:
            return None
        if any(row.task not in view.queued or view.queued[row.task][0] == "COMPLETING" for row in rows):
            slurm.add_accounting(view, ids)
        return view

    def _steady(self, row: Row, verdict: Verdict) -> Verdict:
        """A task gone without a trace is believed on the second check in a row."""
        vanished = verdict[1] == VANISHED and row.name not in self.records
        if not vanished or not self.steady:
            self._vanished.discard(row.name)
            return verdict
        if row.name in self._vanished:
            return verdict
        self._vanished.add(row.name)
        return row.status, row.reason

    def settle(self, row: Row, verdict: Verdict) -> None:
        """Apply a verdict to its row; a row that ended stops being followed."""
        row.status, row.reason = verdict
        if verdict[0] in FINAL:
            self.open.pop(row.name, None)
            self.records.pop(row.name, None)


def sweep_rows(sweep_dir: Path, names: Optional[Iterable[str]] = None) -> Dict[str, Row]:
    """Each run of the sweep dir's launches (the latest launch that has it wins) as a row with its
    launch, task index and record applied; status still to judge (:class:`Follower`)."""
    wanted = None if names is None else set(names)
    rows: Dict[str, Row] = {}
    for launch in launch_dirs(sweep_dir):
        for position, entry in enumerate(launch.entries()):
            if wanted is not None and entry.name not in wanted:
                continue
            row = Row(-1, entry.name, ())
            row.launch, row.position = launch, position
            row.attempts = entry.attempts
            rows[entry.name] = row
    return rows


def judge_all(rows: Iterable[Row]) -> Follower:
    """Judge every row once (a status command, a re-attaching sweeper); returns the follower."""
    follower = Follower(rows, steady=False)
    for row, verdict in follower.poll(force_check=True):
        follower.settle(row, verdict)
    return follower
