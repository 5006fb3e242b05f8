"""The report's ``tensorboard/`` folder: one HParams session per run.

Why a folder of its own, not the runs' ``logs/tb``: TensorBoard's HParams dashboard needs
each run's swept values and its summary metrics beside each other, and the runs'
folders are robomimic's, not ours to write into. Layout::

    tensorboard/events.out.tfevents...         the experiment: swept keys and metrics
    tensorboard/<run name>/events.out.tfevents...
        _hparams_/session_start_info           the run's swept values
        <metric column> (one scalar)           e.g. valid_loss_best at its epoch
        curves/train_loss, curves/valid_loss,  per epoch, for TensorBoard's scalar views
        curves/success_rate/<env>
        _hparams_/session_end_info             succeeded/skipped: success; failed or
                                               interrupted: failure; running: running
"""
import os
import time
from typing import Any, Dict, Sequence

from launcher.core.status import Status
from launcher.report import hparams
from launcher.report.metrics import RunResult
from launcher.robomimic.paths import folder_time
from launcher.robomimic.tfevents import EventWriter

_STATUS = {Status.SUCCEEDED: hparams.STATUS_SUCCESS, Status.SKIPPED: hparams.STATUS_SUCCESS,
           Status.FAILED: hparams.STATUS_FAILURE, Status.INTERRUPTED: hparams.STATUS_FAILURE,
           Status.RUNNING: hparams.STATUS_RUNNING}


def session_folder(name: str) -> str:
    return name.replace(os.sep, "_") if name not in (".", "..") else f"_{name}"


def write_board(folder: str, results: Sequence[RunResult], keys: Sequence[str], columns: Sequence[str]) -> None:
    """The experiment and every run's session into ``folder`` (which must be new)."""
    now = time.time()
    values = {key: [r.source.params.get(key) for r in results] for key in keys}
    string_keys = {k for k, vs in values.items() if hparams.value_type(vs) == hparams.DATA_TYPE_STRING}
    with EventWriter(folder) as writer:
        writer.add_values([hparams.experiment_value(values, columns, now)], wall_time=now)
    for r in results:
        _write_session(os.path.join(folder, session_folder(r.name)), r, keys, string_keys, columns, now)


def _write_session(folder: str, run: RunResult, keys: Sequence[str], string_keys: Any, columns: Sequence[str],
                   now: float) -> None:
    started = folder_time(run.source.output_dir) if run.source.output_dir else 0.0
    swept: Dict[str, Any] = {key: run.source.params.get(key) for key in keys}
    with EventWriter(folder) as writer:
        writer.add_values([hparams.session_start_value(swept, string_keys, started or now)], wall_time=now)
        for curve, points in run.curves.items():
            for epoch, value in points:
                writer.add_scalar(f"curves/{curve}", value, epoch, wall_time=now)
        for column in columns:
            if column in run.metrics:
                writer.add_scalar(column, run.metrics[column], run.metric_epochs[column], wall_time=now)
        status = _STATUS.get(run.status)
        if status is not None:
            end = now if status != hparams.STATUS_RUNNING else None
            writer.add_values([hparams.session_end_value(status, end)], wall_time=now)
