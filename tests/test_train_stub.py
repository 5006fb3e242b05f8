"""train_stub.py behaves like robomimic 0.3.0's train.py where the launcher and a user
can tell: what it accepts, where it writes, what log.txt, TensorBoard and models/ hold.

The reference is robomimic itself: its key-locked ``Config.update`` (robomimic's config
code is installed without torch), and the metric names, TensorBoard tags and
checkpoint names observed in real robomimic 0.3.0 runs on the demo dataset
(``tests/integration`` checks those against real training where torch is installed).
"""
import contextlib
import io
import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

import train_stub
from launcher.robomimic import logs, tfevents
from tests.helpers import REPO, robomimic_default

STUB = str(REPO / "train_stub.py")
DEMO = REPO / "launcher" / "demo" / "tiny_lift_low_dim.hdf5"


def write(tmp_path: Path, config: Dict[str, Any], name: str = "c.json", data: Optional[Path] = DEMO) -> Path:
    """The config as a JSON file, training on ``data`` into ``tmp_path/out``."""
    config = json.loads(json.dumps(config))
    train = config.setdefault("train", {})
    if train.get("data") is None:
        train["data"] = str(data)
    train["output_dir"] = str(tmp_path / "out")
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / name
    path.write_text(json.dumps(config))
    return path


def stub_in_process(tmp_path: Path, config: Dict[str, Any], name: str = "c.json") -> int:
    """``python train_stub.py --config ...``, in this process: its exit code."""
    args = train_stub.parser().parse_args(["--config", str(write(tmp_path, config, name))])
    with contextlib.redirect_stdout(io.StringIO()):
        return train_stub.main(args)


def stub(args: List[str], cwd: Path, stdin: Optional[str] = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, STUB, *args], cwd=cwd, capture_output=True, text=True,
                          input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL)


def run_dir_of(tmp_path: Path, name: str) -> Path:
    (run_dir,) = (tmp_path / "out" / name).iterdir()
    return run_dir


def run_log(tmp_path: Path, config: Dict[str, Any]) -> logs.RunLog:
    assert stub_in_process(tmp_path, config) == 0
    return logs.read_run(str(run_dir_of(tmp_path, config["experiment"]["name"])))


# --- what it accepts --------------------------------------------------------------

def robomimic_accepts(ext: Dict[str, Any]) -> bool:
    """What robomimic's train.py does with a JSON: update the algo's config under key lock."""
    from robomimic.config import config_factory

    config = config_factory(ext["algo_name"])
    try:
        with config.values_unlocked():
            config.update(ext)
    except RuntimeError:
        return False
    return True


CASES = {
    "partial, known keys": {"algo_name": "bc", "experiment": {"name": "x"}, "algo": {"gmm": {"enabled": True}}},
    "unknown top-level key": {"algo_name": "bc", "experiment": {"name": "x"}, "bogus": 1},
    "unknown key in a locked section": {"algo_name": "bc", "experiment": {"name": "x"}, "algo": {"gmm": {"enable": True}}},
    "new key in an open section": {"algo_name": "bc", "experiment": {"name": "x"},
                                   "observation": {"modalities": {"obs": {"my_cam": ["c"]}}}},
    "new encoder in open observation.encoder": {"algo_name": "bcq", "experiment": {"name": "x"},
                                                "observation": {"encoder": {"thermal": {"core_class": None}}}},
    "unknown key in a locked child of an open section": {
        "algo_name": "bc", "experiment": {"name": "x"}, "observation": {"encoder": {"rgb": {"bogus": 1}}}},
    "hbc planner key": {"algo_name": "hbc", "experiment": {"name": "x"}, "algo": {"planner": {"subgoal_horizon": 5}}},
    "null for an int (turns a feature off)": {"algo_name": "bc", "experiment": {"name": "x", "save": {"every_n_epochs": None}}},
    "unknown key under a known key": {"algo_name": "bc", "experiment": {"name": "x", "rollout": {"often": 1}}},
}


