"""The report's tensorboard/ folder is TensorBoard's HParams dashboard: one session per
run, its swept values as hparams, the report's metrics, its status.

References from outside the code under test: tensorboard's own event reader and
protobufs, its hparams plugin backend (the code behind the dashboard), and the
report's results.csv for the numbers. Without tensorboard the report writes the rest
and says how to get this view.
"""
import csv
import json
from pathlib import Path
from typing import Any, Dict, List

import pytest
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

from launcher.report.write import format_top, write_report
from launcher.robomimic import tfevents
from tests.test_report import LR, SEED, stub_config, train


def read_hparams(path: str) -> Dict[str, Any]:
    """The HParams summaries of one event file by tag, decoded by tensorboard's protobufs."""
    found = {}
    for event in EventFileLoader(path).Load():
        for value in event.summary.value:
            if value.metadata.plugin_data.plugin_name == metadata.PLUGIN_NAME:
                found[value.tag] = plugin_data_pb2.HParamsPluginData.FromString(value.metadata.plugin_data.content)
    return found


def python_value(value: Any) -> Any:
    """A ``google.protobuf.Value`` as Python."""
    return getattr(value, value.WhichOneof("kind"))


# --- a report's tensorboard/ -------------------------------------------------------------------

RUNS = {"a_lr_0.001_seed_1": (1e-3, 1, "succeeded"), "a_lr_0.001_seed_2": (1e-3, 2, "failed"),
        "a_lr_0.0001_seed_1": (1e-4, 1, "running"), "a_lr_0.0001_seed_2": (1e-4, 2, "pending")}
STATUS = {"succeeded": api_pb2.STATUS_SUCCESS, "failed": api_pb2.STATUS_FAILURE, "running": api_pb2.STATUS_RUNNING}


