"""Running one robomimic training process and judging how it ended.

robomimic's ``train.py`` hides failures: it catches its own crash, prints
``run failed with error:`` and exits 0. It also asks on stdin whether to delete
``<output_dir>/<name>`` when that folder exists, and ``y`` deletes every earlier
run of that name. So a run fails on a non-zero exit *or* on that message, and
stdin gets one ``n`` and then end-of-file: nothing blocks, nothing is deleted.

The training runs in its own process group, so stopping it stops everything it
started (data-loader workers included), and it dies with the process that started
it (the kernel's parent-death signal), so a killed sweep leaves no training behind.
It is stopped when the sweep is asked to stop and when ``launch.timeout_min`` runs
out. When it exits by itself, whatever it left running in its process group is ended
before the run is recorded (and its GPU slot given back), and named in the run's reason.
"""
import ctypes
import os
import signal
import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from launcher.core.status import Status
from launcher.robomimic.logs import log_verdict

PROMPT_ANSWER = b"n\n"
POLL_S = 0.2
GRACE_S = 5.0  # between SIGTERM and SIGKILL when a training is stopped


@dataclass(frozen=True)
class TrainingResult:
    status: str  # succeeded, failed or interrupted
    exit_code: Optional[int]
    duration_s: float
    reason: str  # why it failed or stopped, "" on success


def _load_prctl() -> Optional[Callable[..., int]]:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None  # not Linux: no parent-death signal


_PRCTL = _load_prctl()  # resolved before any fork: the child only makes the call
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: SIGKILL when the process that started it dies."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _child_setup(ignore: Tuple[int, ...]) -> Callable[[], None]:
    """What the child does before exec: die with its parent, and ignore ``ignore`` (an
    ignored signal stays ignored across exec: SLURM's SIGTERM and USR2 reach every process
    of a task, and the job decides what they mean)."""
    def setup() -> None:
        _die_with_parent()
        for sig in ignore:
            signal.signal(sig, signal.SIG_IGN)
    return setup


def stop_group(process: subprocess.Popen, grace_s: float = GRACE_S) -> None:
    """SIGTERM the training's process group, then SIGKILL what is left after ``grace_s``."""
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
            if sig == signal.SIGTERM:
                # The leader is gone; make sure nothing it started outlives it.
                os.killpg(process.pid, signal.SIGKILL)
            break
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            break


