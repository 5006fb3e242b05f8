"""``python -m launcher.report``: every number in the report is what the run logged, the
seeds are aggregated, runs are ranked the right way, and every kind of run (failed,
interrupted, running, TensorBoard only, stdout only, pending, skipped) shows up.

The runs are train_stub.py's (in this process, a few milliseconds each), laid out as run
mode lays them out. Expected values come from the run's files, read here with a regex
and ``json`` (log.txt, the sweep's stdout copy) or with ``tfevents.read_logdir`` by
robomimic's TensorBoard tags, and from ``statistics`` for means and deviations; never
from the code under test.
"""
import contextlib
import csv
import io
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

import pytest

import train_stub
from launcher.report.__main__ import main as report_main
from launcher.report.plots import short_names
from launcher.report.write import format_top, read_report, write_report
from launcher.robomimic import tfevents
from tests.helpers import REPO

DEMO = REPO / "launcher" / "demo" / "tiny_lift_low_dim.hdf5"
LR = "algo.optim_params.policy.learning_rate.initial"
SEED = "train.seed"
ENVS = ["Lift", "PickPlaceCan"]
EPOCHS = 6


# --- making runs ------------------------------------------------------------------------

def stub_config(name: str, lr: float, seed: int, out: Path, **experiment: Any) -> Dict[str, Any]:
    """bc with validation, rollouts in two envs every 2 epochs, a checkpoint on each best
    success rate and each best validation loss."""
    exp = {"name": name, "validate": True, "additional_envs": ["PickPlaceCan"],
           "rollout": {"enabled": True, "rate": 2, "n": 10},
           "save": {"every_n_epochs": None, "on_best_validation": True}}
    exp.update(experiment)
    return {"algo_name": "bc", "experiment": exp,
            "algo": {"optim_params": {"policy": {"learning_rate": {"initial": lr}}}},
            "train": {"data": str(DEMO), "output_dir": str(out), "num_epochs": EPOCHS, "seed": seed,
                      "hdf5_filter_key": "train", "hdf5_validation_filter_key": "valid"}}


def train(config: Dict[str, Any], folder: Path) -> Tuple[Optional[Path], str]:
    """train_stub.py on ``config`` in this process: (its run folder, its stdout)."""
    path = folder / f"{config['experiment']['name']}.json"
    path.write_text(json.dumps(config))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        train_stub.main(train_stub.parser().parse_args(["--config", str(path)]))
    runs = sorted((Path(config["train"]["output_dir"]) / config["experiment"]["name"]).iterdir())
    return (runs[-1] if runs else None), out.getvalue()


def cut_after(text: str, marker: str, extra: str = "") -> str:
    """``text`` up to the end of the line holding the last ``marker``, then ``extra``."""
    at = text.index("\n", text.rindex(marker)) + 1
    return text[:at] + extra


class Built(NamedTuple):
    folder: Path
    expected: Dict[str, Dict[str, Any]]  # run -> what the report must show


# What each run of the run-mode sweep is: (lr, seed, status, how its files end up).
RUNS = {
    "lr_0.001_seed_1": (1e-3, 1, "succeeded", "log.txt"),
    "lr_0.001_seed_2": (1e-3, 2, "succeeded", "log.txt"),
    "lr_0.0001_seed_1": (1e-4, 1, "succeeded", "log.txt"),
    "lr_0.0001_seed_2": (1e-4, 2, "succeeded", "log.txt"),
    "lr_0.0003_seed_1": (3e-4, 1, "failed", "failed after epoch 3"),
    "lr_0.0003_seed_2": (3e-4, 2, "interrupted", "killed after epoch 4"),
    "lr_0.003_seed_1": (3e-3, 1, "running", "cut inside epoch 3's train block"),
    "lr_0.003_seed_2": (3e-3, 2, "running", "no folder yet, an older run's folder only"),
    "lr_0.01_seed_1": (1e-2, 1, "succeeded", "tensorboard only"),
    "lr_0.01_seed_2": (1e-2, 2, "succeeded", "stdout only"),
    "lr_3e-05_seed_1": (3e-5, 1, "pending", "an earlier attempt's stdout only"),
    "lr_3e-05_seed_2": (3e-5, 2, "skipped", "finished in an earlier sweep"),
}