@pytest.mark.parametrize("config", CASES.values(), ids=CASES.keys())
def test_accepts_exactly_what_robomimic_accepts(tmp_path, config, capsys):
    accepted_by_robomimic = robomimic_accepts(json.loads(json.dumps(config)))
    config = {**config, "train": {"num_epochs": 1}}
    args = train_stub.parser().parse_args(["--config", str(write(tmp_path, config))])
    code = train_stub.main(args)
    out = capsys.readouterr().out
    assert (code == 0) == accepted_by_robomimic, out
    if not accepted_by_robomimic:
        assert "run failed with error:" in out and "is not a key" in out


@pytest.mark.parametrize("algo", ["bc", "bcq", "hbc", "iris", "td3_bc"])
def test_saved_config_is_robomimics_merged_config(tmp_path, algo):
    from robomimic.config import config_factory

    ext = {"algo_name": algo, "experiment": {"name": "merged"}, "train": {"seed": 7, "num_epochs": 1}}
    path = write(tmp_path, ext)
    expected = config_factory(algo)
    with expected.values_unlocked():
        expected.update(json.loads(path.read_text()))
    assert stub_in_process(tmp_path, ext) == 0
    saved = json.loads((run_dir_of(tmp_path, "merged") / "config.json").read_text())
    assert saved == json.loads(expected.dump())


FAILURES = {
    "missing dataset": ({"train": {"data": "/nonexistent/nope.hdf5"}},
                        "Dataset at provided path /nonexistent/nope.hdf5 not found!"),
    "validation without filter keys": ({"experiment": {"validate": True}},
                                       "did not specify filter keys corresponding to train and valid split"),
    "validation with obs normalization": (
        {"experiment": {"validate": True}, "train": {"hdf5_normalize_obs": True, "hdf5_filter_key": "train",
                                                      "hdf5_validation_filter_key": "valid"}},
        "no support for observation normalization with validation data yet"),
    "validation filter key without validation": ({"train": {"hdf5_validation_filter_key": "valid"}},
                                                 "specified validation filter key valid, but"),
}


@pytest.mark.parametrize("update,message", FAILURES.values(), ids=FAILURES.keys())
def test_robomimics_failures_exit_1_with_its_message_in_stdout_and_log(tmp_path, update, message):
    config = {"algo_name": "bc", **update}
    config["experiment"] = {**update.get("experiment", {}), "name": "fails"}
    proc = stub(["--config", str(write(tmp_path, config))], tmp_path)
    assert proc.returncode == 1
    assert f"run failed with error:\n{message}" in proc.stdout
    log = (run_dir_of(tmp_path, "fails") / "logs" / "log.txt").read_text()
    assert logs.robomimic_error(log).startswith(message)


# --- what it writes -----------------------------------------------------------------

TIME_KEYS = ["Time_Data_Loading", "Time_Epoch", "Time_Log_Info", "Time_Process_Batch", "Time_Train_Batch"]
BC = ["Cosine_Loss", "L1_Loss", "L2_Loss", "Loss", "Optimizer/policy0_lr", "Policy_Grad_Norms"]
GMM = ["Log_Likelihood", "Loss", "Optimizer/policy0_lr", "Policy_Grad_Norms"]
BCQ = ["Action_Sampler/Encoder_Variance", "Action_Sampler/Grad_Norms", "Action_Sampler/KL_Loss",
       "Action_Sampler/Loss", "Action_Sampler/Reconsruction_Loss", "Critic/Critic1_Grad_Norms", "Critic/Critic1_Loss",
       "Critic/Critic2_Grad_Norms", "Critic/Critic2_Loss", "Critic/Done_Mask_Percentage", "Critic/Q_Targets", "Loss",
       "Optimizer/action_sampler0_lr", "Optimizer/critic00_lr", "Optimizer/critic10_lr"]
