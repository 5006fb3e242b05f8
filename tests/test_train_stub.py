"""train_stub.py behaves like robomimic's train.py where it matters to the launcher."""
import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Dict, List

import pytest

from tests.helpers import REPO, robomimic_default

STUB = str(REPO / "train_stub.py")


def stub(args: List[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, STUB, *args], cwd=cwd, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)


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


def write(tmp_path: Path, config: Dict[str, Any], name: str = "c.json") -> Path:
    (tmp_path / "data.hdf5").write_bytes(b"x")
    config.setdefault("train", {}).update(data=str(tmp_path / "data.hdf5"), output_dir=str(tmp_path / "out"))
    path = tmp_path / name
    path.write_text(json.dumps(config))
    return path


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
}


@pytest.mark.parametrize("config", CASES.values(), ids=CASES.keys())
def test_accepts_exactly_what_robomimic_accepts(tmp_path, config):
    accepted_by_robomimic = robomimic_accepts(json.loads(json.dumps(config)))
    proc = stub(["--config", str(write(tmp_path, config))], tmp_path)
    assert (proc.returncode == 0) == accepted_by_robomimic, proc.stdout
    if not accepted_by_robomimic:
        assert "run failed with error:" in proc.stdout and "is not a key" in proc.stdout


@pytest.mark.parametrize("algo", ["bc", "bcq", "hbc", "iris", "td3_bc"])
def test_saved_config_is_robomimics_merged_config(tmp_path, algo):
    from robomimic.config import config_factory

    ext = {"algo_name": algo, "experiment": {"name": "merged"}, "train": {"seed": 7}}
    path = write(tmp_path, ext)
    expected = config_factory(algo)
    with expected.values_unlocked():
        expected.update(json.loads(path.read_text()))
    assert stub(["--config", str(path)], tmp_path).returncode == 0
    (run_dir,) = (tmp_path / "out" / "merged").iterdir()
    assert json.loads((run_dir / "config.json").read_text()) == json.loads(expected.dump())


def test_missing_dataset_fails_non_zero(tmp_path):
    config = robomimic_default("bc")
    config["train"]["data"] = str(tmp_path / "nope.hdf5")
    (tmp_path / "c.json").write_text(json.dumps(config))
    proc = stub(["--config", str(tmp_path / "c.json")], tmp_path)
    assert proc.returncode != 0
    assert "run failed with error:" in proc.stdout and "nope.hdf5" in proc.stdout


def test_layout_and_one_deterministic_log_line_per_epoch(tmp_path):
    def losses(lr: float, name: str) -> List[str]:
        config = {"algo_name": "bc", "experiment": {"name": name}, "train": {"num_epochs": 5},
                  "algo": {"optim_params": {"policy": {"learning_rate": {"initial": lr}}}}}
        assert stub(["--config", str(write(tmp_path, config, f"{name}.json"))], tmp_path).returncode == 0
        (run_dir,) = (tmp_path / "out" / name).iterdir()
        for sub in ("config.json", "logs/log.txt", "logs/tb", "models", "videos"):
            assert (run_dir / sub).exists()
        lines = [l for l in (run_dir / "logs" / "log.txt").read_text().splitlines() if l.startswith("Train Epoch")]
        assert [l.split()[2] for l in lines] == ["1", "2", "3", "4", "5"]
        assert json.loads(lines[0].split(" ", 3)[3])["Optimizer/policy0_lr"] == lr
        return [json.loads(l.split(" ", 3)[3])["Loss"] for l in lines]

    first, again, other = losses(1e-3, "a"), losses(1e-3, "b"), losses(1e-4, "c")
    assert first == again and first != other
    assert first == sorted(first, reverse=True)  # the loss goes down


def test_command_line_flags(tmp_path):
    (tmp_path / "d.hdf5").write_bytes(b"x")
    name = f"flagged_{uuid.uuid4().hex}"  # --debug writes to robomimic's fixed /tmp/tmp_trained_models
    proc = stub(["--algo", "bcq", "--name", name, "--dataset", str(tmp_path / "d.hdf5"), "--debug"], tmp_path)
    assert proc.returncode == 0, proc.stdout
    folder = Path("/tmp/tmp_trained_models") / name
    run_dir = next(folder.iterdir())
    saved = json.loads((run_dir / "config.json").read_text())
    shutil.rmtree(folder)
    assert (saved["algo_name"], saved["train"]["num_epochs"]) == ("bcq", 2)
    assert saved["train"]["data"] == str(tmp_path / "d.hdf5")


def test_existing_output_folder_prompt_fails_without_an_answer(tmp_path):
    config = write(tmp_path, {"algo_name": "bc", "experiment": {"name": "twice"}})
    assert stub(["--config", str(config)], tmp_path).returncode == 0
    proc = stub(["--config", str(config)], tmp_path)  # stdin is /dev/null: input() hits EOF
    assert proc.returncode != 0 and "already exists" in proc.stdout
