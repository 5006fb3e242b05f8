"""Submitting a batch of runs to SLURM with submitit, and waiting for them without hanging.

Hydra's submitit launcher submits a job array and then waits on each job in turn
(``job.results()``). Two things go wrong on a real cluster: a task cancelled while
still queued never appears in ``sacct``, so submitit waits for it forever; and the
first job that ends without a result (``scancel``, a node failure) raises out of
the whole batch while the other jobs go on unwatched. Here every task is watched
at once: a task is done when its result file appears, failed when ``sacct`` shows
it in a final state without one, and gone (cancelled before it started) when
neither ``squeue`` nor ``sacct`` lists it on two checks in a row. Interrupted, the
sweep cancels the tasks it submitted.
"""
import math
import re
import subprocess
import time
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, filter_overrides

POLL_S = 1.0
CHECK_S = 3.0  # how often squeue/sacct are asked
RESULT_GRACE_S = 15.0  # a result file may reach a shared file system after sacct says the task ended
# sacct's states that end a task (https://slurm.schedmd.com/sacct.html#SECTION_JOB-STATE-CODES).
FINAL_STATES = ("BOOT_FAIL", "CANCELLED", "DEADLINE", "FAILED", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED",
                "TIMEOUT", "COMPLETED")
# Pending reasons that mean the request can never be met as it stands (more CPUs, memory,
# time or GPUs than the partition or account allows): such a task would wait forever.
NEVER_REASONS = ("BadConstraints", "InvalidAccount", "InvalidQOS", "PartitionConfig", "PartitionNodeLimit",
                 "PartitionTimeLimit", "QOSMaxCpuPerJobLimit", "QOSMaxGRESPerJob", "QOSMaxMemoryPerJob",
                 "QOSMaxWallDurationPerJobLimit")


class SlurmTaskEnded(Exception):
    """A task that ended in SLURM without a result; the message is the run's reason."""


def margin_min(signal_delay_s: int) -> int:
    """Minutes to add to a run's own limit for SLURM's: submitit's signal comes ``signal_delay_s``
    before the limit and can come up to a minute early, and start-up takes about another."""
    return math.ceil((signal_delay_s + 60) / 60) + 1


def make_executor(launcher: Any) -> Any:
    """A submitit executor with the launcher's parameters, as Hydra's submitit launcher builds it."""
    import submitit
    from omegaconf import OmegaConf

    from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf

    params = dict(launcher.params)
    init_keys = {"submitit_folder", "max_num_timeout", "python"}
    executor = submitit.AutoExecutor(
        folder=params["submitit_folder"], cluster="slurm",
        **{f"slurm_{k}": params[k] for k in ("max_num_timeout", "python") if k in params},
    )
    shared = set(OmegaConf.structured(BaseQueueConf).keys())
    executor.update_parameters(**{
        (k if k in shared else f"slurm_{k}"): v for k, v in params.items() if k not in init_keys
    })
    return executor


