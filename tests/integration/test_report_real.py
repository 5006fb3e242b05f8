"""The report of a sweep trained by real robomimic 0.3.0: every number in results.csv is
what robomimic wrote in the run's log.txt and in its TensorBoard files.

Two learning rates x two seeds of bc with validation (2 epochs of 3 steps, on the demo
dataset) are trained by robomimic's own ``scripts/train.py``, then presented as a
run-mode sweep folder (a manifest) and as a script-mode one (configs/ and run.sh).
Expected values come from log.txt (the regex reader of tests/test_report.py), from
tensorboard's own event reader, and from ``statistics``.

Needs robomimic's training stack (``bash tools/install_robomimic.sh``); run with
``python -m pytest -m integration``.
"""
import csv
import json
import shutil
import statistics
import struct
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List

import pytest

from launcher.report.write import write_report
from launcher.robomimic import tfevents
from tests.integration.test_real_robomimic import config_for, robomimic_train, tensorboards_scalars, train  # noqa: F401
from tests.test_report import expected_metrics, logged_in_text
from tests.test_report_hparams import python_value, read_hparams

pytestmark = pytest.mark.integration

LR = "algo.optim_params.policy.learning_rate.initial"
SEED = "train.seed"
RUNS = {f"real_lr_{lr}_seed_{seed}": (lr, seed) for lr in (1e-3, 1e-4) for seed in (1, 2)}


@pytest.fixture(scope="module")
def trained(robomimic_train, tmp_path_factory) -> Dict[str, Any]:
    """The four runs, trained once, two at a time."""
    folder = tmp_path_factory.mktemp("real_report")
    configs = [config_for("bc", name, folder / "out", **{LR: lr, SEED: seed, "experiment.save.on_best_validation": True})
               for name, (lr, seed) in RUNS.items()]
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda c: train(robomimic_train, c, folder), configs))
    for run in runs:
        assert run.returncode == 0 and run.stdout.rstrip().endswith("finished run successfully!"), run.stdout[-2000:]
    return {"folder": folder, "runs": dict(zip(RUNS, runs)), "train_py": robomimic_train}


