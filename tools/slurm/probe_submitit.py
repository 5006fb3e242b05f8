"""Probe how submitit behaves on the local SLURM cluster of tools/slurm/start.sh.

Usage (cluster started, as root):
    python tools/slurm/probe_submitit.py EXPERIMENT [EXPERIMENT ...]
    python tools/slurm/probe_submitit.py all

Experiments:
    array           a/f: map_array of 3 tasks; parallelism, timings, results()
    cancel_running  b: scancel a RUNNING job; state, exception, time to raise
    cancel_pending  c: scancel a PENDING array task (array_parallelism=1)
    timeout         d: timeout_min/signal_delay_s: sbatch text, when USR2 comes, what happens
    errors          e: Python exception / non-zero exit in the task
    vanished        c: detect array tasks cancelled while PENDING (no sacct record) with squeue+sacct

Everything is printed with seconds since the experiment started. Job folders
go to $PROBE_DIR (default /tmp/robomimic-slurm-probe). Not a test: it is a
research tool whose output is summarised in tools/slurm/README.md.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

import submitit

SLURM_DIR = Path(os.environ.get("SLURM_LOCAL_DIR", "/tmp/robomimic-slurm"))
os.environ.setdefault("SLURM_CONF", str(SLURM_DIR / "etc" / "slurm.conf"))
PROBE_DIR = Path(os.environ.get("PROBE_DIR", "/tmp/robomimic-slurm-probe"))
T0 = time.time()


def say(*args):
    print(f"[{time.time() - T0:7.2f}s]", *args, flush=True)


def sh(cmd: str) -> str:
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.rstrip()


def executor(name: str, **params) -> submitit.AutoExecutor:
    ex = submitit.AutoExecutor(folder=PROBE_DIR / name / "%j", cluster="slurm")
    ex.update_parameters(**params)
    return ex


def describe_exception(exc: BaseException) -> str:
    return f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}"


def result_with_timeout(job, timeout_s: float, method: str = "result"):
    """job.result()/results() in a thread; returns (seconds, value_or_exception or 'STILL WAITING')."""
    out: dict = {}

    def target():
        t = time.time()
        try:
            out["value"] = getattr(job, method)()
        except BaseException as e:  # noqa: BLE001 - we report whatever it raises
            out["value"] = e
        out["dt"] = time.time() - t

    th = threading.Thread(target=target, daemon=True)
    start = time.time()
    th.start()
    th.join(timeout_s)
    if th.is_alive():
        return time.time() - start, "STILL WAITING"
    return out["dt"], out["value"]


# ---------------------------------------------------------------- task functions
def sleeper(i: int, seconds: float):
    start = time.time()
    time.sleep(seconds)
    return {"i": i, "start": start, "end": time.time(), "pid": os.getpid(),
            "job": os.environ.get("SLURM_JOB_ID"), "task": os.environ.get("SLURM_ARRAY_TASK_ID"),
            "cpus": os.environ.get("SLURM_CPUS_ON_NODE")}


def ticker(seconds: float, with_child: bool = False):
    """Print a line every second for `seconds`; optionally through a child process (like launcher/training.py)."""
    start = time.time()
    print(f"ticker start {start:.2f}", flush=True)
    if with_child:
        code = ("import time,sys\nfor k in range(%d):\n    print('child', k, flush=True); time.sleep(1)\n"
                % int(seconds))
        p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        try:
            for line in p.stdout:
                print(f"{time.time() - start:6.1f}s {line.rstrip()}", flush=True)
        finally:
            print(f"parent leaving loop, child returncode={p.poll()}", flush=True)
        return p.wait()
    for k in range(int(seconds)):
        print(f"{time.time() - start:6.1f}s tick {k}", flush=True)
        time.sleep(1)
    return "ticker done"


class CheckpointableTicker:
    """Like Hydra's BaseSubmititLauncher: a callable with a `checkpoint` method."""

    def __call__(self, seconds: float):
        return ticker(seconds)

    def checkpoint(self, *args, **kwargs):
        print("checkpoint() called", flush=True)
        return submitit.helpers.DelayedSubmission(self, *args, **kwargs)


def raiser():
    raise ValueError("boom from the task")


def exiter(code: int):
    print("exiting with", code, flush=True)
    os._exit(code)