def launch(launcher: Any, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> List[JobReturn]:
    """Submit one array for the batch and return each job's JobReturn (failed ones included)."""
    import logging

    log = logging.getLogger("hydra_plugins.robomimic_sweeper")
    executor = make_executor(launcher)
    arguments = []
    for idx, overrides in enumerate(job_overrides, start=initial_job_idx):
        log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")
        arguments.append((list(overrides), "hydra.sweep.dir", idx, f"job_id_for_{idx}", Singleton.get_state()))
    jobs = executor.map_array(launcher, *zip(*arguments))
    try:
        return wait(jobs, job_overrides)
    except BaseException:
        cancel([job for job in jobs if not job.paths.result_pickle.exists()])
        raise


def wait(jobs: Sequence[Any], job_overrides: Sequence[Sequence[str]]) -> List[JobReturn]:
    results: Dict[int, JobReturn] = {}
    missing: Dict[int, int] = {}  # consecutive checks a task was listed nowhere
    ended_at: Dict[int, Tuple[float, str]] = {}  # when sacct first showed a final state
    next_check = 0.0
    while len(results) < len(jobs):
        for i, job in enumerate(jobs):
            if i not in results and job.paths.result_pickle.exists():
                results[i] = _collect(job, job_overrides[i])
        if time.monotonic() >= next_check and len(results) < len(jobs):
            next_check = time.monotonic() + CHECK_S
            _check_queue(jobs, job_overrides, results, missing, ended_at)
        if len(results) < len(jobs):
            time.sleep(POLL_S)
    return [results[i] for i in range(len(jobs))]


def _check_queue(jobs: Sequence[Any], job_overrides: Sequence[Sequence[str]], results: Dict[int, JobReturn],
                 missing: Dict[int, int], ended_at: Dict[int, Tuple[float, str]]) -> None:
    array_ids = {job.job_id.split("_")[0] for job in jobs}
    queued, states = _squeue(array_ids), _sacct(array_ids)
    if queued is None or states is None:
        return  # SLURM did not answer: judge nothing this time
    for i, job in enumerate(jobs):
        if i in results:
            continue
        state = states.get(job.job_id)
        reason = queued.get(job.job_id, "")
        if reason in NEVER_REASONS:
            missing[i] = missing.get(i, 0) + 1
            if missing[i] >= 2:
                cancel([job])
                results[i] = _failed(job_overrides[i], SlurmTaskEnded(
                    f"SLURM cannot start it: pending with reason {reason} (the request exceeds what the "
                    "partition, account or QOS allows: check hydra.launcher.cpus_per_task/mem_gb/gpus_per_node/"
                    "timeout_min/partition)"))
            continue
        if state is not None and state.split()[0] in FINAL_STATES:
            first, _ = ended_at.setdefault(i, (time.monotonic(), state))
            # A result file can lag behind sacct on a shared file system; a cancel leaves none.
            if time.monotonic() - first >= RESULT_GRACE_S or state.split()[0] not in ("COMPLETED", "FAILED"):
                results[i] = _failed(job_overrides[i], SlurmTaskEnded(_describe(state)))
        elif job.job_id in queued or state is not None:
            missing.pop(i, None)
        else:
            missing[i] = missing.get(i, 0) + 1
            if missing[i] >= 2:
                results[i] = _failed(job_overrides[i], SlurmTaskEnded(
                    "cancelled before it started: SLURM lists it neither as queued nor in sacct (scancel?)"))


def _describe(state: str) -> str:
    word = state.split()[0]
    if word == "CANCELLED":
        return f"cancelled in SLURM ({state}; scancel or a preemption)"
    if word == "TIMEOUT":
        return f"SLURM's time limit ended it ({state}); raise hydra.launcher.timeout_min"
    return f"SLURM ended it: {state}"


def _collect(job: Any, overrides: Sequence[str]) -> JobReturn:
    try:
        return job.results()[0]
    except Exception as e:  # submitit's UncompletedJobError / FailedJobError
        return _failed(overrides, e)


def _failed(overrides: Sequence[str], error: BaseException) -> JobReturn:
    result = JobReturn(overrides=list(overrides), status=JobStatus.FAILED)
    result._return_value = error
    return result


def _squeue(array_ids: Set[str]) -> Optional[Dict[str, str]]:
    """Task ids (``A_i``) SLURM still has queued or running, with a pending task's reason;
    None if squeue did not answer."""
    out = _run(["squeue", "-h", "-r", "-j", ",".join(sorted(array_ids)), "-o", "%i|%T|%r"])
    if out is None:
        return None
    tasks = {}
    for line in out.splitlines():
        task, _, rest = line.strip().partition("|")
        state, _, reason = rest.partition("|")
        if task:
            tasks[task] = reason.strip() if state == "PENDING" else ""
    return tasks


_RANGE = re.compile(r"^(\d+)_\[(.*)\]$")


def _sacct(array_ids: Set[str]) -> Optional[Dict[str, str]]:
    """``A_i`` -> state as sacct shows it (e.g. ``CANCELLED by 0``); a pending range
    ``A_[1-3%2]`` gives each of its tasks that line's state. None if sacct did not answer."""
    out = _run(["sacct", "-n", "-X", "-P", "-j", ",".join(sorted(array_ids)), "-o", "JobID,State"])
    if out is None:
        return None
    states: Dict[str, str] = {}
    for line in out.splitlines():
        if "|" not in line:
            continue
        job_id, state = line.split("|", 1)
        match = _RANGE.match(job_id)
        if match:
            for task in _expand(match.group(2)):
                states[f"{match.group(1)}_{task}"] = state.strip()
        else:
            states[job_id] = state.strip()
    return states


def _expand(spec: str) -> List[int]:
    tasks: List[int] = []
    for part in spec.split("%")[0].split(","):
        if "-" in part:
            low, high = part.split("-")
            tasks.extend(range(int(low), int(high) + 1))
        elif part.strip():
            tasks.append(int(part))
    return tasks


def _run(command: List[str]) -> Optional[str]:
    """The command's output, or None if it failed (a busy controller: the next check asks again)."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def cancel(jobs: Sequence[Any]) -> None:
    ids = [job.job_id for job in jobs]
    if ids:
        _run(["scancel", *ids])