CQL = ["Actor/Grad_Norms", "Actor/Loss", "Critic/CQL_Grad_Norms", "Critic/CQL_Weight", "Critic/CQL_Weight_Loss",
       "Critic/Critic1_Grad_Norms", "Critic/Critic1_Loss", "Critic/Critic2_Grad_Norms", "Critic/Critic2_Loss",
       "Critic/Done_Mask_Percentage", "Entropy_Grad_Norms", "Entropy_Weight", "Entropy_Weight_Loss", "Loss",
       "Optimizer/actor0_lr", "Optimizer/cql0_lr", "Optimizer/critic00_lr", "Optimizer/critic10_lr",
       "Optimizer/entropy0_lr"]
IQL = ["actor/log_prob", "actor/loss", "adv/adv/max", "adv/adv/mean", "adv/adv/min", "adv/adv/std",
       "adv/adv_weight/max", "adv/adv_weight/mean", "adv/adv_weight/min", "adv/adv_weight/std", "critic/critic1_loss",
       "critic/critic1_pred", "vf/q_pred/max", "vf/q_pred/mean", "vf/q_pred/min", "vf/q_pred/std", "vf/v_loss",
       "vf/v_pred/max", "vf/v_pred/mean", "vf/v_pred/min", "vf/v_pred/std"]
TD3_BC = ["Actor/Grad_Norms", "Actor/Loss", "Critic/Critic1_Grad_Norms", "Critic/Critic1_Loss",
          "Critic/Critic2_Grad_Norms", "Critic/Critic2_Loss", "Critic/Done_Mask_Percentage", "Critic/Q_Targets", "Loss",
          "Optimizer/actor0_lr", "Optimizer/critic00_lr", "Optimizer/critic10_lr"]
RNN = {"rnn": {"enabled": True, "horizon": 10}}


def not_grads(keys: List[str], also: str = "Grad_Norms") -> List[str]:
    """robomimic's validation epochs log no gradient norms (nor cql's CQL weight tuning)."""
    return [k for k in keys if "Grad_Norms" not in k and also not in k]


# Metric names seen in real robomimic 0.3.0 logs (train, validation), validation on.
METRIC_NAMES = {
    "bc": ("bc", {}, BC, not_grads(BC)),
    "bc-rnn": ("bc", RNN, BC, not_grads(BC)),
    "bc-rnn with GMM": ("bc", {**RNN, "gmm": {"enabled": True}}, GMM, not_grads(GMM)),
    "bc with GMM": ("bc", {"gmm": {"enabled": True}}, GMM, not_grads(GMM)),
    "bcq": ("bcq", {}, BCQ, not_grads(BCQ)),
    "cql": ("cql", {}, CQL, not_grads(CQL, "Critic/CQL_")),
    "iql": ("iql", {}, IQL, IQL),
    "td3_bc": ("td3_bc", {}, TD3_BC, not_grads(TD3_BC)),
}


def validated(algo: str, algo_update: Dict[str, Any], name: str, **experiment: Any) -> Dict[str, Any]:
    return {"algo_name": algo, "algo": algo_update,
            "experiment": {"name": name, "validate": True, **experiment},
            "train": {"num_epochs": 2, "hdf5_filter_key": "train", "hdf5_validation_filter_key": "valid",
                      "hdf5_normalize_obs": False}}


@pytest.mark.parametrize("algo,algo_update,train_keys,valid_keys", METRIC_NAMES.values(), ids=METRIC_NAMES.keys())
def test_metric_names_are_robomimics(tmp_path, algo, algo_update, train_keys, valid_keys):
    run = run_log(tmp_path, validated(algo, algo_update, "names"))
    for epoch in run.epochs:
        assert sorted(epoch.train) == sorted(train_keys + TIME_KEYS)
        assert sorted(epoch.valid) == sorted(valid_keys + TIME_KEYS)


