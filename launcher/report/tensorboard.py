"""The report's ``tensorboard/`` folder: one HParams session per run, written by TensorBoard's own code.

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

The HParams summaries are built by tensorboard's ``summary_v2`` (no TensorFlow needed)
and appended, with the scalars, by the launcher's small event writer. tensorboard is
an optional extra (``pip install 'robomimic-hydra-sweeper[tensorboard]'``): whoever
opens this view has it; without it the report writes everything else and says so.
"""
import json
import math
import os
import time
from typing import Any, Dict, List, Optional, Sequence

from launcher.core.status import Status
from launcher.report.metrics import RunResult
from launcher.robomimic.paths import folder_time
from launcher.robomimic.tfevents import EventWriter

INSTALL_HINT = "pip install 'robomimic-hydra-sweeper[tensorboard]'"


def available() -> bool:
    """Whether tensorboard's HParams API can be imported here."""
    try:
        from tensorboard.plugins.hparams import summary_v2  # noqa: F401
    except ImportError:
        return False
    return True


def session_folder(name: str) -> str:
    return name.replace(os.sep, "_") if name not in (".", "..") else f"_{name}"


def write_board(folder: str, results: Sequence[RunResult], keys: Sequence[str], columns: Sequence[str]) -> None:
    """The experiment and every run's session into ``folder`` (which must be new)."""
    from tensorboard.plugins.hparams import summary_v2 as hp

    now = time.time()
    values = {key: [r.source.params.get(key) for r in results] for key in keys}
    string_keys = {k for k, vs in values.items() if not _numbers_or_bools(vs)}
    hparams = [hp.HParam(key, _domain(vs, key in string_keys)) for key, vs in values.items()]
    experiment = hp.hparams_config_pb(hparams=hparams, metrics=[hp.Metric(c, display_name=c) for c in columns],
                                      time_created_secs=now)
    with EventWriter(folder) as writer:
        writer.add_values(_serialized(experiment), wall_time=now)
    for r in results:
        _write_session(os.path.join(folder, session_folder(r.name)), r, keys, string_keys, columns, now)


def _write_session(folder: str, run: RunResult, keys: Sequence[str], string_keys: Any, columns: Sequence[str],
                   now: float) -> None:
    from tensorboard.plugins.hparams import summary_v2 as hp

    started = folder_time(run.source.output_dir) if run.source.output_dir else 0.0
    swept = {key: _hparam_value(run.source.params.get(key), key in string_keys) for key in keys}
    with EventWriter(folder) as writer:
        start = hp.hparams_pb(swept, trial_id=run.name, start_time_secs=started or now)
        writer.add_values(_serialized(start), wall_time=now)
        for curve, points in run.curves.items():
            for epoch, value in points:
                writer.add_scalar(f"curves/{curve}", value, epoch, wall_time=now)
        for column in columns:
            if column in run.metrics:
                writer.add_scalar(column, run.metrics[column], run.metric_epochs[column], wall_time=now)
        end = _session_end(run.status, now)
        if end is not None:
            writer.add_values(end, wall_time=now)


def _numbers_or_bools(values: Sequence[Any]) -> bool:
    """Whether one HParams type fits all of a key's values: all bools, or all finite numbers."""
    if values and all(isinstance(v, bool) for v in values):
        return True
    return bool(values) and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                                for v in values)


def _hparam_value(value: Any, as_string: bool) -> Any:
    """Numbers and bools as themselves; anything else (lists, null), and every value of a key
    whose values mix types, as its JSON text, as the report's tables show it."""
    if as_string:
        return value if isinstance(value, str) else json.dumps(value)
    return value if isinstance(value, bool) else float(value)


def _domain(values: Sequence[Any], as_string: bool) -> Any:
    from tensorboard.plugins.hparams import summary_v2 as hp

    shown = [_hparam_value(v, as_string) for v in values]
    if not as_string and not isinstance(shown[0], bool):
        return hp.RealInterval(min(shown), max(shown))
    return hp.Discrete(list(dict.fromkeys(shown)))


def _session_end(status: str, now: float) -> Optional[List[bytes]]:
    """``_hparams_/session_end_info`` for a run that ended (or runs): its status, as the
    dashboard's filter shows it; None for a run that has not started."""
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

    codes: Dict[str, int] = {Status.SUCCEEDED: api_pb2.STATUS_SUCCESS, Status.SKIPPED: api_pb2.STATUS_SUCCESS,
                             Status.FAILED: api_pb2.STATUS_FAILURE, Status.INTERRUPTED: api_pb2.STATUS_FAILURE,
                             Status.RUNNING: api_pb2.STATUS_RUNNING}
    if status not in codes:
        return None
    info = plugin_data_pb2.SessionEndInfo(status=codes[status])
    if codes[status] != api_pb2.STATUS_RUNNING:
        info.end_time_secs = now
    summary = summary_pb2.Summary()
    summary.value.add(tag=metadata.SESSION_END_INFO_TAG,
                      metadata=metadata.create_summary_metadata(plugin_data_pb2.HParamsPluginData(
                          session_end_info=info)))
    return _serialized(summary)


def _serialized(summary: Any) -> List[bytes]:
    """A tensorboard ``Summary``'s values, serialized, for :meth:`EventWriter.add_values`."""
    return [value.SerializeToString() for value in summary.value]
