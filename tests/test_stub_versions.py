"""train_stub.py as each robomimic's train.py: what it takes, how it fails, how it resumes.

The stub behaves as the robomimic named by ``ROBOMIMIC_SWEEP_ROBOMIMIC`` (run mode sets
it), else the installed one. Expected lines and messages are robomimic's, as measured on
each tree (/work/research/robomimic/REPORT.md sections 2-4: its train.py's errors on
``train.data``, the resume lines of master's log, diffusion policy's learning rates over
its first two epochs of five batches); act's metric names are read from robocasa's
``algo/act.py``.
"""
import contextlib
import io
import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest

import train_stub
from launcher.robomimic import logs, tfevents
from launcher.robomimic.versions import ENV_VAR
from tests.test_train_stub import DEMO, run_dir_of, stub, write

BASE = {"experiment": {"name": "v", "epoch_every_n_steps": 5, "rollout": {"enabled": False}},
        "train": {"num_epochs": 2}}


def config(algo: str = "bc", **train: Any) -> Dict[str, Any]:
    return {"algo_name": algo, "experiment": dict(BASE["experiment"]), "train": {**BASE["train"], **train}}


def train(tmp_path: Path, robomimic: str, cfg: Dict[str, Any], *flags: str, stdin: str = ""):
    """``ROBOMIMIC_SWEEP_ROBOMIMIC=<robomimic> python train_stub.py --config ... <flags>``, in this
    process (as fast as the suite needs): its exit code, stdout and stderr."""
    argv = ["--config", str(write(tmp_path, cfg)), *flags]
    out, err = io.StringIO(), io.StringIO()
    saved = os.environ.get(ENV_VAR), sys.stdin
    os.environ[ENV_VAR], sys.stdin = robomimic, io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = train_stub.main(train_stub.parser().parse_args(argv))
    finally:
        sys.stdin = saved[1]
        if saved[0] is None:
            del os.environ[ENV_VAR]
        else:
            os.environ[ENV_VAR] = saved[0]
    return SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


# -- train.data, as each train.py reads it ---------------------------------------------------

@pytest.mark.parametrize("robomimic, data, error", [
    pytest.param("0.3.0", [{"path": str(DEMO)}], "expected str, bytes or os.PathLike object, not list",
                 id="0.3.0-reads-one-path"),
    pytest.param("robocasa", str(DEMO), "string indices must be integers, not 'str'", id="robocasa-reads-a-list"),
    pytest.param("master", [{"path": "/nope/gone.hdf5"}], "Dataset at provided path /nope/gone.hdf5 not found!",
                 id="master-missing-dataset"),
    pytest.param("master", [{"weight": 1.0}], "'path'", id="master-dataset-without-path"),
    pytest.param("0.5.0", [{"path": str(DEMO)}, {"path": str(DEMO)}], "AssertionError",
                 id="0.5.0-several-datasets-cached-all"),
])
def test_train_data_fails_as_that_train_py_fails(tmp_path, robomimic, data, error):
    proc = train(tmp_path, robomimic, config(data=data))
    assert proc.returncode == 1 and "run failed with error:" in proc.stdout
    assert logs.robomimic_error(proc.stdout) == error


@pytest.mark.parametrize("robomimic, data, saved", [
    pytest.param("master", str(DEMO), [{"path": str(DEMO)}], id="master-writes-a-string-as-a-list"),
    pytest.param("0.5.0", [{"path": str(DEMO)}, {"path": str(DEMO), "weight": 2}], None, id="0.5.0-two-datasets"),
    pytest.param("dexmimicgen", str(DEMO), str(DEMO), id="dexmimicgen-keeps-the-string"),
    pytest.param("robocasa", [{"path": str(DEMO), "horizon": 500}], None, id="robocasa-list"),
    pytest.param("0.3.0", str(DEMO), str(DEMO), id="0.3.0-path"),
])
def test_train_data_as_that_train_py_reads_it(tmp_path, robomimic, data, saved):
    cfg = config(data=data, hdf5_cache_mode="low_dim")
    proc = train(tmp_path, robomimic, cfg)
    assert proc.returncode == 0, proc.stdout
    written = json.loads((run_dir_of(tmp_path, "v") / "config.json").read_text())["train"]["data"]
    assert written == (data if saved is None else saved)