def group_members(pgid: int) -> List[Tuple[int, str]]:
    """(pid, command name) of the live processes of the training's process group (its own
    session: ``start_new_session``), zombies aside; read from /proc."""
    members = []
    try:
        pids = [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return members  # no /proc: ending the group below still reaches them
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                head, _, rest = f.read().rpartition(")")
        except OSError:
            continue  # gone meanwhile
        fields = rest.split()
        if len(fields) > 3 and fields[0] != "Z" and int(fields[2]) == pgid and int(fields[3]) == pgid:
            members.append((pid, head.partition("(")[2]))
    return members


def end_leftovers(pgid: int) -> str:
    """End what a training that exited left running in its process group (a data-loader
    worker, a child it forgot): it would hold the run's GPU slot and write to its log after
    the run was recorded. SIGTERM, SIGKILL after :data:`GRACE_S`; returns what was ended ("" if nothing)."""
    left = group_members(pgid)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            break
        deadline = time.monotonic() + (GRACE_S if sig == signal.SIGTERM else 1.0)
        while (remaining := group_members(pgid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not remaining:
            break
    if not left:
        return ""
    shown = ", ".join(f"{pid} ({name})" for pid, name in left[:5]) + (", ..." if len(left) > 5 else "")
    return f"ended {len(left)} process(es) it left running: {shown}"


def run_training(
    argv: List[str],
    log_path: Path,
    cwd: Path,
    env: Optional[Dict[str, str]] = None,
    timeout_s: Optional[float] = None,
    should_stop: Callable[[], bool] = lambda: False,
    on_start: Callable[[int], None] = lambda pid: None,
    ignore: Tuple[int, ...] = (),
    append: bool = False,
) -> TrainingResult:
    """``argv`` with output to ``log_path`` (after what earlier attempts wrote, if ``append``),
    until it exits, times out or ``should_stop()``; the training ignores the signals ``ignore``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    grace_s = 0.0 if signal.SIGTERM in ignore else GRACE_S  # SIGTERM would be ignored: no use waiting
    start = time.monotonic()
    header = ("$ " + " ".join(argv) + "\n").encode()
    with open(log_path, "ab" if append else "wb") as log:
        output_start = log.tell() + len(header)
        log.write(header)
        log.flush()
        try:
            process = subprocess.Popen(
                argv, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_child_setup(ignore),
            )
        except OSError as e:  # the interpreter vanished or cannot run since the sweep checked it
            reason = f"cannot start {argv[0]}: {e.strerror or e}"
            log.write(f"{reason}\n".encode())
            return TrainingResult(Status.FAILED, None, time.monotonic() - start, reason)
    try:
        on_start(process.pid)
        _answer_prompt(process)
        stopped = _wait(process, start, timeout_s, should_stop, grace_s)
    finally:
        if process.poll() is None:  # interrupted by an exception (a signal to the sweeper)
            stop_group(process, grace_s)
    duration = time.monotonic() - start
    if stopped is not None:
        status = Status.FAILED if stopped.startswith("timed out") else Status.INTERRUPTED
        return TrainingResult(status, process.returncode, duration, stopped)
    ended = end_leftovers(process.pid)
    result = judge(process.returncode, log_path, duration, output_start=output_start)
    if not ended:
        return result
    with open(log_path, "ab") as log:
        log.write(f"[robomimic-sweep] the training exited; {ended}\n".encode())
    return replace(result, reason=f"{result.reason}; {ended}" if result.reason else ended)


def _answer_prompt(process: subprocess.Popen) -> None:
    assert process.stdin is not None
    try:
        process.stdin.write(PROMPT_ANSWER)
        process.stdin.close()
    except BrokenPipeError:
        pass  # it exited without reading stdin


def _wait(process: subprocess.Popen, start: float, timeout_s: Optional[float],
          should_stop: Callable[[], bool], grace_s: float = GRACE_S) -> Optional[str]:
    """None when the training exited by itself, else why it was stopped."""
    while True:
        try:
            code = process.wait(timeout=POLL_S)
            # A training that ended on a signal while the sweep stops was stopped by the sweeper.
            return "interrupted: the sweep was stopped" if code != 0 and should_stop() else None
        except subprocess.TimeoutExpired:
            pass
        if timeout_s is not None and time.monotonic() - start > timeout_s:
            stop_group(process, grace_s)
            return f"timed out after {format_minutes(timeout_s / 60)} min"
        if should_stop():
            stop_group(process, grace_s)
            return "interrupted: the sweep was stopped"


def format_minutes(minutes: float) -> str:
    return f"{minutes:g}"


def judge(exit_code: int, log_path: Path, duration: float, output_start: int = 0) -> TrainingResult:
    """Failed on a non-zero exit or robomimic's exit-0 failure, with the error as the reason;
    judged from a bounded window of the log (``output_start``: where the training's output begins)."""
    verdict = log_verdict(str(log_path), output_start)
    if exit_code == 0:
        if verdict.error is None:
            return TrainingResult(Status.SUCCEEDED, 0, duration, "")
        return TrainingResult(Status.FAILED, 0, duration, verdict.error)
    if exit_code < 0:
        reason = f"killed by {signal.Signals(-exit_code).name}"
    else:
        reason = f"exit code {exit_code}"
    last = verdict.last_line
    return TrainingResult(Status.FAILED, exit_code, duration, f"{reason}: {last}" if last else reason)
