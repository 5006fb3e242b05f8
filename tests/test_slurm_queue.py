"""SLURM's word on a task, and the one judge of a run's state: in process, on the exact lines
squeue and sacct printed on the project's cluster (SLURM 22.05.8; /work/research/slurm/REPORT.md
sections 2, 5 and 6), so a parser change that misreads one fails here, not on a cluster."""
import pytest

from launcher.core.status import Status
from launcher.run_mode import slurm
from launcher.run_mode.follow import JOB_DIED, SIGTERM_REASON, judge_local, judge_slurm

# squeue -h -r -o '%i|%T|%r'
SQUEUE = """\
1016_1|PENDING|JobArrayTaskLimit
1027|PENDING|PartitionConfig
1005_0|PENDING|BeginTime
1009_0|PENDING|job requeued in held state
1015|RUNNING|None
1005_1|COMPLETING|None
"""

# sacct -n -X -D -P -o JobID,State (probes 2, 5 and 6)
SACCT = """\
2_[56-999%64]|PENDING
2_97|COMPLETED
1016_[2-3%1]|PENDING
1016_2|RUNNING
1005_0|REQUEUED
1005_0|COMPLETED
1063_[0-499%8]|CANCELLED by 0
1015|CANCELLED by 0
1035|TIMEOUT
8_0|NODE_FAIL
10_0|PREEMPTED
1049_0|FAILED
1030|FAILED
"""


def test_squeue_lines_give_each_tasks_state_and_a_pending_tasks_reason():
    tasks = slurm.parse_squeue(SQUEUE)
    assert tasks["1016_1"] == ("PENDING", "JobArrayTaskLimit")
    assert tasks["1009_0"] == ("PENDING", "job requeued in held state")
    assert tasks["1015"] == ("RUNNING", ""), "SLURM's 'None' is no reason"
    assert tasks["1005_1"] == ("COMPLETING", "")


def test_a_tasks_own_sacct_lines_win_over_the_stale_range_line():
    states = slurm.parse_sacct(SACCT)
    assert states["2_97"] == ["COMPLETED"], "2_[56-999%64]|PENDING is stale beside 2_97's own line"
    assert states["2_98"] == ["PENDING"]
    assert states["1016_2"] == ["RUNNING"] and states["1016_3"] == ["PENDING"]
    assert states["1005_0"] == ["REQUEUED", "COMPLETED"], "one line per attempt, oldest first (-D)"
    assert states["1063_499"] == ["CANCELLED by 0"] and "1063_500" not in states, \
        "tasks cancelled while pending have no line at all"
    assert states["1015"] == ["CANCELLED by 0"], "a one-task array is a plain job"


@pytest.mark.parametrize("spec, tasks", [("0-3", [0, 1, 2, 3]), ("56-58%64", [56, 57, 58]), ("1,4-5%2", [1, 4, 5])])
def test_ranges(spec, tasks):
    assert slurm.expand_range(spec) == tasks


@pytest.mark.parametrize("count, largest, arrays", [
    (1000, 1001, [(0, 1000)]), (1001, 1001, [(0, 1001)]), (1002, 1001, [(0, 1001), (1001, 1)]),
    (2500, 1000, [(0, 1000), (1000, 1000), (2000, 500)])])
def test_a_sweep_is_split_only_where_max_array_size_forces_it(count, largest, arrays):
    assert slurm.split_arrays(count, largest) == arrays


def test_task_ids_of_a_split_sweep():
    arrays = [{"id": "7", "first": 0, "count": 1001}, {"id": "9", "first": 1001, "count": 2}]
    assert [slurm.task_id(arrays, i) for i in (0, 1000, 1001, 1002, 1003)] == ["7_0", "7_1000", "9_0", "9_1", None]
    assert slurm.task_id([{"id": "5", "first": 0, "count": 1}], 0) == "5", "submitit submits one task as a job"


@pytest.mark.parametrize("timeout_min, delay, limit", [(30, 120, 34), (0.05, 120, 5), (1, 90, 5), (2880, 120, 2884)])
def test_slurms_limit_is_the_runs_own_plus_submitits_margin_lower_or_higher_than_the_preset(timeout_min, delay, limit):
    """USR2 comes signal_delay_s before the limit and up to a minute early; a minute to start."""
    assert slurm.time_limit(timeout_min, delay) == limit


def view() -> slurm.QueueView:
    return slurm.QueueView(slurm.parse_squeue(SQUEUE), slurm.parse_sacct(SACCT), asked_sacct=True)