def killer():
    os.kill(os.getpid(), signal.SIGKILL)


# ---------------------------------------------------------------- experiments
def exp_array():
    say("== a/f: map_array of 3 x sleep(10) (default resources) ==")
    ex = executor("array", timeout_min=5)
    t = time.time()
    jobs = ex.map_array(sleeper, [0, 1, 2], [10, 10, 10])
    say("submitted", [j.job_id for j in jobs], f"in {time.time() - t:.2f}s")
    time.sleep(2)
    say("squeue:\n" + sh(f"squeue -j {jobs[0].job_id.split('_')[0]} -o '%i %T %C %m %r'"))
    res = [j.results() for j in jobs]
    total = time.time() - t
    say(f"results() of all 3 returned after {total:.2f}s")
    for r in res:
        r = r[0]
        say(f"  task {r['task']} job {r['job']} cpus_on_node={r['cpus']} ran {r['start'] - t:.2f}s -> {r['end'] - t:.2f}s")
    say("states:", [j.state for j in jobs])
    say("sacct:\n" + sh(f"sacct -j {jobs[0].job_id.split('_')[0]} -X -o JobID%14,State,Start,End,AllocCPUS,ReqMem"))
    sb = sorted((PROBE_DIR / "array").glob(f"{jobs[0].job_id.split('_')[0]}*/*submission.sh"))
    if sb:
        say("sbatch file:\n" + sb[0].read_text())

    say("== f: map_array of 3 trivial tasks (submission to results) ==")
    ex = executor("array_fast", timeout_min=5)
    t = time.time()
    jobs = ex.map_array(sleeper, [0, 1, 2], [0, 0, 0])
    res = [j.results()[0] for j in jobs]
    say(f"3 trivial tasks: results() after {time.time() - t:.2f}s; task ends at",
        [round(r["end"] - t, 2) for r in res])
    say("sacct:\n" + sh(f"sacct -j {jobs[0].job_id.split('_')[0]} -X -o JobID%14,State,Submit,Start,End"))


def wait_state(job, wanted: str, timeout: float = 60) -> str:
    end = time.time() + timeout
    while time.time() < end:
        st = job.watcher.get_state(job.job_id, mode="force")
        if st == wanted:
            return st
        time.sleep(0.5)
    return job.watcher.get_state(job.job_id, mode="force")


def exp_cancel_running():
    say("== b: scancel a RUNNING job ==")
    ex = executor("cancel_running", timeout_min=5)
    job = ex.submit(ticker, 300)
    say("submitted", job.job_id, "state", wait_state(job, "RUNNING"))
    time.sleep(3)
    say("scancel", job.job_id, sh(f"scancel {job.job_id}; echo rc=$?"))
    tc = time.time()
    for _ in range(6):
        say("squeue:", sh(f"squeue -h -j {job.job_id} -o '%i %T %r'") or "<empty>",
            "| sacct:", sh(f"sacct -n -X -P -j {job.job_id} -o JobID,State,ExitCode").replace("\n", " ; "),
            "| job.state:", job.state, "| done():", job.done())
        time.sleep(1)
    dt, val = result_with_timeout(job, 120)
    say(f"job.result() after {dt:.2f}s (cancel was {time.time() - tc:.2f}s ago):",
        val if isinstance(val, str) else describe_exception(val) if isinstance(val, BaseException) else repr(val))
    say("job.state:", job.state, "| sacct:", sh(f"sacct -n -P -j {job.job_id} -o JobID,State,ExitCode").replace("\n", " ; "))
    # a fresh Job object (as a restarted launcher would have)
    fresh = submitit.SlurmJob(folder=job.paths.folder.parent / "%j", job_id=job.job_id)
    dt, val = result_with_timeout(fresh, 60, "results")
    say(f"fresh SlurmJob.results() after {dt:.2f}s:",
        describe_exception(val) if isinstance(val, BaseException) else val)


