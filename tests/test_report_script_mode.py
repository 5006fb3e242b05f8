"""The report of a script-mode sweep folder (configs/ and run.sh, no manifest): the swept
keys come from the configs, each run's numbers from its newest output folder that
finished, and runs that never finished say so.

Runs are train_stub.py's, in this process; expected numbers are read from each run's
log.txt with the independent regex reader of tests/test_report.py.
"""
import csv
import json
import re
import shutil
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from launcher.report.write import write_report
from launcher.robomimic.versions import ENV_VAR
from tests.helpers import REPO
from tests.test_report import LR, SEED, cut_after, expected_metrics, logged_in_text, stub_config, train

# In run.sh's order, which is not the file names' order.
RUNS = {
    "s_lr_0.001_seed_2": (1e-3, 2, "finished"),
    "s_lr_0.001_seed_1": (1e-3, 1, "finished, then a newer run that did not"),
    "s_lr_0.0001_seed_1": (1e-4, 1, "failed"),
    "s_lr_0.0001_seed_2": (1e-4, 2, "never run"),
}


def script_config(name: str, lr: float, seed: int, out: Path) -> Dict[str, Any]:
    config = stub_config(name, lr, seed, out)
    config["meta"] = {"hp_base_config_file": None, "hp_keys": ["lr", "seed"], "hp_values": [lr, seed]}
    return config


def make_run(name: str, how: str, config: Dict[str, Any], root: Path) -> Dict[str, Any]:
    """Train it as ``how`` says; returns what the report must show."""
    if how == "never run":
        return {"status": "pending", "output_dir": "", "metrics": {}, "reason": "no output folder yet"}
    run_dir, _ = train(config, root)
    log = run_dir / "logs" / "log.txt"
    if how == "failed":
        log.write_text(cut_after(log.read_text(), "Epoch 2 Memory Usage",
                                 "run failed with error:\nbad batch\n\nTraceback (most recent call last):\n"))
        return {"status": "failed", "output_dir": str(run_dir), "reason": "bad batch",
                "metrics": expected_metrics(logged_in_text(log.read_text()))}
    if how.startswith("finished, then"):
        older = run_dir.with_name("20250101000000")
        run_dir.rename(older)
        newer = run_dir.with_name("20990101000000")
        shutil.copytree(older, newer)
        (newer / "logs" / "log.txt").write_text(cut_after((older / "logs" / "log.txt").read_text(), "Epoch 1 Memory"))
        run_dir = older
    return {"status": "succeeded", "output_dir": str(run_dir), "reason": "",
            "metrics": expected_metrics(logged_in_text((run_dir / "logs" / "log.txt").read_text()))}