def test_log_blocks_are_robomimics_format(tmp_path):
    """``Train Epoch N`` then json.dumps(..., sort_keys=True, indent=4), per epoch."""
    run = run_log(tmp_path, validated("bc", {}, "format"))
    text = (run_dir_of(tmp_path, "format") / "logs" / "log.txt").read_text()
    for e in run.epochs:
        assert f"Train Epoch {e.epoch}\n{json.dumps(e.train, sort_keys=True, indent=4)}\n" in text
        assert f"Validation Epoch {e.epoch}\n{json.dumps(e.valid, sort_keys=True, indent=4)}\n" in text
        assert f"\nEpoch {e.epoch} Memory Usage: {int(e.memory_mb)} MB\n" in text
    assert text.endswith("\nfinished run successfully!\n")


def tb_tags(run_dir: Path) -> List[str]:
    return sorted(tfevents.read_logdir(str(run_dir / "logs" / "tb")))


# robomimic's DataLogger through tensorboardX (which turns "System/RAM Usage (MB)" into
# "System/RAM_Usage__MB_"), as in a real bc run with validation; rollout tags per
# scripts/train.py: Rollout/<key>/<env> with log_stats (-mean, -std, -min, -max).
BC_TAGS = sorted(
    ["System/RAM_Usage__MB_"]
    + [f"Timing_Stats/{s}_{k}" for s in ("Train", "Valid") for k in
       ("Data_Loading", "Epoch", "Log_Info", "Process_Batch", "Train_Batch")]
    + [f"Train/{k}" for k in BC] + [f"Valid/{k}" for k in not_grads(BC)])
ROLLOUT_TAGS = sorted(
    [f"Rollout/{k}/Lift{stat}" for k in ("Horizon", "Return", "Success_Rate", "time")
     for stat in ("", "-mean", "-std", "-min", "-max")] + ["Timing_Stats/Rollout_Lift_Episode"])


def test_tensorboard_tags_are_robomimics(tmp_path):
    config = validated("bc", {}, "tags", rollout={"enabled": True, "rate": 1, "n": 4})
    assert stub_in_process(tmp_path, config) == 0
    run_dir = run_dir_of(tmp_path, "tags")
    assert tb_tags(run_dir) == sorted(BC_TAGS + ROLLOUT_TAGS)
    steps = tfevents.read_logdir(str(run_dir / "logs" / "tb"))["Train/Loss"]
    assert sorted(steps) == [1, 2]  # step = epoch


def test_rollouts_report_a_deterministic_success_rate_per_env(tmp_path):
    config = {"algo_name": "bc", "experiment": {"name": "roll", "additional_envs": ["PickPlaceCan"],
                                                "rollout": {"enabled": True, "rate": 2, "n": 8}},
              "train": {"num_epochs": 4}}
    first, again = run_log(tmp_path / "a", config), run_log(tmp_path / "b", config)
    assert [sorted(e.rollout) for e in first.epochs] == [[], ["Lift", "PickPlaceCan"], [], ["Lift", "PickPlaceCan"]]
    rates = [e.rollout[env]["Success_Rate"] for e in first.epochs for env in e.rollout]
    assert rates == [e.rollout[env]["Success_Rate"] for e in again.epochs for env in e.rollout]
    assert all(0 <= r <= 1 and (r * 8).is_integer() for r in rates)  # a mean over 8 episodes


ENV_FILES = {
    "the demo dataset's env_args": (DEMO.read_bytes(), None, "Lift"),
    "another env in the bytes": (b"\x89HDF\r\n" + b"\x00" * 500 + b'{"env_name": "PickPlaceCan", "type": 1}', None,
                                 "PickPlaceCan"),
    "no env_args: Lift": (b"\x89HDF\r\n" + b"\x00" * 100, None, "Lift"),
    "experiment.env wins": (DEMO.read_bytes(), "NutAssemblySquare", "NutAssemblySquare"),
}


@pytest.mark.parametrize("content,env,expected", ENV_FILES.values(), ids=ENV_FILES.keys())
def test_rollout_env_comes_from_the_dataset(tmp_path, content, env, expected):
    data = tmp_path / "d.hdf5"
    data.write_bytes(content)
    config = {"algo_name": "bc", "experiment": {"name": "env", "env": env, "rollout": {"enabled": True, "rate": 1}},
              "train": {"num_epochs": 1, "data": str(data)}}
    assert list(run_log(tmp_path, config).epochs[0].rollout) == [expected]