def test_new_keys_at_any_depth_of_a_plain_dict_are_taken(tmp_path):
    """master's train.action_config is a plain dict: Config.update takes any key in it and
    dict.update's it one level deep (robomimic/config/config.py, update)."""
    action_config = {"actions": {"format": "rot_6d", "new_setting": {"deeper": 1}},
                     "new_gripper": {"normalization": None}}
    proc = train(tmp_path, "master", config(data=str(DEMO), action_config=action_config))
    assert proc.returncode == 0, proc.stdout
    written = json.loads((run_dir_of(tmp_path, "v") / "config.json").read_text())["train"]["action_config"]
    assert written == action_config


# -- what each writes ---------------------------------------------------------------------------

@pytest.mark.parametrize("robomimic, last", [("0.3.0", False), ("0.5.0", True), ("master", True),
                                             ("robocasa", False), ("dexmimicgen", True)])
def test_last_pth_beside_models_where_that_train_py_writes_it(tmp_path, robomimic, last):
    data = str(DEMO) if robomimic != "robocasa" else [{"path": str(DEMO)}]
    proc = train(tmp_path, robomimic, config(data=data))
    assert proc.returncode == 0, proc.stdout
    folder = run_dir_of(tmp_path, "v")
    assert {(folder / "last.pth").is_file(), (folder / "last_bak.pth").is_file()} == {last}
    assert (f"saving latest model at {folder}/last.pth..." in proc.stdout) == last


@pytest.mark.parametrize("algo, keys", [
    ("diffusion_policy", ["Loss", "Optimizer/policy0_lr", "Policy_Grad_Norms"]),
    ("act", ["KL_Loss", "Loss", "Optimizer/policy0_lr", "Policy_Grad_Norms", "Reconstruction_Loss"]),
])
def test_new_algorithms_log_their_metric_names(tmp_path, algo, keys):
    proc = train(tmp_path, "robocasa", config(algo, data=[{"path": str(DEMO)}]))
    assert proc.returncode == 0, proc.stdout
    run = logs.read_run(str(run_dir_of(tmp_path, "v")))
    assert [sorted(k for k in e.train if not k.startswith("Time_")) for e in run.epochs] == [[], keys, keys]
    assert [e.epoch for e in run.epochs] == [0, 1, 2]  # robocasa's loop starts at 0: memory only


def test_diffusion_policys_warm_up_learning_rate_is_masters(tmp_path):
    """Logged by master on the demo data (5 batches an epoch, warm-up 500 steps): 6e-07, 1.6e-06."""
    proc = train(tmp_path, "master", config("diffusion_policy", data=str(DEMO)))
    assert proc.returncode == 0, proc.stdout
    rates = [e.train["Optimizer/policy0_lr"] for e in logs.read_run(str(run_dir_of(tmp_path, "v"))).epochs]
    assert rates == pytest.approx([6e-07, 1.6e-06])


def test_dexmimicgens_bc_logs_its_extra_loss(tmp_path):
    proc = train(tmp_path, "dexmimicgen", config(data=str(DEMO)))
    assert "L1_NS_Loss" in logs.read_run(str(run_dir_of(tmp_path, "v"))).epochs[0].train, proc.stdout


# -- --resume ------------------------------------------------------------------------------------

RESUME_LINES = ["*" * 50, "resuming from ckpt at {folder}/last.pth", "*" * 50]


def trained_then_resumed(tmp_path: Path, robomimic: str, *flags: str):
    data = str(DEMO)
    assert train(tmp_path, robomimic, config(data=data)).returncode == 0
    return train(tmp_path, robomimic, config(data=data, num_epochs=3), "--resume", *flags)