RUNNING = {"status": "running", "attempt": 1}
STOPPED = {"status": "interrupted", "attempt": 1, "reason": SIGTERM_REASON}


@pytest.mark.parametrize("record, task, verdict", [
    # Queued: SLURM's reason; "queued forever" for one that can never be met.
    (None, "1016_1", (Status.PENDING, "queued in SLURM (JobArrayTaskLimit)")),
    (None, "1027", (Status.PENDING, "queued forever: SLURM can never start it (PartitionConfig; check "
                                    "hydra.launcher.cpus_per_task/mem_gb/gpus_per_node/timeout_min/partition)")),
    # Requeued (scontrol requeue, preemption): the attempt's SIGTERM record is not the end.
    (STOPPED, "1005_0", (Status.PENDING, "queued in SLURM (BeginTime); attempt 2 next")),
    (RUNNING, "1015", (Status.RUNNING, "")),
    # Its job recorded SIGTERM, and SLURM has not said yet whether it was a cancel or a requeue.
    (STOPPED, "1005_1", (Status.RUNNING, "ending in SLURM")),
    # Ended by SLURM without an outcome of the run's own: SLURM's words.
    (STOPPED, "1099_3", (Status.INTERRUPTED, SIGTERM_REASON)),
    (None, "1099_3", (Status.INTERRUPTED, "cancelled before it started: SLURM lists it neither as queued nor "
                                          "in sacct (scancel?)")),
    (RUNNING, "1035", (Status.FAILED, "SLURM's time limit ended it (TIMEOUT); raise hydra.launcher.timeout_min")),
    (RUNNING, "8_0", (Status.INTERRUPTED, "SLURM ended it: NODE_FAIL")),
    (STOPPED, "10_0", (Status.INTERRUPTED, "SLURM ended it: PREEMPTED")),
    (None, "1049_0", (Status.FAILED, f"{JOB_DIED}: SLURM says FAILED")),
    (None, "1063_7", (Status.INTERRUPTED, "not started: cancelled in SLURM (CANCELLED by 0)")),
    (RUNNING, "1063_7", (Status.INTERRUPTED, "cancelled in SLURM (CANCELLED by 0)")),
    (None, "1063_700", (Status.INTERRUPTED, "cancelled before it started: SLURM lists it neither as queued nor in "
                                            "sacct (scancel?)")),
    # The run's own outcome, once SLURM no longer runs it.
    ({"status": "succeeded", "reason": ""}, "1005_1", (Status.SUCCEEDED, "")),
    ({"status": "failed", "reason": "exit code 3: boom"}, "1030", (Status.FAILED, "exit code 3: boom")),
])
def test_the_judge_reads_the_record_against_slurm(record, task, verdict):
    assert judge_slurm(record, task, view(), None) == verdict


def test_a_cancel_says_who_cancelled_and_whether_the_run_had_started():
    why = (Status.INTERRUPTED, "cancelled with python -m launcher.status --cancel")
    assert judge_slurm(STOPPED, "1015", slurm.QueueView({}, slurm.parse_sacct(SACCT), True), why) == why
    assert judge_slurm(None, "1063_700", view(), why) == (Status.INTERRUPTED, f"not started: {why[1]}")
    never = (Status.FAILED, "SLURM cannot start it: pending with reason PartitionConfig")
    assert judge_slurm(None, "1063_700", view(), never) == (Status.FAILED, f"not started: {never[1]}")


def test_without_slurms_answer_the_record_stands():
    assert judge_slurm(RUNNING, "1015", None, None) == (Status.RUNNING, "")
    assert judge_slurm(None, "1015", None, None) == (Status.PENDING, "")


def test_local_runs(tmp_path):
    record_file = tmp_path / "r.json"
    assert judge_local(None, record_file, True, None) == (Status.PENDING, "")
    assert judge_local(None, record_file, False, None) == (Status.INTERRUPTED, "not started: its sweep stopped")
    why = (Status.INTERRUPTED, "cancelled: the sweeper was stopped (SIGINT)")
    assert judge_local(None, record_file, True, why) == (Status.INTERRUPTED, f"not started: {why[1]}")
    dead = {"status": "running", "host": __import__("socket").gethostname(), "job_pid": 2 ** 22 + 12345}
    assert judge_local(dead, record_file, True, None) == (Status.FAILED, JOB_DIED)