def exp_cancel_pending():
    say("== c: scancel a PENDING array task (array_parallelism=1) ==")
    ex = executor("cancel_pending", timeout_min=5, slurm_array_parallelism=1)
    jobs = ex.map_array(sleeper, [0, 1, 2], [15, 15, 15])
    array_id = jobs[0].job_id.split("_")[0]
    say("submitted", [j.job_id for j in jobs])
    say("task0 state", wait_state(jobs[0], "RUNNING"))
    say("before cancel squeue:\n" + sh(f"squeue -r -j {array_id} -o '%i %T %r'"))
    say("before cancel sacct:\n" + sh(f"sacct -X -P -j {array_id} -o JobID,State"))
    say("scancel", jobs[2].job_id, sh(f"scancel {jobs[2].job_id}; echo rc=$?"))
    tc = time.time()
    waiter_out: dict = {}

    def waiter():
        t = time.time()
        try:
            waiter_out["value"] = jobs[2].result()
        except BaseException as e:  # noqa: BLE001
            waiter_out["value"] = e
        waiter_out["dt"] = time.time() - t

    th = threading.Thread(target=waiter, daemon=True)
    th.start()
    for k in range(60):
        if k % 3 == 0 or k < 4:
            say(f"t+{time.time() - tc:5.1f}s",
                "| squeue:", sh(f"squeue -h -r -j {array_id} -o '%i:%T'").replace("\n", " ") or "<empty>",
                "| sacct:", sh(f"sacct -n -X -P -j {array_id} -o JobID,State").replace("\n", " ") or "<empty>",
                "| states:", [j.state for j in jobs], "| task2 done():", jobs[2].done())
        if "dt" in waiter_out:
            break
        time.sleep(1)
    say("scontrol show job task2:", sh(f"scontrol show job {jobs[2].job_id} | head -4 | tr -s ' ' | tr '\\n' ' '"))
    if "dt" in waiter_out:
        v = waiter_out["value"]
        say(f"task2 result() returned after {waiter_out['dt']:.2f}s:",
            describe_exception(v) if isinstance(v, BaseException) else repr(v))
    else:
        say("task2 result() STILL WAITING after", f"{time.time() - tc:.1f}s")
    say("watcher raw sacct output:\n" + jobs[0].watcher._output.decode())
    say("other tasks:", [describe_exception(v) if isinstance(v, BaseException) else v
                         for v in (result_with_timeout(j, 60)[1] for j in jobs[:2])])
    say("final sacct:\n" + sh(f"sacct -P -j {array_id} -o JobID,JobName,State,ExitCode,Start,End"))


def exp_timeout():
    say("== d: timeout_min=2, signal_delay_s=30 ==")
    runs = [
        ("plain", ticker, (300,), dict(timeout_min=2, slurm_signal_delay_s=30)),
        ("child", ticker, (300, True), dict(timeout_min=2, slurm_signal_delay_s=30)),
        ("ckpt_max0", CheckpointableTicker(), (300,), dict(timeout_min=2, slurm_signal_delay_s=30)),
    ]
    jobs = []
    for name, fn, args, params in runs:
        ex = executor(f"timeout_{name}", **params)
        if name == "ckpt_max0":
            ex = submitit.AutoExecutor(folder=PROBE_DIR / f"timeout_{name}" / "%j", cluster="slurm",
                                       slurm_max_num_timeout=0)
            ex.update_parameters(**params)
        job = ex.submit(fn, *args)
        jobs.append((name, job))
        say(name, "submitted", job.job_id)
    say("sbatch file (plain):\n" + jobs[0][1].paths.submission_file.read_text())
    for name, job in jobs:
        dt, val = result_with_timeout(job, 400)
        say(f"{name}: result() after {dt:.1f}s ->",
            describe_exception(val) if isinstance(val, BaseException) else repr(val))
        say(f"{name}: sacct:", sh(f"sacct -n -P -j {job.job_id} -o JobID,State,ExitCode,Start,End,Elapsed,Timelimit").replace("\n", " ; "))
        say(f"{name}: stdout tail:\n" + sh(f"tail -n 6 {job.paths.stdout}"))
        say(f"{name}: stderr tail:\n" + sh(f"grep -v '^ *File\\|^    ' {job.paths.stderr} | tail -n 12"))