@pytest.mark.parametrize("robomimic", ["master", "0.5.0", "dexmimicgen"])
def test_resume_continues_in_the_same_folder_from_the_next_epoch(tmp_path, robomimic):
    proc = trained_then_resumed(tmp_path, robomimic)
    assert proc.returncode == 0, proc.stdout
    folder = run_dir_of(tmp_path, "v")  # still one timestamp folder
    text = (folder / "logs" / "log.txt").read_text()
    assert "\n".join(RESUME_LINES).format(folder=folder) in text
    assert "\n".join(["*" * 50, "resuming training from epoch 3", "*" * 50]) in text
    assert text.count("finished run successfully!") == 2  # log.txt is appended
    run = logs.read_log(str(folder / "logs" / "log.txt"))
    assert [e.epoch for e in run.epochs] == [1, 2, 3] and run.finished
    assert len(os.listdir(folder / "logs" / "tb")) == 2  # a second events file
    assert sorted(tfevents.read_logdir(str(folder / "logs" / "tb"))["Train/Loss"]) == [1, 2, 3]
    assert json.loads((folder / "config.json").read_text())["train"]["num_epochs"] == 3
    assert json.loads((folder / "last.pth").read_text())["variable_state"]["epoch"] == 3


def test_resume_falls_back_to_the_backup_when_last_pth_is_broken(tmp_path):
    assert train(tmp_path, "master", config(data=str(DEMO))).returncode == 0
    folder = run_dir_of(tmp_path, "v")
    (folder / "last.pth").write_text("{ cut off")
    proc = train(tmp_path, "master", config(data=str(DEMO), num_epochs=3), "--resume")
    assert proc.returncode == 0, proc.stdout
    assert f"when loading from {folder}/last.pth\ntrying backup path {folder}/last_bak.pth\n" in proc.stdout
    assert "resuming training from epoch 3" in proc.stdout


def two_timestamp_folders(tmp_path: Path) -> List[str]:
    out = tmp_path / "out" / "v"
    assert train(tmp_path, "master", config(data=str(DEMO))).returncode == 0
    (first,) = os.listdir(out)
    os.rename(out / first, out / "20200101000000")
    assert train(tmp_path, "master", config(data=str(DEMO)), stdin="n\n").returncode == 0  # keep the old one
    return sorted(os.listdir(out))


def test_master_resumes_the_newest_run_folder(tmp_path):
    folders = two_timestamp_folders(tmp_path)
    proc = train(tmp_path, "master", config(data=str(DEMO), num_epochs=3), "--resume")
    assert proc.returncode == 0 and f"/out/v/{folders[-1]}/last.pth" in proc.stdout


@pytest.mark.parametrize("robomimic", ["0.5.0", "dexmimicgen"])
def test_0_5_0_and_dexmimicgen_resume_only_a_single_run_folder(tmp_path, robomimic):
    folders = two_timestamp_folders(tmp_path)
    proc = train(tmp_path, robomimic, config(data=str(DEMO), num_epochs=3), "--resume")
    error = logs.robomimic_error(proc.stdout)
    assert error.startswith("Found more than one subdir [") and error.endswith(f"] in output dir {tmp_path}/out/v")
    assert all(folder in error for folder in folders)


def test_resume_without_a_run_says_so(tmp_path):
    proc = train(tmp_path, "master", config(data=str(DEMO)), "--resume")
    assert logs.robomimic_error(proc.stdout) == \
        f"Resuming training run, but output dir {tmp_path}/out/v does not exist"


@pytest.mark.parametrize("robomimic", ["0.3.0", "robocasa"])
def test_resume_is_refused_where_train_py_has_no_such_option(tmp_path, robomimic):
    data = str(DEMO) if robomimic == "0.3.0" else [{"path": str(DEMO)}]
    proc = train(tmp_path, robomimic, config(data=data), "--resume")
    assert proc.returncode == 2 and proc.stderr.endswith("error: unrecognized arguments: --resume\n")
    assert not (tmp_path / "out").exists()


def test_without_the_variable_the_stub_is_the_installed_robomimic(tmp_path):
    proc = stub(["--config", str(write(tmp_path, config(data=[{"path": str(DEMO)}])))], tmp_path)
    assert logs.robomimic_error(proc.stdout) == "expected str, bytes or os.PathLike object, not list"  # 0.3.0's