def run_mode_dir(trained: Dict[str, Any]) -> Path:
    sweep = trained["folder"] / "run_mode_sd"
    (sweep / "logs").mkdir(parents=True)
    rows = []
    for index, (name, run) in enumerate(trained["runs"].items()):
        (sweep / "logs" / f"{name}.log").write_text(run.stdout)
        lr, seed = RUNS[name]
        rows.append({"index": index, "name": name, "status": "succeeded", "params": {LR: lr, SEED: seed},
                     "config": str(run.config), "log": str(sweep / "logs" / f"{name}.log"), "exit_code": 0,
                     "duration_s": 1.0, "output_dir": str(run.run_dir), "gpu": None, "reason": ""})
    (sweep / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return sweep


def script_mode_dir(trained: Dict[str, Any]) -> Path:
    sweep = trained["folder"] / "script_mode_sd"
    (sweep / "configs").mkdir(parents=True)
    lines = ["#!/bin/bash", ""]
    for name, run in trained["runs"].items():
        shutil.copy(run.config, sweep / "configs" / f"{name}.json")
        lines.append(f"python {trained['train_py']} --config {sweep / 'configs' / f'{name}.json'}")
    (sweep / "run.sh").write_text("\n".join(lines) + "\n")
    return sweep


@pytest.fixture(scope="module", params=["run mode", "script mode"])
def report(request, trained) -> Path:
    sweep = run_mode_dir(trained) if request.param == "run mode" else script_mode_dir(trained)
    write_report(str(sweep))
    return sweep


def rows(sweep: Path, name: str = "results.csv") -> List[Dict[str, str]]:
    with open(sweep / name, newline="") as f:
        return list(csv.DictReader(f))


def metric_cells(row: Dict[str, str]) -> Dict[str, float]:
    columns = list(row)
    return {c: float(row[c]) for c in columns[columns.index("epochs"):columns.index("best_checkpoint")] if row[c]}


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def test_every_number_is_what_robomimic_logged(report, trained):
    table = {r["run"]: r for r in rows(report)}
    assert sorted(table) == sorted(RUNS)
    for name, run in trained["runs"].items():
        expected = expected_metrics(logged_in_text((run.run_dir / "logs" / "log.txt").read_text()))
        assert expected["epochs"] == 2 and "valid_loss_best" in expected
        assert metric_cells(table[name]) == expected
        assert (table[name]["status"], table[name]["output_dir"]) == ("succeeded", str(run.run_dir))
        assert [table[name][LR], table[name][SEED]] == [json.dumps(v) for v in RUNS[name]]


def test_every_number_is_what_robomimic_wrote_to_tensorboard(report, trained):
    table = {r["run"]: r for r in rows(report)}
    for name, run in trained["runs"].items():
        (path,) = tfevents.event_files(str(run.run_dir / "logs" / "tb"))
        by_tag: Dict[str, Dict[int, float]] = {}
        for tag, step, value, _ in tensorboards_scalars(path):
            by_tag.setdefault(tag, {})[step] = value
        got = metric_cells(table[name])
        assert f32(got["train_loss_last"]) == by_tag["Train/Loss"][int(got["epochs"])]
        assert f32(got["valid_loss_last"]) == by_tag["Valid/Loss"][max(by_tag["Valid/Loss"])]
        assert f32(got["valid_loss_best"]) == min(by_tag["Valid/Loss"].values())


def test_best_checkpoint_is_robomimics_best_validation_model(report, trained):
    for row in rows(report):
        epoch = int(row["valid_loss_best_epoch"])
        checkpoint = Path(row["best_checkpoint"])
        assert checkpoint.is_file() and checkpoint.parent == trained["runs"][row["run"]].run_dir / "models"
        assert checkpoint.name.startswith(f"model_epoch_{epoch}_best_validation_")


def test_seeds_are_aggregated(report):
    table = {r["run"]: r for r in rows(report)}
    by_lr = {r[LR]: r for r in rows(report, "results_by_config.csv")}
    for lr in (1e-3, 1e-4):
        values = [float(table[f"real_lr_{lr}_seed_{s}"]["valid_loss_best"]) for s in (1, 2)]
        row = by_lr[json.dumps(lr)]
        assert (row["n_runs"], row["n_finished"]) == ("2", "2")
        assert float(row["valid_loss_best_mean"]) == pytest.approx(statistics.fmean(values), rel=1e-12)
        assert float(row["valid_loss_best_std"]) == pytest.approx(statistics.stdev(values), rel=1e-12)


def test_plots_open_and_hparams_sessions_hold_the_runs(report):
    from matplotlib.image import imread

    plots = sorted(p.name for p in (report / "plots").iterdir())
    assert plots == ["by_algo.optim_params.policy.learning_rate.initial.png", "curves_train_loss.png",
                     "curves_valid_loss.png"]
    assert all(imread(report / "plots" / name).size for name in plots)
    for row in rows(report):
        (path,) = tfevents.event_files(str(report / "tensorboard" / row["run"]))
        start = read_hparams(path)["_hparams_/session_start_info"].session_start_info
        assert {key: python_value(value) for key, value in start.hparams.items()} == {
            LR: float(row[LR]), SEED: float(row[SEED])}
        scalars = {tag: value for tag, _, value in tensorboards_own_scalars(path) if not tag.startswith("curves/")}
        assert scalars == {c: f32(v) for c, v in metric_cells(row).items()}


def tensorboards_own_scalars(path: str) -> List[tuple]:
    """(tag, step, value) of every scalar of an event file, as tensorboard reads it (the
    HParams summaries, empty tensors, left out)."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.util import tensor_util

    return [(v.tag, e.step, float(tensor_util.make_ndarray(v.tensor))) for e in EventFileLoader(path).Load()
            for v in e.summary.value if v.metadata.plugin_data.plugin_name != "hparams"]