def exp_errors():
    say("== e: exceptions and exit codes ==")
    ex = executor("errors", timeout_min=5)
    for name, fn, args in [("raise", raiser, ()), ("exit3", exiter, (3,)), ("sigkill", killer, ())]:
        job = ex.submit(fn, *args)
        dt, val = result_with_timeout(job, 120)
        say(f"{name}: result() after {dt:.1f}s -> {describe_exception(val) if isinstance(val, BaseException) else repr(val)}")
        say(f"{name}: job.state={job.state} sacct:",
            sh(f"sacct -n -P -j {job.job_id} -o JobID,State,ExitCode").replace("\n", " ; "))


def _expand(spec: str) -> set:
    """'1,3-5%2' -> {1, 3, 4, 5}"""
    out = set()
    for part in spec.split("%")[0].split(","):
        if "-" in part:
            lo, hi = part.split("-")
            out.update(range(int(lo), int(hi) + 1))
        elif part:
            out.add(int(part))
    return out


def array_task_view(array_id: str) -> tuple:
    """(live, accounted): task indices squeue still lists (pending/running/completing) and
    task indices sacct has a record for (own line or inside a pending range like A_[1-2%1])."""
    live, accounted = set(), set()
    q = subprocess.run(["squeue", "-h", "-r", "-j", array_id, "-o", "%i"], capture_output=True, text=True)
    for line in q.stdout.split():  # rc 1 + 'Invalid job id' once slurmctld forgot the job: empty
        if "_" in line:
            live.add(int(line.split("_", 1)[1]))
    a = subprocess.run(["sacct", "-n", "-X", "-P", "-j", array_id, "-o", "JobID,State"],
                       capture_output=True, text=True, check=True)
    for line in a.stdout.splitlines():
        jid = line.split("|")[0]
        if "_" not in jid:
            continue  # bare meta record 'A|CANCELLED by 0' once every remaining pending task was cancelled
        idx = jid.split("_", 1)[1]
        accounted |= _expand(idx.strip("[]")) if idx.startswith("[") else {int(idx)}
    return live, accounted


def vanished_tasks(array_id: str, n: int, confirm_s: float = 2.0) -> set:
    """Tasks neither live in squeue nor recorded in sacct, twice `confirm_s` apart: cancelled while pending."""
    def once():
        live, accounted = array_task_view(array_id)
        return set(range(n)) - live - accounted
    first = once()
    if not first:
        return set()
    time.sleep(confirm_s)
    return first & once()


def exp_vanished():
    say("== c: detecting array tasks cancelled while PENDING ==")
    ex = executor("vanished", timeout_min=5, slurm_array_parallelism=1)
    jobs = ex.map_array(sleeper, [0, 1, 2, 3], [6, 6, 6, 6])
    array_id = jobs[0].job_id.split("_")[0]
    say("submitted", array_id, "x4, parallelism 1; scancel task 2 once task 0 runs")
    while "RUNNING" not in sh(f"squeue -h -j {array_id}_0 -o %T"):
        time.sleep(0.1)
    subprocess.run(["scancel", f"{array_id}_2"], check=True)
    t = time.time()
    false_alarms, first_seen = [], None
    while time.time() - t < 30:
        live, acc = array_task_view(array_id)
        gone = set(range(4)) - live - acc
        if gone - {2}:
            false_alarms.append((round(time.time() - t, 2), sorted(live), sorted(acc)))
        if 2 in gone and first_seen is None:
            first_seen = time.time() - t
        time.sleep(0.25)
    say(f"task 2 seen as vanished (single poll) {first_seen}s after scancel; single-poll false alarms: {false_alarms}")
    say("vanished_tasks() with confirmation:", vanished_tasks(array_id, 4))
    say("final sacct:", sh(f"sacct -n -X -P -j {array_id} -o JobID,State").replace("\n", " ; "))


EXPERIMENTS = {
    "array": exp_array,
    "cancel_running": exp_cancel_running,
    "cancel_pending": exp_cancel_pending,
    "timeout": exp_timeout,
    "errors": exp_errors,
    "vanished": exp_vanished,
}

if __name__ == "__main__":
    names = sys.argv[1:] or ["array"]
    if names == ["all"]:
        names = list(EXPERIMENTS)
    say("submitit", submitit.__version__, "SLURM_CONF", os.environ["SLURM_CONF"])
    for n in names:
        T0 = time.time()
        try:
            EXPERIMENTS[n]()
        except Exception:  # noqa: BLE001
            traceback.print_exc()
