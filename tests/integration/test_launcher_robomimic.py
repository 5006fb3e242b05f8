"""The launcher trains with robomimic's real train.py: run mode, resume, failures, run.sh.

Through ``python launcher/run.py`` with ``launch.train_script=robomimic`` on the demo
dataset (1 epoch of a few steps, validation on, no rollouts: no robosuite here).
Needs robomimic's training stack (``bash tools/install_robomimic.sh``).
"""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import List

import pandas as pd
import pytest

from launcher.robomimic import logs
from launcher.robomimic.paths import installed_train_script
from tests.helpers import REPO, RUN_PY

pytestmark = pytest.mark.integration

# Found, not imported: collecting this module must stay cheap when it is not run.
MISSING = [m for m in ("torch", "torchvision", "h5py", "tensorboardX", "robomimic") if importlib.util.find_spec(m) is None]
if MISSING:  # pragma: no cover - depends on the machine
    pytest.skip(f"robomimic's training stack is not installed ({', '.join(MISSING)}): "
                "bash tools/install_robomimic.sh", allow_module_level=True)
TRAIN_PY = installed_train_script()

DEMO = REPO / "launcher" / "demo" / "tiny_lift_low_dim.hdf5"
SMALL = ["train.num_epochs=1", "experiment.epoch_every_n_steps=3", "experiment.validation_epoch_every_n_steps=2",
         "experiment.validate=true", "train.hdf5_filter_key=train", "train.hdf5_validation_filter_key=valid",
         "experiment.rollout.enabled=false", f"train.data={DEMO}", "train.cuda=false"]


def app(tmp_path: Path, sd: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, RUN_PY, "launch.mode=run", "launch.train_script=robomimic", *SMALL,
                           f"train.output_dir={tmp_path / 'trained'}", f"hydra.sweep.dir={tmp_path / sd}", *args],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=1800)
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def manifest(tmp_path: Path, sd: str) -> pd.DataFrame:
    return pd.read_json(tmp_path / sd / "manifest.jsonl", lines=True)


def train_losses(run_dir: str) -> List[float]:
    run = logs.read_log(str(Path(run_dir) / "logs" / "log.txt"))
    return [e.train["Loss"] for e in run.epochs] + [e.valid["Loss"] for e in run.epochs]


@pytest.fixture(scope="module")
def seed_sweep(tmp_path_factory):
    """The shipped 8-run sweep, trained by robomimic through the basic launcher."""
    tmp = tmp_path_factory.mktemp("seed_sweep")
    proc = app(tmp, "sd", "sweep=bc_rnn_hyper", "experiment.name=bc_rnn_hyper")
    return tmp, proc


def test_the_shipped_sweep_trains_with_robomimic(seed_sweep):
    tmp, proc = seed_sweep
    table = manifest(tmp, "sd")
    assert len(table) == 8 and set(table["status"]) == {"succeeded"}, table[["name", "status", "reason"]]
    for output_dir in table["output_dir"]:
        run = logs.read_log(str(Path(output_dir) / "logs" / "log.txt"))
        assert run.finished and len(run.epochs) == 1 and "Loss" in run.epochs[0].valid


def test_a_rerun_skips_every_finished_run(seed_sweep):
    tmp, _ = seed_sweep
    proc = app(tmp, "sd2", "sweep=bc_rnn_hyper", "experiment.name=bc_rnn_hyper")
    assert "Skipping 8 of 8 runs" in proc.stdout
    assert set(manifest(tmp, "sd2")["status"]) == {"skipped"}


def test_losses_equal_those_of_train_py_on_the_same_json(seed_sweep, tmp_path):
    tmp, _ = seed_sweep
    row = manifest(tmp, "sd").iloc[0]
    config = json.loads(Path(row["config"]).read_text())
    config["train"]["output_dir"] = str(tmp_path / "direct")
    direct_json = tmp_path / "direct.json"
    direct_json.write_text(json.dumps(config, indent=4))
    subprocess.run([sys.executable, str(TRAIN_PY), "--config", str(direct_json)], check=True, capture_output=True,
                   stdin=subprocess.DEVNULL, timeout=600)
    (direct_run,) = [p for p in (tmp_path / "direct" / row["name"]).iterdir() if p.is_dir()]
    assert train_losses(str(direct_run)) == train_losses(row["output_dir"])


