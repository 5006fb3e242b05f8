"""The shipped demo dataset is one robomimic's train.py can train every algorithm on.

Checked against robomimic's own expectations: the hdf5 layout its SequenceDataset and
FileUtils read, the train/valid filter keys its validation needs, and enough samples
for each algorithm's default batch size (robomimic's DataLoader drops the last partial
batch, so fewer samples than one batch means no training step at all). The batch sizes
come from robomimic's config_factory. Real training on it is in tests/integration.
"""
import json
import subprocess
import sys

import pytest

from tests.helpers import REPO

h5py = pytest.importorskip("h5py", reason="h5py is not installed (pip install h5py to check the demo dataset)")

DEMO = REPO / "launcher" / "demo" / "tiny_lift_low_dim.hdf5"
LIFT_OBS = {"robot0_eef_pos": 3, "robot0_eef_quat": 4, "robot0_gripper_qpos": 2, "object": 10}
ALGOS = ["bc", "bcq", "cql", "iql", "td3_bc"]


@pytest.fixture(scope="module")
def demo():
    with h5py.File(DEMO, "r") as f:
        yield f


def demos_in(f, mask: str):
    return [name.decode() for name in f[f"mask/{mask}"][:]]


def test_small_enough_to_ship():
    assert DEMO.stat().st_size < 512 * 1024


def test_robomimic_layout(demo):
    data = demo["data"]
    env_args = json.loads(data.attrs["env_args"])
    assert (env_args["env_name"], env_args["type"]) == ("Lift", 1) and isinstance(env_args["env_kwargs"], dict)
    total = 0
    for name, ep in data.items():
        n = int(ep.attrs["num_samples"])
        total += n
        assert ep["actions"].shape == (n, 7)
        for key in ("rewards", "dones", "states"):
            assert ep[key].shape[0] == n, (name, key)
        assert ep["dones"][-1] == 1
        for part in ("obs", "next_obs"):
            assert {k: v.shape for k, v in ep[part].items()} == {k: (n, d) for k, d in LIFT_OBS.items()}
    assert data.attrs["total"] == total


def test_train_and_valid_masks_split_the_demos(demo):
    train, valid = demos_in(demo, "train"), demos_in(demo, "valid")
    assert train and valid and set(train).isdisjoint(valid)
    assert set(train) | set(valid) == set(demo["data"])


def samples(f, names) -> int:
    return sum(int(f[f"data/{n}"].attrs["num_samples"]) for n in names)


def default_batch_size(algo: str) -> int:
    from robomimic.config import config_factory

    return config_factory(algo).train.batch_size


@pytest.mark.parametrize("algo", ALGOS)
def test_a_full_batch_for_each_algorithms_default_batch_size(demo, algo):
    """Without validation, robomimic trains on every demo (no filter key)."""
    assert samples(demo, demo["data"]) >= default_batch_size(algo)


def test_validation_splits_hold_a_batch_of_100(demo):
    """The README's sweep (BC-RNN, batch 100) with validation on; each demo yields one
    sequence per step (robomimic pads sequences)."""
    assert samples(demo, demos_in(demo, "train")) >= 100
    assert samples(demo, demos_in(demo, "valid")) >= 100


def test_actions_follow_the_observations(demo):
    """A learnable signal: the translation actions point from the gripper to where the
    scripted demo heads, so they correlate with -(gripper_to_cube) across all steps."""
    import numpy as np

    acts = np.concatenate([ep["actions"][:, :3] for ep in demo["data"].values()])
    rel = np.concatenate([ep["obs/object"][:, 7:10] for ep in demo["data"].values()])
    correlations = [np.corrcoef(acts[:, i], -rel[:, i])[0, 1] for i in range(2)]  # x and y
    assert min(correlations) > 0.5


def test_the_tool_writes_the_shipped_file_byte_for_byte(tmp_path):
    out = tmp_path / "again.hdf5"
    subprocess.run([sys.executable, str(REPO / "tools" / "make_demo_dataset.py"), str(out)], check=True,
                   capture_output=True)
    assert out.read_bytes() == DEMO.read_bytes()
