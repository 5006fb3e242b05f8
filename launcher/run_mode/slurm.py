"""SLURM for run mode: one job array for the whole sweep, and SLURM's word on its tasks.

Why not Hydra's submitit launcher as it is: it pickles the launcher, the config and
Hydra's state into every task (86 KB and ~25 ms each), submits in batches that wait
for their slowest run, waits job by job (a task cancelled while queued never shows
in sacct, so it waits forever), and needs the sweeper alive until the end. Here a
launch is one array (split only where ``MaxArraySize`` forces it) of a tiny callable,
:func:`launcher.run_mode.job.slurm_task`, told only (sweep dir, launch id, task
index); everything else it reads from the launch's folder, written before
``sbatch``. What happened to a task then comes from its run's record
(:mod:`launcher.run_mode.follow`) and from one ``squeue -r`` and one ``sacct -X -D``
call for all arrays, parsed here (the lines they print are in tests/test_slurm_queue.py).
"""
import math
import re
import subprocess
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

# sacct's states that end a task (https://slurm.schedmd.com/sacct.html#SECTION_JOB-STATE-CODES).
FINAL_STATES = ("BOOT_FAIL", "CANCELLED", "DEADLINE", "FAILED", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED",
                "TIMEOUT", "COMPLETED")
# Pending reasons that mean the request can never be met as it stands (more CPUs, memory,
# time or GPUs than the partition or account allows, a dependency that can no longer be met):
# such a task would wait forever.
NEVER_REASONS = ("BadConstraints", "DependencyNeverSatisfied", "InvalidAccount", "InvalidQOS", "PartitionConfig",
                 "PartitionNodeLimit", "PartitionTimeLimit", "QOSMaxCpuPerJobLimit", "QOSMaxGRESPerJob",
                 "QOSMaxMemoryPerJob", "QOSMaxWallDurationPerJobLimit")
DEFAULT_MAX_ARRAY_SIZE = 1001  # SLURM's default MaxArraySize
LOCAL_LIMIT_MIN = 10 ** 7  # submitit_local: a worker job runs many runs; launch.timeout_min limits each


def margin_min(signal_delay_s: int) -> int:
    """Minutes to add to a run's own limit for SLURM's: submitit's signal comes ``signal_delay_s``
    before the limit and can come up to a minute early, and start-up takes about another."""
    return math.ceil((signal_delay_s + 60) / 60) + 1


def time_limit(timeout_min: float, signal_delay_s: int) -> int:
    """SLURM's ``--time`` for runs that must get ``launch.timeout_min`` minutes each: whole
    minutes (SLURM's granularity) plus :func:`margin_min`, whatever the preset's default."""
    return math.ceil(timeout_min) + margin_min(signal_delay_s)


# -- asking SLURM ------------------------------------------------------------------


