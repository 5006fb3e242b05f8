"""The one type for a run's state, as run mode, the manifest and the report name it.

A :class:`Status` is a ``str`` (``Status.FAILED == "failed"``, as JSON ``"failed"``),
so records written by a job and rows read back from ``manifest.jsonl`` compare with
it directly.
"""
import enum


class Status(str, enum.Enum):
    PENDING = "pending"  # not started yet
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # a non-zero exit, robomimic's exit-0 failure, a time limit, the queue ending it
    SKIPPED = "skipped"  # finished successfully before, in an earlier sweep
    INTERRUPTED = "interrupted"  # stopped by the user (Ctrl-C, SIGTERM), not the run's fault
    # Only the report says these, of runs it can judge by their files alone:
    UNFINISHED = "unfinished"  # its log does not say it finished: still running, or stopped
    UNKNOWN = "unknown"  # it left no log to judge by, or the sweep's record of it cannot be read
    MISSING = "missing"  # it finished, but its output folder is gone (deleted or moved): nothing left to show

    def __str__(self) -> str:
        return self.value

    # Formatted, hashed and compared as its text, so that a plain "failed" finds it in a dict.
    __format__ = str.__format__
    __hash__ = str.__hash__


# A run in one of these has its outcome: nothing will change it in this sweep.
FINAL = (Status.SUCCEEDED, Status.FAILED, Status.SKIPPED, Status.INTERRUPTED)
# A run in one of these trained to the end: its metrics count.
FINISHED = (Status.SUCCEEDED, Status.SKIPPED)
# The states of a run-mode run, in the order counts are shown.
RUN_MODE = (Status.PENDING, Status.RUNNING, Status.SUCCEEDED, Status.FAILED, Status.SKIPPED, Status.INTERRUPTED)
