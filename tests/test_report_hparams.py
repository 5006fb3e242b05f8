"""The report's tensorboard/ folder is TensorBoard's HParams dashboard: one session per
run, its swept values as hparams, the report's metrics, its status.

References from outside the code under test: bytes serialized by tensorboard 2.21's own
protobufs (frozen below as hex), tensorboard's message descriptors and its hparams
plugin backend (the code behind the dashboard) where tensorboard is installed, and the
report's results.csv for the numbers.
"""
import csv
import json
from pathlib import Path
from typing import Any, Dict, List

import pytest

from launcher.report import hparams
from launcher.report.write import write_report
from launcher.robomimic import tfevents
from tests.test_report import LR, SEED, stub_config, train

# tensorboard 2.21: summary_v2.hparams_pb({"lr": 0.0, "train.seed": 2, "algo.actor_layer_dims": "[1024, 1024]",
# "algo.gmm.enabled": True}, trial_id="", start_time_secs=1700000000.5).value[0], map entries in the order
# tensorboard serialized them.
TB_SESSION_START = bytes.fromhex(
    "0a1c5f68706172616d735f2f73657373696f6e5f73746172745f696e666f42060801120212004a84010a81010a076870"
    "6172616d7312761a740a0f0a026c7212091100000000000000000a170a0a747261696e2e736565641209110000000000"
    "0000400a270a15616c676f2e6163746f725f6c617965725f64696d73120e1a0c5b313032342c20313032345d0a160a10"
    "616c676f2e676d6d2e656e61626c6564120220012900002040fc54d941")
# Summary.Value(tag=SESSION_END_INFO_TAG, metadata=create_summary_metadata(HParamsPluginData(
# session_end_info=SessionEndInfo(status=STATUS_FAILURE, end_time_secs=1700000001.0))), tensor=NULL_TENSOR)
TB_SESSION_END = bytes.fromhex(
    "0a1a5f68706172616d735f2f73657373696f6e5f656e645f696e666f42060801120212004a1a0a180a0768706172616d"
    "73120d220b08021100004040fc54d941")


def test_session_start_is_byte_for_byte_tensorboards():
    ours = hparams.session_start_value({"lr": 0.0, "train.seed": 2, "algo.actor_layer_dims": [1024, 1024],
                                        "algo.gmm.enabled": True}, ["algo.actor_layer_dims"], 1700000000.5)
    assert ours == TB_SESSION_START


def test_session_end_is_byte_for_byte_tensorboards():
    assert hparams.session_end_value(hparams.STATUS_FAILURE, 1700000001.0) == TB_SESSION_END


def test_field_numbers_are_tensorboards():
    plugin_data_pb2 = pytest.importorskip("tensorboard.plugins.hparams.plugin_data_pb2",
                                          reason="tensorboard is not installed")
    seen: Dict[str, Any] = {}

    def walk(descriptor: Any) -> None:
        name = descriptor.name
        if name in seen:
            return
        seen[name] = {f.name: (f.number, f.is_repeated) for f in descriptor.fields}
        for f in descriptor.fields:
            if f.message_type is not None:
                walk(f.message_type)

    walk(plugin_data_pb2.HParamsPluginData.DESCRIPTOR)
    for message, fields in hparams.SCHEMAS.items():
        for number, name, kind in fields:
            assert seen[message][name] == (number, kind.startswith("*")), (message, name)


# --- a report's tensorboard/ -------------------------------------------------------------------

RUNS = {"a_lr_0.001_seed_1": (1e-3, 1, "succeeded"), "a_lr_0.001_seed_2": (1e-3, 2, "failed"),
        "a_lr_0.0001_seed_1": (1e-4, 1, "running"), "a_lr_0.0001_seed_2": (1e-4, 2, "pending")}
STATUS = {"succeeded": hparams.STATUS_SUCCESS, "failed": hparams.STATUS_FAILURE, "running": hparams.STATUS_RUNNING}


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
    experiment = hparams.read_hparams(path)[hparams.EXPERIMENT_TAG]["experiment"]
    infos = {i["name"]: i for i in experiment["hparam_infos"]}
    assert list(infos) == [LR, SEED, "algo.actor_layer_dims"]
    assert infos[LR]["type"] == hparams.DATA_TYPE_FLOAT64 and infos[LR]["domain_interval"] == {
        "min_value": 1e-4, "max_value": 1e-3}
    assert infos["algo.actor_layer_dims"]["type"] == hparams.DATA_TYPE_STRING
    assert [hparams.python_value(v) for v in infos["algo.actor_layer_dims"]["domain_discrete"]["values"]] == [
        "[64]", "[128]", "[192]", "[256]"]
    metrics = [m["name"]["tag"] for m in experiment["metric_infos"]]
    columns = list(next(iter(results(board).values())))
    assert metrics == columns[columns.index("epochs"):columns.index("best_checkpoint")]


@pytest.mark.parametrize("name", RUNS)
def test_each_run_is_a_session_with_its_values_metrics_and_status(board, name):
    row = results(board)[name]
    data = hparams.read_hparams(session_file(board, name))
    start = data[hparams.SESSION_START_INFO_TAG]["session_start_info"]
    values = {h["key"]: hparams.python_value(h["value"]) for h in start["hparams"]}
    assert values == {LR: float(row[LR]), SEED: float(row[SEED]), "algo.actor_layer_dims": row["algo.actor_layer_dims"]}
    end = data.get(hparams.SESSION_END_INFO_TAG, {}).get("session_end_info")
    assert (end or {}).get("status", hparams.STATUS_UNKNOWN) == STATUS.get(RUNS[name][2], hparams.STATUS_UNKNOWN)
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
    pytest.importorskip("tensorboard.plugins.hparams.list_session_groups", reason="tensorboard is not installed")
    from tensorboard import context
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.hparams import api_pb2, backend_context, get_experiment, list_session_groups

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