def models(tmp_path: Path, name: str) -> List[str]:
    return sorted(p.name for p in (run_dir_of(tmp_path, name) / "models").iterdir())


def test_checkpoint_every_n_epochs_and_listed_epochs(tmp_path):
    config = {"algo_name": "bc", "experiment": {"name": "ckpt", "save": {"every_n_epochs": 3, "epochs": [2]},
                                                "rollout": {"enabled": False}},
              "train": {"num_epochs": 7}}
    assert stub_in_process(tmp_path, config) == 0
    assert models(tmp_path, "ckpt") == ["model_epoch_2.pth", "model_epoch_3.pth", "model_epoch_6.pth"]


def test_checkpoint_on_best_validation_names_the_loss(tmp_path):
    config = validated("bc", {}, "best", save={"every_n_epochs": None, "on_best_validation": True})
    config["train"]["num_epochs"] = 3
    run = run_log(tmp_path, config)
    losses = [e.valid["Loss"] for e in run.epochs]
    expected = [f"model_epoch_{e}_best_validation_{loss}.pth" for e, loss in enumerate(losses, 1)
                if loss <= min(losses[:e])]
    assert expected and models(tmp_path, "best") == sorted(expected)


def test_checkpoint_on_best_rollout_success_names_env_and_rate(tmp_path):
    config = {"algo_name": "bc", "experiment": {"name": "succ", "save": {"every_n_epochs": None},
                                                "rollout": {"enabled": True, "rate": 1, "n": 5}},
              "algo": {"optim_params": {"policy": {"learning_rate": {"initial": 1e-3}}}},
              "train": {"num_epochs": 6}}
    run = run_log(tmp_path, config)
    best, expected = -1.0, []
    for e in run.epochs:
        rate = e.rollout["Lift"]["Success_Rate"]
        if rate > best:
            best = rate
            expected.append(f"model_epoch_{e.epoch}_Lift_success_{rate}.pth")
    assert models(tmp_path, "succ") == sorted(expected)


def test_no_models_folder_when_saving_is_off(tmp_path):
    config = {"algo_name": "bc", "experiment": {"name": "nosave", "save": {"enabled": False}}, "train": {"num_epochs": 1}}
    assert stub_in_process(tmp_path, config) == 0
    assert sorted(p.name for p in run_dir_of(tmp_path, "nosave").iterdir()) == ["config.json", "logs", "videos"]


# --- the synthetic numbers ------------------------------------------------------------

def losses(tmp_path: Path, name: str, **changes: Any) -> List[float]:
    algo = {"optim_params": {"policy": {"learning_rate": {"initial": changes.pop("lr", 1e-4)}}}}
    algo.update(changes.pop("algo", {}))
    config = {"algo_name": "bc", "experiment": {"name": name}, "algo": algo,
              "train": {"num_epochs": 20, "seed": changes.pop("seed", 1)}}
    return [e.train["Loss"] for e in run_log(tmp_path / name, config).epochs]


