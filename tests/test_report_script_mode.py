"""The report of a script-mode sweep folder (configs/ and run.sh, no manifest): the swept
keys come from the configs, each run's numbers from its newest output folder that
finished, and runs that never finished say so.

Runs are train_stub.py's, in this process; expected numbers are read from each run's
log.txt with the independent regex reader of tests/test_report.py.
"""
import csv
import json
import shutil
from pathlib import Path
from typing import Any, Dict, List

import pytest

from launcher.report.write import write_report
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


def test_a_relative_output_dir_is_taken_from_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sweep = tmp_path / "sd"
    (sweep / "configs").mkdir(parents=True)
    for seed in (1, 2):
        config = script_config(f"rel_seed_{seed}", 1e-3, seed, Path("trained"))
        (sweep / "configs" / f"rel_seed_{seed}.json").write_text(json.dumps(config))
        train(config, tmp_path)
    monkeypatch.setattr("launcher.report.write._draw", lambda path, report: [])
    write_report(str(sweep))
    table = rows(sweep)
    assert [(r["run"], r["status"], r[SEED]) for r in table] == [("rel_seed_1", "succeeded", "1"),
                                                                  ("rel_seed_2", "succeeded", "2")]
    assert all(Path(r["output_dir"]).parent == tmp_path / "trained" / r["run"] for r in table)


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