def _run(command: List[str], timeout: float = 60) -> Optional[str]:
    """The command's output, or None if it failed (a busy controller: the next check asks again)."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def max_array_size() -> int:
    """``MaxArraySize`` of the cluster (``scontrol show config``): an array holds that many tasks at most."""
    out = _run(["scontrol", "show", "config"]) or ""
    match = re.search(r"^MaxArraySize\s*=\s*(\d+)", out, re.M)
    return int(match.group(1)) if match else DEFAULT_MAX_ARRAY_SIZE


def split_arrays(count: int, largest: int) -> List[Tuple[int, int]]:
    """(first task index, number of tasks) of each array that ``count`` tasks need."""
    return [(first, min(largest, count - first)) for first in range(0, count, largest)]


@dataclass
class QueueView:
    """What SLURM says about the tasks of some arrays, at one moment."""

    queued: Dict[str, Tuple[str, str]] = field(default_factory=dict)  # A_i -> (state, pending reason)
    accounted: Dict[str, List[str]] = field(default_factory=dict)  # A_i -> sacct states, oldest attempt first
    asked_sacct: bool = False

    def last_state(self, task: str) -> Optional[str]:
        states = self.accounted.get(task)
        return states[-1] if states else None


def parse_squeue(text: str) -> Dict[str, Tuple[str, str]]:
    """``squeue -h -r -o '%i|%T|%r'`` lines -> {A_i: (state, reason)}; the reason only while pending."""
    tasks = {}
    for line in text.splitlines():
        parts = line.strip().split("|")
        if len(parts) >= 3 and parts[0]:
            state, reason = parts[1].strip(), parts[2].strip()
            tasks[parts[0]] = (state, reason if state == "PENDING" else "")
    return tasks


_RANGE = re.compile(r"^(\d+)_\[(.*)\]$")


def parse_sacct(text: str) -> Dict[str, List[str]]:
    """``sacct -n -X -D -P -o JobID,State`` lines -> {A_i: [state of each attempt, oldest first]}.

    A task's own lines win over a range line (``A_[5-9%2]|PENDING``), which sacct keeps
    stale beside them; a bare ``A|CANCELLED by 0`` (every pending task cancelled) stands
    for each task that has no line of its own, under the key ``A_*``."""
    own: Dict[str, List[str]] = {}
    ranged: Dict[str, List[str]] = {}
    for line in text.splitlines():
        job_id, _, state = line.strip().partition("|")
        state = state.split("|")[0].strip()
        if not job_id or not state:
            continue
        match = _RANGE.match(job_id)
        if match:
            for task in expand_range(match.group(2)):
                ranged[f"{match.group(1)}_{task}"] = [state]
        elif "_" in job_id:
            own.setdefault(job_id, []).append(state)
        elif job_id.isdigit():  # a one-task "array" (submitit submits it as a plain job), or all of A
            own.setdefault(job_id, []).append(state)
            ranged[f"{job_id}_*"] = [state]
    return {**ranged, **own}


def expand_range(spec: str) -> List[int]:
    """``0-3,7%2`` -> [0, 1, 2, 3, 7]."""
    tasks: List[int] = []
    for part in spec.split("%")[0].split(","):
        if "-" in part:
            low, high = part.split("-")
            tasks.extend(range(int(low), int(high) + 1))
        elif part.strip():
            tasks.append(int(part))
    return tasks


def query(array_ids: Sequence[str], with_sacct: bool = True) -> Optional[QueueView]:
    """One ``squeue`` and (if asked) one ``sacct`` call for every task of ``array_ids``; None if
    SLURM did not answer."""
    view = QueueView()
    if not array_ids:
        return view
    return view if add_queue(view, array_ids) and (not with_sacct or add_accounting(view, array_ids)) else None


def add_queue(view: QueueView, array_ids: Sequence[str]) -> bool:
    """``squeue -r``: the tasks still queued or running, with a pending task's reason. ``squeue -j``
    of a single id slurmctld has forgotten (ended over MinJobAge ago) fails: then every job is
    listed and filtered here."""
    ids = ",".join(sorted(set(array_ids)))
    queued = _run(["squeue", "-h", "-r", "-j", ids, "-o", "%i|%T|%r"])
    if queued is None:
        everything = _run(["squeue", "-h", "-r", "-o", "%i|%T|%r"])
        if everything is None:
            return False
        queued = "\n".join(line for line in everything.splitlines() if line.split("|")[0].split("_")[0] in array_ids)
    view.queued = parse_squeue(queued)
    return True


def add_accounting(view: QueueView, array_ids: Sequence[str]) -> bool:
    """``sacct -X -D``: every attempt of every task that started, and what ended it."""
    accounted = _run(["sacct", "-n", "-X", "-D", "-P", "-j", ",".join(sorted(set(array_ids))), "-o", "JobID,State"])
    if accounted is None:
        return False
    view.accounted = parse_sacct(accounted)
    view.asked_sacct = True
    return True


def find_arrays(job_name: str) -> List[str]:
    """Array ids of the jobs named ``job_name`` still in the queue (a sweeper killed between
    ``sbatch`` and writing slurm.json left only its job name)."""
    out = _run(["squeue", "-h", "--name", job_name, "-o", "%F"]) or ""
    return sorted({line.strip() for line in out.splitlines() if line.strip()})


def cancel(ids: Sequence[str]) -> bool:
    """``scancel`` tasks (``A_i``) or whole arrays (``A``)."""
    return not ids or _run(["scancel", *ids]) is not None


# -- submitting --------------------------------------------------------------------


def make_executor(params: Dict[str, Any], job_name: str) -> Any:
    """A submitit executor with the launcher's parameters (as Hydra's submitit launcher
    builds it), named ``job_name``."""
    import submitit
    from omegaconf import OmegaConf

    from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf

    params = dict(params)
    init_keys = {"submitit_folder", "max_num_timeout", "python"}
    executor = submitit.AutoExecutor(
        folder=params["submitit_folder"], cluster="slurm",
        **{f"slurm_{k}": params[k] for k in ("python",) if k in params},
    )
    shared = set(OmegaConf.structured(BaseQueueConf).keys())
    params["name"] = job_name
    executor.update_parameters(**{
        (k if k in shared else f"slurm_{k}"): v for k, v in params.items() if k not in init_keys
    })
    return executor


def submit(params: Dict[str, Any], task: Callable[[str, str, int], Any], sweep_dir: str, launch_id: str,
           count: int, job_name: str, say: Callable[[str], None] = print) -> List[Dict[str, Any]]:
    """Submit ``count`` tasks as job arrays of ``task`` (:func:`~launcher.run_mode.job.slurm_task`),
    each called with (sweep dir, launch id, task index); returns ``[{"id", "first", "count"}]``,
    one per array."""
    executor = make_executor(params, job_name)
    largest = max_array_size()
    chunks = split_arrays(count, largest)
    if len(chunks) > 1:
        say(f"Submitting {count} runs as {len(chunks)} job arrays: this cluster's MaxArraySize is {largest} "
            f"(each array runs at most {params.get('array_parallelism')} at once)")
    arrays = []
    for first, size in chunks:
        jobs = executor.map_array(task, [sweep_dir] * size, [launch_id] * size, range(first, first + size))
        arrays.append({"id": jobs[0].job_id.split("_")[0], "first": first, "count": size})
    return arrays


def task_id(arrays: Sequence[Dict[str, Any]], index: int) -> Optional[str]:
    """The SLURM task (``A_i``) of a launch's task ``index``; a one-task array is a plain job ``A``
    (submitit submits it so)."""
    for array in arrays:
        if array["first"] <= index < array["first"] + array["count"]:
            return f"{array['id']}_{index - array['first']}" if array["count"] > 1 else str(array["id"])
    return None