def make_run(name: str, lr: float, seed: int, how: str, sweep: Path, out: Path) -> Dict[str, Any]:
    """Train one run and shape its files as ``how`` says; returns its manifest row."""
    row = {"index": list(RUNS).index(name), "name": name, "status": RUNS[name][2],
           "params": {"algo.rnn.enabled": False, LR: lr, SEED: seed},
           "config": str(sweep / "configs" / f"{name}.json"), "log": str(sweep / "logs" / f"{name}.log"),
           "exit_code": None, "duration_s": None, "output_dir": None, "gpu": None, "reason": ""}
    if how.startswith("an earlier attempt"):
        (sweep / "logs" / f"{name}.log").write_text("Train Epoch 1\n{\n    \"Loss\": 9.0\n}\n")
        return row
    logging = {}
    if how == "tensorboard only":
        logging = {"logging": {"terminal_output_to_txt": False}}
    elif how == "stdout only":
        logging = {"logging": {"terminal_output_to_txt": False, "log_tb": False}}
    config = stub_config(name, lr, seed, (sweep.parent / "earlier") if how.startswith("finished") else out,
                         **logging)
    (sweep / "configs" / f"{name}.json").write_text(json.dumps(config))
    if how.startswith("no folder yet"):
        older = out / name / "20200101000000" / "logs"
        older.mkdir(parents=True)
        (older / "log.txt").write_text("Train Epoch 1\n{\n    \"Loss\": 9.0\n}\n")
        return row
    run_dir, stdout = train(config, sweep.parent)
    (sweep / "logs" / f"{name}.log").write_text(stdout)
    log = run_dir / "logs" / "log.txt"
    if how == "failed after epoch 3":
        log.write_text(cut_after(log.read_text(), "Epoch 3 Memory Usage",
                                 "run failed with error:\nCUDA out of memory\n\nTraceback (most recent call last):\n"))
        row["reason"] = "CUDA out of memory"
    elif how == "killed after epoch 4":
        log.write_text(cut_after(log.read_text(), "Epoch 4 Memory Usage"))
        row["reason"] = "interrupted: the sweep was stopped"
    elif how.startswith("cut inside"):
        text = log.read_text()
        at = text.index("Train Epoch 3\n")
        log.write_text(text[:at] + "Train Epoch 3\n{\n    \"Cosine_Loss\": 0.9,\n    \"L1_")
    if RUNS[name][2] != "running":
        row["output_dir"] = str(run_dir)
    return row


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    """A run-mode sweep folder: manifest.jsonl, configs/, logs/, a launch in progress."""
    root = tmp_path_factory.mktemp("report")
    sweep, out = root / "sd", root / "trained"
    for sub in ("configs", "logs"):
        (sweep / sub).mkdir(parents=True)
    rows = [make_run(name, lr, seed, how, sweep, out) for name, (lr, seed, _, how) in RUNS.items()]
    launch = sweep / ".sweep" / "20260101-000000-1-abcdef"
    (launch / "runs").mkdir(parents=True)
    (launch / "launch.json").write_text(json.dumps({"argv_prefix": [sys.executable, str(REPO / "train_stub.py")],
                                                    "cwd": str(root)}))
    for name in ("lr_0.003_seed_1", "lr_0.003_seed_2"):
        (launch / "runs" / f"{name}.json").write_text(json.dumps({"status": "running", "started": time.time() - 60}))
    (sweep / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return Built(sweep, {r["name"]: expected_row(r, sweep, out) for r in rows})


# --- what the run's files say, read independently ---------------------------------------

BLOCK = re.compile(r"^(Train|Validation) Epoch (\d+)\n(\{\n.*?\n\})$", re.M | re.S)
ROLLOUT = re.compile(r"^Epoch (\d+) Rollouts took \S+ \(avg\) with results:\nEnv: ([^\n]*)\n(\{\n.*?\n\})$", re.M | re.S)


class Logged(NamedTuple):
    train: Dict[int, float]
    valid: Dict[int, float]
    success: Dict[str, Dict[int, float]]


def logged_in_text(text: str) -> Logged:
    train, valid, success = {}, {}, {}
    for kind, epoch, block in BLOCK.findall(text):
        try:
            loss = json.loads(block)["Loss"]
        except ValueError:
            continue  # a block cut off by a crash
        (train if kind == "Train" else valid)[int(epoch)] = loss
    for epoch, env, block in ROLLOUT.findall(text):
        success.setdefault(env, {})[int(epoch)] = json.loads(block)["Success_Rate"]
    return Logged(train, valid, success)


def logged_in_tensorboard(run_dir: Path) -> Logged:
    tags = tfevents.read_logdir(str(run_dir / "logs" / "tb"))
    success = {env: tags[f"Rollout/Success_Rate/{env}"] for env in ENVS if f"Rollout/Success_Rate/{env}" in tags}
    return Logged(tags.get("Train/Loss", {}), tags.get("Valid/Loss", {}), success)


def expected_metrics(logged: Logged) -> Dict[str, float]:
    """The report's promise, from the definitions in the issue."""
    out: Dict[str, float] = {}
    if logged.train:
        last = max(logged.train)
        out.update(epochs=last, train_loss_last=logged.train[last])
    if logged.valid:
        best = min(logged.valid.values())
        out.update(valid_loss_last=logged.valid[max(logged.valid)], valid_loss_best=best,
                   valid_loss_best_epoch=max(e for e, v in logged.valid.items() if v == best))
    for env, rates in logged.success.items():
        best = max(rates.values())
        out[f"success_rate_best/{env}"] = best
        out[f"success_rate_best_epoch/{env}"] = min(e for e, v in rates.items() if v == best)
    if logged.success:
        out["success_rate_best"] = statistics.fmean(out[f"success_rate_best/{env}"] for env in logged.success)
    return out


def best_mean_success_epoch(logged: Logged) -> Optional[int]:
    epochs = sorted(set.intersection(*(set(r) for r in logged.success.values()))) if logged.success else []
    means = {e: statistics.fmean(logged.success[env][e] for env in logged.success) for e in epochs}
    return min((e for e in means if means[e] == max(means.values())), default=None)


def checkpoint_of(run_dir: Optional[str], epoch: Optional[int]) -> str:
    if run_dir is None or epoch is None or not (Path(run_dir) / "models").is_dir():
        return ""
    names = [n for n in os.listdir(Path(run_dir) / "models") if re.match(rf"model_epoch_{epoch}(_.*)?\.pth$", n)]
    return str(Path(run_dir) / "models" / names[0]) if names else ""


def expected_row(row: Dict[str, Any], sweep: Path, out: Path) -> Dict[str, Any]:
    name, status = row["name"], row["status"]
    run_dir = row["output_dir"]
    if name == "lr_0.003_seed_1":
        (run_dir,) = [str(p) for p in (out / name).iterdir() if p.name != "20200101000000"]
    how = RUNS[name][3]
    if how.startswith(("an earlier attempt", "no folder")):
        logged = Logged({}, {}, {})
    elif how == "tensorboard only":
        logged = logged_in_tensorboard(Path(run_dir))
    elif how == "stdout only":
        logged = logged_in_text(Path(row["log"]).read_text())
    else:
        logged = logged_in_text((Path(run_dir) / "logs" / "log.txt").read_text())
    return {"status": status, "reason": row["reason"], "output_dir": run_dir or "",
            "metrics": expected_metrics(logged),
            "best_checkpoint": checkpoint_of(run_dir, best_mean_success_epoch(logged))}


# --- reading the report -------------------------------------------------------------------

def read_csv(path: Path) -> List[Dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def written(built) -> Built:
    write_report(str(built.folder))
    return built


METRIC_COLUMNS = ["epochs", "train_loss_last", "valid_loss_last", "valid_loss_best", "valid_loss_best_epoch",
                  "success_rate_best", "success_rate_best/Lift", "success_rate_best_epoch/Lift",
                  "success_rate_best/PickPlaceCan", "success_rate_best_epoch/PickPlaceCan"]


def test_results_csv_has_the_issues_columns_in_sweep_order(written):
    rows = read_csv(written.folder / "results.csv")
    assert list(rows[0]) == ["run", "status", LR, SEED, *METRIC_COLUMNS, "best_checkpoint", "output_dir", "reason"]
    assert [r["run"] for r in rows] == list(RUNS)


@pytest.mark.parametrize("name", RUNS, ids=[f"{n} ({RUNS[n][3]})" for n in RUNS])
def test_every_number_is_what_the_run_logged(written, name):
    row = {r["run"]: r for r in read_csv(written.folder / "results.csv")}[name]
    want = written.expected[name]
    got = {c: float(row[c]) for c in METRIC_COLUMNS if row[c] != ""}
    assert got == want["metrics"]
    assert (row["status"], row["reason"], row["output_dir"]) == (want["status"], want["reason"], want["output_dir"])
    assert row["best_checkpoint"] == want["best_checkpoint"]


def test_the_runs_numbers_are_really_there(written):
    """The expectations above are not vacuous: each kind of run holds what it should."""
    epochs = {name: want["metrics"].get("epochs") for name, want in written.expected.items()}
    assert epochs == {**{n: EPOCHS for n in RUNS}, "lr_0.0003_seed_1": 3, "lr_0.0003_seed_2": 4,
                      "lr_0.003_seed_1": 2, "lr_0.003_seed_2": None, "lr_3e-05_seed_1": None}
    assert all(want["best_checkpoint"] for name, want in written.expected.items() if RUNS[name][3] == "log.txt")


def test_swept_values_are_json_and_constant_keys_are_left_out_of_the_columns(written):
    rows = {r["run"]: r for r in read_csv(written.folder / "results.csv")}
    assert (rows["lr_0.0001_seed_2"][LR], rows["lr_0.0001_seed_2"][SEED]) == ("0.0001", "2")
    assert "algo.rnn.enabled" not in rows["lr_0.0001_seed_2"]
    assert "Same in every run: `algo.rnn.enabled` = false." in (written.folder / "results.md").read_text()


def test_seeds_are_aggregated_by_hand(written):
    rows = read_csv(written.folder / "results_by_config.csv")
    assert list(rows[0])[:3] == [LR, "n_runs", "n_finished"]
    assert list(rows[0])[3:] == [f"{m}_{s}" for m in METRIC_COLUMNS for s in ("mean", "std")]
    by_lr = {r[LR]: r for r in rows}
    assert list(by_lr) == ["0.001", "0.0001", "0.0003", "0.003", "0.01", "3e-05"]
    for lr, finished in (("0.001", ["lr_0.001_seed_1", "lr_0.001_seed_2"]),
                         ("0.01", ["lr_0.01_seed_1", "lr_0.01_seed_2"])):
        for metric in METRIC_COLUMNS:
            values = [written.expected[n]["metrics"][metric] for n in finished
                      if metric in written.expected[n]["metrics"]]
            if not values:
                assert by_lr[lr][f"{metric}_mean"] == by_lr[lr][f"{metric}_std"] == ""
                continue
            assert float(by_lr[lr][f"{metric}_mean"]) == pytest.approx(statistics.fmean(values), rel=1e-12)
            assert float(by_lr[lr][f"{metric}_std"]) == pytest.approx(statistics.stdev(values), rel=1e-12, abs=1e-15)


def test_only_finished_runs_are_aggregated(written):
    by_lr = {r[LR]: r for r in read_csv(written.folder / "results_by_config.csv")}
    # failed + interrupted: counted, not aggregated; skipped counts as finished; pending is not.
    assert (by_lr["0.0003"]["n_runs"], by_lr["0.0003"]["n_finished"], by_lr["0.0003"]["epochs_mean"]) == ("2", "0", "")
    skipped = written.expected["lr_3e-05_seed_2"]["metrics"]
    assert (by_lr["3e-05"]["n_runs"], by_lr["3e-05"]["n_finished"]) == ("2", "1")
    assert float(by_lr["3e-05"]["valid_loss_best_mean"]) == skipped["valid_loss_best"]
    assert by_lr["3e-05"]["valid_loss_best_std"] == ""  # one run: no sample deviation


def md_runs(folder: Path) -> List[str]:
    """The run names of results.md's runs table, top to bottom."""
    text = (folder / "results.md").read_text().split("## Configs")[0]
    return [line.split(" | ")[1] for line in text.splitlines() if re.match(r"\| \d+ \|", line)]


def ranked_by_hand(expected: Dict[str, Dict[str, Any]], metric: str, higher: bool) -> List[str]:
    have = [n for n in RUNS if metric in expected[n]["metrics"]]
    have.sort(key=lambda n: -expected[n]["metrics"][metric] if higher else expected[n]["metrics"][metric])
    return have + [n for n in RUNS if n not in have]


def test_ranking_defaults_to_mean_best_success_rate_higher_first(written):
    text = (written.folder / "results.md").read_text()
    assert "Ranked by **success_rate_best** (higher is better)." in text
    assert md_runs(written.folder) == ranked_by_hand(written.expected, "success_rate_best", higher=True)


@pytest.mark.parametrize("metric,higher", [("valid_loss_best", False), ("success_rate_best/PickPlaceCan", True),
                                           ("train_loss_last", False)])
def test_ranking_by_any_metric_in_its_direction(built, metric, higher):
    report = read_report(str(built.folder), metric)
    assert [r.name for r in report.runs] == ranked_by_hand(built.expected, metric, higher)


def test_best_checkpoint_follows_the_ranking_metric(built):
    report = read_report(str(built.folder), "valid_loss_best")
    run = next(r for r in report.runs if r.name == "lr_0.001_seed_1")
    best_epoch = int(built.expected["lr_0.001_seed_1"]["metrics"]["valid_loss_best_epoch"])
    assert run.best_checkpoint("valid_loss_best") == checkpoint_of(built.expected["lr_0.001_seed_1"]["output_dir"],
                                                                    best_epoch)
    assert "_best_validation_" in run.best_checkpoint("valid_loss_best")


def test_top_rows_printed_are_the_best_runs(written):
    report = read_report(str(written.folder))
    text = format_top(report, 3)
    lines = text.splitlines()
    assert lines[0] == f"Best 3 of {len(RUNS)} runs by success_rate_best (higher is better):"
    best = ranked_by_hand(written.expected, "success_rate_best", higher=True)[:3]
    assert [line.split()[-1] for line in lines[2:5]] == best
    assert str(written.folder / "results.md") in lines[-1]


def test_failed_interrupted_running_and_pending_rows_say_why(written):
    rows = {r["run"]: r for r in read_csv(written.folder / "results.csv")}
    assert (rows["lr_0.0003_seed_1"]["status"], rows["lr_0.0003_seed_1"]["reason"]) == ("failed", "CUDA out of memory")
    assert rows["lr_0.0003_seed_2"]["status"] == "interrupted"
    assert rows["lr_0.003_seed_1"]["status"] == "running" and rows["lr_0.003_seed_1"]["output_dir"]
    # Its only folder predates the run's start: an earlier training's, not shown as this one's.
    assert (rows["lr_0.003_seed_2"]["output_dir"], rows["lr_0.003_seed_2"]["epochs"]) == ("", "")
    assert (rows["lr_3e-05_seed_1"]["status"], rows["lr_3e-05_seed_1"]["epochs"]) == ("pending", "")


def test_plots_are_pngs_that_open(written):
    from matplotlib.image import imread

    names = sorted(p.name for p in (written.folder / "plots").iterdir())
    assert names == sorted(["curves_train_loss.png", "curves_valid_loss.png", "curves_success_rate_Lift.png",
                            "curves_success_rate_PickPlaceCan.png", f"by_{LR}.png"])
    for name in names:
        image = imread(written.folder / "plots" / name)
        assert image.shape[0] > 200 and image.shape[1] > 300
    assert f"![by_{LR}](plots/by_{LR}.png)" in (written.folder / "results.md").read_text()


def test_a_rewrite_replaces_the_folders_whole_and_leaves_no_temporary_files(written, monkeypatch):
    (written.folder / "plots" / "stale.png").write_bytes(b"old")
    (written.folder / ".rmsweep-report-999999999-plots").mkdir()  # a killed report's (no such pid)
    monkeypatch.setattr("launcher.report.write._draw", lambda path, report: [])
    write_report(str(written.folder))
    assert list((written.folder / "plots").iterdir()) == []
    assert not [p for p in written.folder.iterdir() if p.name.startswith(".rmsweep")]
    assert len(list((written.folder / "tensorboard").iterdir())) == len(RUNS) + 1


# --- other sweeps ---------------------------------------------------------------------------

def test_a_running_run_is_found_through_multirun_yaml_when_the_launch_is_gone(built, tmp_path):
    import shutil

    copy = tmp_path / "sd"
    shutil.copytree(built.folder, copy, ignore=shutil.ignore_patterns(".sweep", "results*", "plots", "tensorboard"))
    (copy / "multirun.yaml").write_text(f"hydra:\n  runtime:\n    cwd: {built.folder.parent}\n"
                                        f"launch:\n  train_script: {REPO / 'train_stub.py'}\n")
    report = read_report(str(copy))
    running = next(r for r in report.runs if r.name == "lr_0.003_seed_1")
    assert running.source.output_dir == built.expected["lr_0.003_seed_1"]["output_dir"]
    assert running.metrics["epochs"] == 2


def test_a_manifest_line_that_cannot_be_read_is_a_row_that_says_so(built, tmp_path, monkeypatch):
    import shutil

    monkeypatch.setattr("launcher.report.write._draw", lambda path, report: [])

    copy = tmp_path / "sd"
    shutil.copytree(built.folder, copy, ignore=shutil.ignore_patterns("results*", "plots", "tensorboard"))
    lines = (copy / "manifest.jsonl").read_text().splitlines(keepends=True)
    lines[1] = lines[1][:60] + "\n"  # cut: its name survives
    lines[2] = "\x00garbage\n"
    (copy / "manifest.jsonl").write_text("".join(lines))
    report = write_report(str(copy))
    assert len(report.runs) == len(RUNS), "no run vanishes"
    by_name = {r.name: r for r in report.runs}
    cut, garbage = by_name[list(RUNS)[1]], by_name["(line 3 of manifest.jsonl)"]
    assert (cut.status, cut.reason, cut.metrics) == ("unknown", "line 2 of manifest.jsonl could not be read", {})
    assert (garbage.status, garbage.reason) == ("unknown", "line 3 of manifest.jsonl could not be read")
    assert report.keys == (LR, SEED), "the unreadable rows leave the swept keys as they are"


def test_iql_loss_is_its_actor_loss(tmp_path):
    config = {"algo_name": "iql", "experiment": {"name": "iql_run", "validate": True, "rollout": {"enabled": False}},
              "train": {"data": str(DEMO), "output_dir": str(tmp_path / "out"), "num_epochs": 3,
                        "hdf5_filter_key": "train", "hdf5_validation_filter_key": "valid"}}
    run_dir, _ = train(config, tmp_path)
    sweep = tmp_path / "sd"
    sweep.mkdir()
    (sweep / "manifest.jsonl").write_text(json.dumps(
        {"index": 0, "name": "iql_run", "status": "succeeded", "params": {SEED: 1}, "output_dir": str(run_dir)}) + "\n")
    blocks = [json.loads(b) for _, _, b in BLOCK.findall((run_dir / "logs" / "log.txt").read_text())]
    assert all("Loss" not in b for b in blocks)
    (result,) = read_report(str(sweep)).runs
    train_blocks = [b for kind, _, b in BLOCK.findall((run_dir / "logs" / "log.txt").read_text()) if kind == "Train"]
    assert result.metrics["train_loss_last"] == json.loads(train_blocks[-1])["actor/loss"]
    assert result.metrics["valid_loss_best"] == min(b["actor/loss"] for b in blocks[1::2])


SHORT_NAMES = {
    "values differ, labels kept": (["bc_plr_0.001_gmm_t_seed_1", "bc_plr_0.001_gmm_f_seed_2"],
                                   ["gmm_t_seed_1", "gmm_f_seed_2"]),
    "every part differs": (["a_1", "b_2"], ["a_1", "b_2"]),
    "different shapes": (["sweep_x_end", "sweep_y_z_end"], ["x", "y_z"]),
    "one run": (["only_run"], ["only_run"]),
    "nothing left": (["a_b", "a_b_c"], ["a_b", "c"]),
}


@pytest.mark.parametrize("names,short", SHORT_NAMES.values(), ids=SHORT_NAMES.keys())
def test_plot_labels_keep_what_tells_runs_apart(names, short):
    assert short_names(names) == short


# --- the command line -------------------------------------------------------------------------

def test_cli_missing_folder_is_one_line_and_exit_1_in_a_real_process(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "launcher.report", str(tmp_path / "nope")], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr == f"error: no such folder: {tmp_path / 'nope'}\n" and proc.stdout == ""


@pytest.mark.parametrize("top", ["-3", "three"])
def test_cli_top_must_be_a_count(tmp_path, capsys, top):
    with pytest.raises(SystemExit) as stop:
        report_main([str(tmp_path), "--top", top])
    assert stop.value.code == 2
    assert f"argument --top: must be a whole number, 0 or more; got {top}" in capsys.readouterr().err


def test_cli_not_a_sweep(tmp_path, capsys):
    (tmp_path / "configs").mkdir()
    assert report_main([str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err == (f"error: {tmp_path} is not a sweep folder: it holds neither manifest.jsonl (run mode) "
                   "nor configs/*.json (script mode)\n")
    assert not (tmp_path / "results.csv").exists()


def test_cli_unknown_metric_lists_the_available_ones_and_writes_nothing(built, tmp_path, capsys):
    import shutil

    copy = tmp_path / "sd"
    shutil.copytree(built.folder, copy, ignore=shutil.ignore_patterns("results*", "plots", "tensorboard"))
    assert report_main([str(copy), "--metric", "success"]) == 1
    err = capsys.readouterr().err
    assert err == f"error: unknown metric 'success'; this sweep has: {', '.join(METRIC_COLUMNS)}\n"
    assert not [p for p in copy.iterdir() if p.name.startswith(("results", "plots", "tensorboard"))]


def test_cli_prints_the_top_rows(built, tmp_path, capsys, monkeypatch):
    import shutil

    copy = tmp_path / "sd"
    shutil.copytree(built.folder, copy, ignore=shutil.ignore_patterns("results*", "plots", "tensorboard"))
    monkeypatch.setattr("launcher.report.write._draw", lambda path, report: [])
    assert report_main([str(copy), "--metric", "valid_loss_best", "--top", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    best = ranked_by_hand(built.expected, "valid_loss_best", higher=False)[:2]
    assert out[0] == f"Best 2 of {len(RUNS)} runs by valid_loss_best (lower is better):"
    assert [line.split()[-1] for line in out[2:4]] == best and len(out) == 5


def test_importing_the_package_imports_nothing_and_reading_needs_no_matplotlib(built):
    code = ("import sys, launcher.report; a = set(sys.modules); "
            f"from launcher.report.write import read_report; read_report({str(built.folder)!r}); "
            "print(sorted(m for m in a if m.startswith(('launcher.report.', 'matplotlib', 'launcher.run_mode')))); "
            "print('matplotlib' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert proc.stdout.splitlines() == ["[]", "False"]


def robomimic_log(epochs: List[Dict[str, Any]]) -> str:
    """A log.txt as robomimic prints it, from ``[{"train": loss, "valid": loss, "rollout": {env: rate}}]``."""
    lines = []
    for n, e in enumerate(epochs, 1):
        lines += [f"Train Epoch {n}", json.dumps({"Loss": e["train"]}, indent=4)]
        lines += [f"Validation Epoch {n}", json.dumps({"Loss": e["valid"]}, indent=4)]
        for env, rate in e.get("rollout", {}).items():
            lines += [f"\nEpoch {n} Rollouts took 0.5s (avg) with results:", f"Env: {env}",
                      json.dumps({"Return": rate, "Success_Rate": rate}, indent=4)]
        lines.append(f"\nEpoch {n} Memory Usage: 800 MB\n")
    return "\n".join(lines + ["finished run successfully!", ""])


def test_ties_pick_the_epoch_robomimic_saved(tmp_path):
    """robomimic saves on a validation loss <= the best and on a success rate > the best:
    the last epoch of a tied loss, the first of a tied success rate, hold the checkpoint."""
    run_dir = tmp_path / "out" / "tied" / "20260101000000"
    (run_dir / "logs").mkdir(parents=True)
    (run_dir / "models").mkdir()
    (run_dir / "logs" / "log.txt").write_text(robomimic_log([
        {"train": 0.9, "valid": 0.5, "rollout": {"Lift": 0.2}},
        {"train": 0.8, "valid": 0.4, "rollout": {"Lift": 0.5}},
        {"train": 0.7, "valid": 0.4, "rollout": {"Lift": 0.5}},
    ]))
    for name in ("model_epoch_1_best_validation_0.5_Lift_success_0.2.pth",
                 "model_epoch_2_best_validation_0.4_Lift_success_0.5.pth", "model_epoch_3_best_validation_0.4.pth"):
        (run_dir / "models" / name).write_text("")
    sweep = tmp_path / "sd"
    sweep.mkdir()
    (sweep / "manifest.jsonl").write_text(json.dumps(
        {"index": 0, "name": "tied", "status": "succeeded", "params": {SEED: 1}, "output_dir": str(run_dir)}) + "\n")
    for metric, epoch, checkpoint in (("valid_loss_best", 3, "model_epoch_3_best_validation_0.4.pth"),
                                      ("success_rate_best", 2, "model_epoch_2_best_validation_0.4_Lift_success_0.5.pth"),
                                      ("success_rate_best/Lift", 2, "model_epoch_2_best_validation_0.4_Lift_success_0.5.pth")):
        (result,) = read_report(str(sweep), metric).runs
        assert (result.metric_epochs[metric], Path(result.best_checkpoint(metric)).name) == (epoch, checkpoint)


def test_after_run_prints_the_top_rows(built, tmp_path, capsys, monkeypatch):
    """What run mode calls at its end (through the package, as run mode imports it)."""
    import shutil

    from launcher.report import after_run

    copy = tmp_path / "sd"
    shutil.copytree(built.folder, copy, ignore=shutil.ignore_patterns("results*", "plots", "tensorboard"))
    monkeypatch.setattr("launcher.report.write._draw", lambda path, report: [])
    report = after_run(str(copy), top=2)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"Best 2 of {len(RUNS)} runs by success_rate_best (higher is better):"
    assert report is not None and (copy / "results.md").is_file()


def test_after_run_never_fails_a_sweep(tmp_path, capsys):
    from launcher.report import after_run

    assert after_run(str(tmp_path)) is None
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (f"No report: {tmp_path} is not a sweep folder: it holds neither manifest.jsonl "
                            "(run mode) nor configs/*.json (script mode)\n")


@pytest.mark.parametrize("numbers", [
    pytest.param([1e200, -1e200], id="seeds-1e200-apart"),
    pytest.param([1.7e308, 1.7e308, -1e308], id="near-the-float-limit"),
    pytest.param([1e-300, 3e-300, 2e-300], id="tiny"),
    pytest.param([0.25, 0.25], id="equal"),
    pytest.param([0.1, 0.2, 0.3], id="ordinary"),
])
def test_means_and_deviations_of_any_finite_losses(numbers):
    from launcher.report.metrics import mean, sample_std

    # statistics' mean and stdev compute exactly (fractions): no overflow, a true reference
    assert mean(numbers) == pytest.approx(statistics.mean(numbers), rel=1e-12)
    assert sample_std(numbers) == pytest.approx(statistics.stdev(numbers), rel=1e-12)


def test_a_diverged_seed_does_not_break_the_report(tmp_path):
    """Two seeds of one config, one diverged: the report says so in numbers, no OverflowError."""
    sweep = tmp_path / "sd"
    sweep.mkdir()
    rows = []
    for seed, loss in ((1, 1e200), (2, -1e200)):
        run_dir = tmp_path / "out" / f"s_{seed}" / "20260101000000"
        (run_dir / "logs").mkdir(parents=True)
        (run_dir / "logs" / "log.txt").write_text(robomimic_log([{"train": loss, "valid": loss}]))
        rows.append({"index": seed - 1, "name": f"s_{seed}", "status": "succeeded",
                     "params": {LR: 1e-3, SEED: seed}, "output_dir": str(run_dir)})
    (sweep / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (config,) = write_report(str(sweep)).configs
    assert config.stats["train_loss_last"] == (0.0, pytest.approx(statistics.stdev([1e200, -1e200])))


README_RUNS = [f"bc_rnn_hyper_plr_{lr}_gmm_{g}_rnnd_{d}_mlp_{m}" for lr in ("0.001", "0.0001") for g in "tf"
               for d, m in (("400", "1024"), ("1000", "0"))]


@pytest.mark.parametrize("env", ["Lift", "PickPlaceCan_D0_with_a_long_name"])
def test_every_text_of_a_curves_plot_is_inside_the_picture(env):
    """The README's main command drew curves_success_rate_Lift.png with its title cut at the left edge."""
    from matplotlib.text import Text

    from launcher.report.metrics import Ranking, RunResult
    from launcher.report.plots import curves_figure
    from launcher.report.sources import RunSource

    curve = f"success_rate/{env}"
    runs = [RunResult(RunSource(i, name, "succeeded", {}, None, None), "", {}, {}, {curve: ((1, 0.1), (2, 0.5))}, {})
            for i, name in enumerate(README_RUNS)]
    figure = curves_figure(runs, curve, Ranking("success_rate_best", True))
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    ticks = {id(t) for axes in figure.axes for axis in (axes.xaxis, axes.yaxis)
             for tick in axis.get_major_ticks() + axis.get_minor_ticks() for t in (tick.label1, tick.label2)}
    texts = [t for t in figure.findobj(Text) if t.get_visible() and t.get_text() and id(t) not in ticks]
    assert any(t.get_text().startswith("success rate in") for t in texts)
    for text in texts:
        box = text.get_window_extent(renderer)
        assert 0 <= box.x0 and box.x1 <= figure.bbox.width and 0 <= box.y0 and box.y1 <= figure.bbox.height, \
            f"{text.get_text()!r} is cut off: {box} in {figure.bbox}"