@pytest.fixture(scope="module")
def script_sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("script")
    sweep = root / "sd"
    (sweep / "configs").mkdir(parents=True)
    expected = {}
    lines = ["#!/bin/bash", ""]
    for name, (lr, seed, how) in RUNS.items():
        config = script_config(name, lr, seed, root / "trained")
        path = sweep / "configs" / f"{name}.json"
        path.write_text(json.dumps(config, indent=4))
        lines.append(f"python train.py --config {path}")
        expected[name] = make_run(name, how, config, root)
    (sweep / "run.sh").write_text("\n".join(lines) + "\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("launcher.report.write._draw", lambda path, report: [])
        write_report(str(sweep))
    return sweep, expected


def rows(sweep: Path, name: str = "results.csv") -> List[Dict[str, str]]:
    with open(sweep / name, newline="") as f:
        return list(csv.DictReader(f))


def test_swept_keys_come_from_the_configs_and_runs_keep_run_sh_order(script_sweep):
    sweep, _ = script_sweep
    table = rows(sweep)
    assert list(table[0])[:4] == ["run", "status", LR, SEED]
    assert [r["run"] for r in table] == list(RUNS)
    assert [(r[LR], r[SEED]) for r in table] == [("0.001", "2"), ("0.001", "1"), ("0.0001", "1"), ("0.0001", "2")]


@pytest.mark.parametrize("name", RUNS, ids=[f"{n} ({RUNS[n][2]})" for n in RUNS])
def test_each_run_shows_its_newest_finished_folder(script_sweep, name):
    sweep, expected = script_sweep
    row = {r["run"]: r for r in rows(sweep)}[name]
    want = expected[name]
    columns = list(row)
    metrics = columns[columns.index("epochs"):columns.index("best_checkpoint")]
    assert {c: float(row[c]) for c in metrics if row[c]} == want["metrics"]
    assert (row["status"], row["output_dir"], row["reason"]) == (want["status"], want["output_dir"], want["reason"])


def test_seeds_are_grouped_across_the_configs(script_sweep):
    sweep, expected = script_sweep
    by_lr = {r[LR]: r for r in rows(sweep, "results_by_config.csv")}
    assert (by_lr["0.001"]["n_runs"], by_lr["0.001"]["n_finished"]) == ("2", "2")
    assert (by_lr["0.0001"]["n_runs"], by_lr["0.0001"]["n_finished"]) == ("2", "0")
    both = [expected[n]["metrics"]["train_loss_last"] for n in ("s_lr_0.001_seed_1", "s_lr_0.001_seed_2")]
    assert float(by_lr["0.001"]["train_loss_last_mean"]) == pytest.approx(sum(both) / 2, rel=1e-12)


STUB = REPO / "train_stub.py"


def write_sweep(sweep: Path, configs: List[Dict[str, Any]], made_in: Optional[Path]) -> None:
    """A script-mode sweep folder as the app leaves it: configs, run.sh calling the stub, and
    (when ``made_in``) Hydra's multirun.yaml saying where the sweep was started."""
    (sweep / "configs").mkdir(parents=True)
    lines = ["#!/bin/bash", ""]
    for config in configs:
        path = sweep / "configs" / f"{config['experiment']['name']}.json"
        path.write_text(json.dumps(config, indent=4))
        lines.append(f"python {STUB} --config {path}")
    (sweep / "run.sh").write_text("\n".join(lines) + "\n")
    if made_in is not None:
        (sweep / "multirun.yaml").write_text(f"hydra:\n  runtime:\n    cwd: {made_in}\n")


def report_rows(sweep: Path, monkeypatch, from_folder: Path) -> List[Dict[str, str]]:
    monkeypatch.chdir(from_folder)
    monkeypatch.setattr("launcher.report.write._draw", lambda path, report: [])
    write_report(str(sweep))
    return rows(sweep)


@pytest.mark.parametrize("trained", [True, False], ids=["trained", "never-run"])
def test_a_relative_output_dir_is_where_the_training_ran_wherever_the_report_runs(tmp_path, monkeypatch, trained):
    """Not from the report's working directory: there, another copy of the same runs was trained."""
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    configs = [script_config(f"rel_seed_{seed}", 1e-3, seed, Path("trained")) for seed in (1, 2)]
    for folder in (project, elsewhere):
        folder.mkdir()
        monkeypatch.chdir(folder)
        for config in configs if folder == elsewhere or trained else []:
            train(config, folder)
    write_sweep(project / "sd", configs, made_in=project)
    for report_from in (project, elsewhere):
        table = report_rows(project / "sd", monkeypatch, report_from)
        if trained:
            assert [r["status"] for r in table] == ["succeeded", "succeeded"], report_from
            assert all(Path(r["output_dir"]).parent == project / "trained" / r["run"] for r in table)
        else:
            assert [(r["status"], r["output_dir"]) for r in table] == [("pending", "")] * 2, report_from


def test_a_relative_output_dir_of_an_unknown_training_folder_is_not_guessed(tmp_path, monkeypatch):
    configs = [script_config(f"rel_seed_{seed}", 1e-3, seed, Path("trained")) for seed in (1, 2)]
    monkeypatch.chdir(tmp_path)
    train(configs[0], tmp_path)
    write_sweep(tmp_path / "sd", configs, made_in=None)
    table = report_rows(tmp_path / "sd", monkeypatch, tmp_path)
    assert {r["status"] for r in table} == {"unknown"}
    assert table[0]["reason"].startswith("train.output_dir is relative, and where its training resolved it is unknown")


def test_runs_of_another_sweep_with_the_same_names_are_not_this_ones(tmp_path, monkeypatch):
    """Two sweeps, the same run names (the learning rate hidden), one output folder: each
    sweep's report shows only the trainings of its own configs (their config.json)."""
    mine = [script_config(f"same_seed_{seed}", 1e-3, seed, tmp_path / "trained") for seed in (1, 2)]
    theirs = [script_config(f"same_seed_{seed}", 1e-4, seed, tmp_path / "trained") for seed in (1, 2)]
    for config in theirs:
        train(config, tmp_path)
    write_sweep(tmp_path / "mine", mine, made_in=tmp_path)
    write_sweep(tmp_path / "theirs", theirs, made_in=tmp_path)
    table = report_rows(tmp_path / "mine", monkeypatch, tmp_path)
    assert [(r["status"], r["epochs"]) for r in table] == [("pending", "")] * 2
    assert table[0]["reason"] == "no output folder yet (1 folder(s) of that name hold other configs)"
    assert [r["status"] for r in report_rows(tmp_path / "theirs", monkeypatch, tmp_path)] == ["succeeded"] * 2


@pytest.mark.parametrize("robomimic", ["0.5.0", "master"])
def test_a_dataset_path_written_back_as_a_list_is_still_this_configs(tmp_path, monkeypatch, robomimic):
    """robomimic 0.5's and master's train.py rewrite a string train.data as [{"path": ...}]
    before writing config.json: those trainings are this sweep's. A folder whose list names
    another dataset is not."""
    monkeypatch.setenv(ENV_VAR, robomimic)
    mine = [script_config(f"ds_seed_{seed}", 1e-3, seed, tmp_path / "trained") for seed in (1, 2)]
    folders = [train(config, tmp_path)[0] for config in mine]
    written = [json.loads((folder / "config.json").read_text())["train"]["data"] for folder in folders]
    assert written == [[{"path": config["train"]["data"]}] for config in mine]
    other_data = tmp_path / "other.hdf5"
    shutil.copyfile(mine[0]["train"]["data"], other_data)
    theirs = json.loads(json.dumps(mine))
    for config in theirs:
        config["train"]["data"] = str(other_data)
    write_sweep(tmp_path / "mine", mine, made_in=tmp_path)
    write_sweep(tmp_path / "theirs", theirs, made_in=tmp_path)
    table = report_rows(tmp_path / "mine", monkeypatch, tmp_path)
    assert [(r["status"], r["output_dir"], r["reason"]) for r in table] == [
        ("succeeded", str(folder), "") for folder in folders]
    table = report_rows(tmp_path / "theirs", monkeypatch, tmp_path)
    assert [(r["status"], r["reason"]) for r in table] == [
        ("pending", "no output folder yet (1 folder(s) of that name hold other configs)")] * 2


def test_a_config_that_cannot_be_read_is_listed_and_says_so(tmp_path, monkeypatch):
    configs = [script_config(f"b_seed_{seed}", 1e-3, seed, tmp_path / "trained") for seed in (1, 2, 3)]
    write_sweep(tmp_path / "sd", configs, made_in=tmp_path)
    broken = tmp_path / "sd" / "configs" / "b_seed_2.json"
    broken.write_text(broken.read_text()[:100])
    table = report_rows(tmp_path / "sd", monkeypatch, tmp_path)
    assert [(r["run"], r["status"]) for r in table] == [("b_seed_1", "pending"), ("b_seed_2", "unknown"),
                                                         ("b_seed_3", "pending")]
    assert table[1]["reason"].startswith("configs/b_seed_2.json could not be read: not JSON")
    assert [r[SEED] for r in table] == ["1", "null", "3"], "the seed stays a column: the broken run has no say"


def test_a_run_without_log_txt_is_read_from_tensorboard_but_not_called_finished(tmp_path, monkeypatch):
    sweep = tmp_path / "sd"
    (sweep / "configs").mkdir(parents=True)
    for seed in (1, 2):
        config = script_config(f"tb_seed_{seed}", 1e-3, seed, tmp_path / "trained")
        config["experiment"]["logging"] = {"terminal_output_to_txt": False}
        (sweep / "configs" / f"tb_seed_{seed}.json").write_text(json.dumps(config))
        train(config, tmp_path)
    monkeypatch.setattr("launcher.report.write._draw", lambda path, report: [])
    write_report(str(sweep))
    table = rows(sweep)
    assert [(r["status"], r["epochs"]) for r in table] == [("unknown", "6"), ("unknown", "6")]
    assert table[0]["reason"].startswith("no logs/log.txt")


def test_the_hparams_command_is_one_code_span_whatever_the_folder_holds(tmp_path, monkeypatch):
    pytest.importorskip("tensorboard")
    import markdown

    sweep = tmp_path / "sweep `one`"
    write_sweep(sweep, [script_config("h_seed_1", 1e-3, 1, tmp_path / "trained")], made_in=tmp_path)
    report_rows(sweep, monkeypatch, tmp_path)
    (line,) = [line for line in (sweep / "results.md").read_text().splitlines() if line.startswith("HParams: ")]
    code = re.search(r"<code>(.*)</code>", markdown.markdown(line)).group(1)
    assert code == f"tensorboard --logdir {sweep}/tensorboard"