def test_joblib_launcher_trains_with_robomimic(tmp_path):
    app(tmp_path, "sd", "train.seed=1,2", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2")
    assert list(manifest(tmp_path, "sd")["status"]) == ["succeeded", "succeeded"]


@pytest.mark.parametrize(
    "override, error",
    [
        pytest.param("algo.gmm.num_modes=0", "cannot reshape tensor of 0 elements", id="gmm-without-modes"),
        pytest.param("train.hdf5_filter_key=no_such_key", "'no_such_key' doesn't exist", id="missing-filter-key"),
    ],
)
def test_runs_robomimic_crashes_on_are_failed_with_its_own_error(tmp_path, override, error):
    proc = app(tmp_path, "sd", "algo.gmm.enabled=true", "train.seed=tag(name:seed,choice(1))", override, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    (reason,) = manifest(tmp_path, "sd")["reason"]
    assert error in reason, reason
    assert f"1 of 1 runs failed (first: test_seed_1: {reason}" in proc.stderr


def test_run_sh_runs_from_a_shell_without_the_environment(tmp_path):
    """Script mode with train_script=robomimic: run.sh calls this Python, so it needs no activation."""
    out = tmp_path / "gen"
    subprocess.run([sys.executable, RUN_PY, "launch.train_script=robomimic", "train.seed=1,2", *SMALL,
                    f"train.output_dir={tmp_path / 'trained'}", f"launch.config_dir={out}",
                    f"launch.script_file={out / 'run.sh'}", f"hydra.sweep.dir={tmp_path / 'sd'}"],
                   check=True, capture_output=True)
    lines = (out / "run.sh").read_text().splitlines()
    assert lines[2].startswith(f"{sys.executable} {TRAIN_PY} --config ")
    bare = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root")}
    proc = subprocess.run(["bash", str(out / "run.sh")], env=bare, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "No module named" not in proc.stdout + proc.stderr
    # robomimic sends its output to each run's log.txt once training starts.
    runs = [logs.read_log(str(p)) for p in (tmp_path / "trained").glob("*/*/logs/log.txt")]
    assert len(runs) == 2 and all(run.finished for run in runs)


def test_a_two_seed_sweep_through_the_launcher_reports_what_robomimic_logged(tmp_path):
    """launch.mode=run ends with the report; its numbers are robomimic's own, log and TensorBoard."""
    import csv
    import struct

    from launcher.robomimic import tfevents
    from tests.test_report import expected_metrics, logged_in_text

    proc = app(tmp_path, "sd", "train.num_epochs=2", "train.seed=1,2",
               "algo.optim_params.policy.learning_rate.initial=tag(name:lr,choice(1e-3,1e-4))")
    assert "Best 4 of 4 runs by valid_loss_best (lower is better)" in proc.stdout
    table = {r["run"]: r for r in csv.DictReader(open(tmp_path / "sd" / "results.csv", newline=""))}
    by_config = list(csv.DictReader(open(tmp_path / "sd" / "results_by_config.csv", newline="")))
    assert len(table) == 4 and [r["n_runs"] for r in by_config] == ["2", "2"]
    f32 = lambda x: struct.unpack("<f", struct.pack("<f", x))[0]  # noqa: E731  (TensorBoard keeps float32)
    for row in manifest(tmp_path, "sd").itertuples():
        got = table[row.name]
        expected = expected_metrics(logged_in_text((Path(row.output_dir) / "logs" / "log.txt").read_text()))
        assert {k: float(got[k]) for k in expected} == expected
        board = tfevents.read_logdir(str(Path(row.output_dir) / "logs" / "tb"))
        assert f32(float(got["valid_loss_best"])) == min(board["Valid/Loss"].values())
        assert f32(float(got["train_loss_last"])) == board["Train/Loss"][2]