def test_loss_is_deterministic_and_goes_down(tmp_path):
    first, again = losses(tmp_path, "a"), losses(tmp_path, "b")
    assert first == again
    assert first[-1] < first[len(first) // 2] < first[0]


def test_a_better_learning_rate_learns_faster(tmp_path):
    assert losses(tmp_path, "lr3", lr=1e-3)[-1] < losses(tmp_path, "lr4", lr=1e-4)[-1]


def test_a_bigger_network_reaches_a_lower_loss(tmp_path):
    small = losses(tmp_path, "small", algo={"actor_layer_dims": [64]}, lr=1e-3)
    big = losses(tmp_path, "big", algo={"actor_layer_dims": [1024, 1024]}, lr=1e-3)
    assert big[-1] < small[-1]


def test_the_seed_adds_small_noise(tmp_path):
    one, two = losses(tmp_path, "s1", seed=1), losses(tmp_path, "s2", seed=2)
    assert one != two
    assert all(abs(a - b) / a < 0.05 for a, b in zip(one, two))


def test_learning_rate_follows_the_epoch_schedule(tmp_path):
    schedule = {"initial": 1e-3, "decay_factor": 0.1, "epoch_schedule": [2]}
    config = {"algo_name": "bc", "experiment": {"name": "sched"}, "train": {"num_epochs": 4},
              "algo": {"optim_params": {"policy": {"learning_rate": schedule}}}}
    rates = [e.train["Optimizer/policy0_lr"] for e in run_log(tmp_path, config).epochs]
    assert rates == pytest.approx([1e-3, 1e-3, 1e-4, 1e-4])  # MultiStepLR steps after each epoch


# --- as a process ---------------------------------------------------------------------

def test_command_line_flags(tmp_path):
    name = f"flagged_{uuid.uuid4().hex}"  # --debug writes to robomimic's fixed /tmp/tmp_trained_models
    proc = stub(["--algo", "bcq", "--name", name, "--dataset", str(DEMO), "--debug"], tmp_path)
    assert proc.returncode == 0, proc.stdout
    folder = Path("/tmp/tmp_trained_models") / name
    run_dir = next(folder.iterdir())
    saved = json.loads((run_dir / "config.json").read_text())
    train_epochs = [line for line in (run_dir / "logs" / "log.txt").read_text().splitlines()
                    if line.startswith("Train Epoch")]
    shutil.rmtree(folder)
    assert (saved["algo_name"], saved["train"]["num_epochs"], saved["train"]["data"]) == ("bcq", 2, str(DEMO))
    assert train_epochs == ["Train Epoch 1", "Train Epoch 2"]


def test_existing_output_folder_prompt(tmp_path):
    config = write(tmp_path, {"algo_name": "bc", "experiment": {"name": "twice"}, "train": {"num_epochs": 1}})
    assert stub(["--config", str(config)], tmp_path).returncode == 0
    proc = stub(["--config", str(config)], tmp_path)  # stdin is /dev/null: input() hits EOF
    assert proc.returncode == 1 and "already exists! \noverwrite? (y/n)" in proc.stdout
    assert "run failed with error:" in proc.stdout
    removed = stub(["--config", str(config)], tmp_path, stdin="y\n")
    assert removed.returncode == 0 and "REMOVING" in removed.stdout
    assert len(list((tmp_path / "out" / "twice").iterdir())) == 1


HEAVY = ["hydra", "omegaconf", "numpy", "torch", "tensorboardX", "tensorboard", "h5py", "robomimic"]


def test_imports_nothing_heavy(tmp_path):
    config = write(tmp_path, {"algo_name": "bc", "experiment": {"name": "light", "validate": False},
                              "train": {"num_epochs": 2}})
    probe = ("import runpy, sys\nsys.argv = ['train_stub.py', '--config', sys.argv[1]]\n"
             "try:\n    runpy.run_path(sys.argv[0], run_name='__main__')\nexcept SystemExit as e:\n"
             "    assert e.code == 0, e.code\n"
             "print(' '.join(sorted(sys.modules)), file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-c", probe, str(config)], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    loaded = {m.split(".")[0] for m in proc.stderr.split()}
    assert loaded.isdisjoint(HEAVY)


def test_default_config_runs_default_epochs_quickly(tmp_path):
    """robomimic's bc defaults (2000 epochs, a checkpoint every 50, rollouts off here):
    no sleeping, so a whole run is a second or two."""
    config = robomimic_default("bc")
    config["experiment"].update(name="defaults")
    config["experiment"]["rollout"]["enabled"] = False
    run = run_log(tmp_path, config)
    assert len(run.epochs) == 2000 and run.finished
    assert len(models(tmp_path, "defaults")) == 40