@pytest.fixture(scope="module")
def board(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("board")
    sweep = root / "sd"
    sweep.mkdir()
    rows = []
    for index, (name, (lr, seed, status)) in enumerate(RUNS.items()):
        run_dir = None
        if status != "pending":
            run_dir, _ = train(stub_config(name, lr, seed, root / "out"), root)
        rows.append({"index": index, "name": name, "status": status, "reason": "",
                     "params": {LR: lr, SEED: seed, "algo.actor_layer_dims": [64 * (index + 1)]},
                     "output_dir": str(run_dir) if run_dir else None})
    (sweep / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("launcher.report.write._draw", lambda path, report: [])
        write_report(str(sweep))
    return sweep


def results(board: Path) -> Dict[str, Dict[str, str]]:
    with open(board / "results.csv", newline="") as f:
        return {row["run"]: row for row in csv.DictReader(f)}


def metric_cells(row: Dict[str, str]) -> Dict[str, Any]:
    """The row's metric values, to float32 precision (TensorBoard stores float32)."""
    columns = list(row)
    metrics = columns[columns.index("epochs"):columns.index("best_checkpoint")]
    return {c: pytest.approx(float(row[c]), rel=1e-6) for c in metrics if row[c]}


def session_file(board: Path, name: str) -> str:
    (path,) = tfevents.event_files(str(board / "tensorboard" / name))
    return path


def test_the_experiment_declares_the_swept_keys_and_the_metrics(board):
    (path,) = tfevents.event_files(str(board / "tensorboard"))
    experiment = read_hparams(path)[metadata.EXPERIMENT_TAG].experiment
    infos = {i.name: i for i in experiment.hparam_infos}
    assert list(infos) == [LR, SEED, "algo.actor_layer_dims"]
    assert infos[LR].type == api_pb2.DATA_TYPE_FLOAT64
    assert (infos[LR].domain_interval.min_value, infos[LR].domain_interval.max_value) == (1e-4, 1e-3)
    assert infos["algo.actor_layer_dims"].type == api_pb2.DATA_TYPE_STRING
    # tensorboard's Discrete domain lists the values sorted.
    assert [python_value(v) for v in infos["algo.actor_layer_dims"].domain_discrete.values] == sorted(
        ["[64]", "[128]", "[192]", "[256]"])
    metrics = [m.name.tag for m in experiment.metric_infos]
    columns = list(next(iter(results(board).values())))
    assert metrics == columns[columns.index("epochs"):columns.index("best_checkpoint")]


@pytest.mark.parametrize("name", RUNS)
def test_each_run_is_a_session_with_its_values_metrics_and_status(board, name):
    row = results(board)[name]
    data = read_hparams(session_file(board, name))
    start = data[metadata.SESSION_START_INFO_TAG].session_start_info
    values = {key: python_value(value) for key, value in start.hparams.items()}
    assert values == {LR: float(row[LR]), SEED: float(row[SEED]), "algo.actor_layer_dims": row["algo.actor_layer_dims"]}
    end = data.get(metadata.SESSION_END_INFO_TAG)
    status = end.session_end_info.status if end is not None else api_pb2.STATUS_UNKNOWN
    assert status == STATUS.get(RUNS[name][2], api_pb2.STATUS_UNKNOWN)
    scalars = {tag: value for tag, _, value, _ in tfevents.read_scalars(session_file(board, name))
               if not tag.startswith("curves/")}
    assert scalars == metric_cells(row)
    assert bool(scalars) == (RUNS[name][2] != "pending")


def test_learning_curves_are_scalars_per_epoch(board):
    name = "a_lr_0.001_seed_1"
    curves: Dict[str, List[int]] = {}
    for tag, step, _, _ in tfevents.read_scalars(session_file(board, name)):
        if tag.startswith("curves/"):
            curves.setdefault(tag, []).append(step)
    assert curves == {"curves/train_loss": [1, 2, 3, 4, 5, 6], "curves/valid_loss": [1, 2, 3, 4, 5, 6],
                      "curves/success_rate/Lift": [2, 4, 6], "curves/success_rate/PickPlaceCan": [2, 4, 6]}


def test_tensorboards_hparams_backend_shows_one_session_per_run(board):
    """What the HParams dashboard asks the server for (/experiment, /session_groups),
    answered by tensorboard's own plugin code from our files."""
    from tensorboard import context
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.hparams import backend_context, get_experiment, list_session_groups

    logdir = str(board / "tensorboard")
    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(logdir)
    multiplexer.Reload()
    tb = base_plugin.TBContext(logdir=logdir, multiplexer=multiplexer,
                               data_provider=data_provider.MultiplexerDataProvider(multiplexer, logdir))
    backend, request = backend_context.Context(tb), context.RequestContext()
    experiment = get_experiment.Handler(request, backend, "", api_pb2.GetExperimentRequest()).run()
    assert sorted(h.name for h in experiment.hparam_infos) == sorted([LR, SEED, "algo.actor_layer_dims"])
    groups = list_session_groups.Handler(request, backend, "", api_pb2.ListSessionGroupsRequest(
        allowed_statuses=[0, 1, 2, 3], start_index=0, slice_size=100)).run()
    sessions = {s.name: s for g in groups.session_groups for s in g.sessions}
    assert sorted(sessions) == sorted(RUNS)
    rows = results(board)
    for name, session in sessions.items():
        assert session.status == STATUS.get(RUNS[name][2], api_pb2.STATUS_UNKNOWN)
        metrics = {m.name.tag: m.value for m in session.metric_values}
        assert metrics == metric_cells(rows[name])
    group = next(g for g in groups.session_groups if g.name == "a_lr_0.001_seed_1")
    assert (group.hparams[LR].number_value, group.hparams["algo.actor_layer_dims"].string_value) == (1e-3, "[64]")


def test_without_tensorboard_the_report_writes_the_rest_and_says_how_to_get_the_view(tmp_path, monkeypatch):
    sweep = tmp_path / "sd"
    sweep.mkdir()
    run_dir, _ = train(stub_config("a_lr_0.001_seed_1", 1e-3, 1, tmp_path / "out"), tmp_path)
    (sweep / "manifest.jsonl").write_text(json.dumps(
        {"index": 0, "name": "a_lr_0.001_seed_1", "status": "succeeded", "reason": "", "params": {LR: 1e-3},
         "output_dir": str(run_dir)}) + "\n")
    (sweep / "tensorboard").mkdir()  # an older report's view, which would show other numbers
    monkeypatch.setattr("launcher.report.write._draw", lambda path, report: [])
    monkeypatch.setattr("launcher.report.tensorboard.available", lambda: False)
    report = write_report(str(sweep))
    assert (sweep / "results.csv").is_file() and (sweep / "results.md").is_file()
    assert not (sweep / "tensorboard").exists()
    hint = "pip install 'robomimic-hydra-sweeper[tensorboard]'"
    assert format_top(report).splitlines()[-1] == f"For TensorBoard's HParams view: {hint}, then run the report again"
    assert hint in (sweep / "results.md").read_text()
