"""Write launcher/demo/tiny_lift_low_dim.hdf5: a small Lift-like low-dim dataset that
robomimic 0.3.0's own ``scripts/train.py`` trains on.

Why: the README's main command and the integration tests train on this file, with
train_stub.py and with real robomimic. So it must be a valid robomimic dataset, not a
placeholder: robomimic's hdf5 layout (``data/demo_i/{actions,rewards,dones,states,
obs/*,next_obs/*}``, ``num_samples`` per demo, ``data.attrs["total"]`` and
``data.attrs["env_args"]``), ``mask/train`` and ``mask/valid`` filter keys, and enough
samples that robomimic's ``DataLoader(drop_last=True)`` yields a batch for every
algorithm's default batch size (bc/bcq/iql 100, td3_bc 256, cql 1024) and, with
validation on, for the validation split at batch size 100 (256 for td3_bc).

The demos are a scripted pick-and-lift: the gripper moves above the cube, descends,
closes and lifts. Each action is a smooth function of the observation (a clipped
proportional controller towards a target set by the cube's position and the gripper
state), so a policy can learn it and the losses go down.

Deterministic (seeded; re-running writes the same bytes). Regenerate with (needs h5py
and numpy, which the project itself does not):

    python tools/make_demo_dataset.py [OUT]     # default: the shipped file
"""
import json
import sys
from pathlib import Path
from typing import Dict

import h5py
import numpy as np

OUT = Path(__file__).resolve().parents[1] / "launcher" / "demo" / "tiny_lift_low_dim.hdf5"
NUM_DEMOS, STEPS, NUM_VALID = 24, 64, 4  # train 20 x 64 = 1280 >= 1024, valid 4 x 64 = 256
STATE_DIM = 32  # Lift's flattened MuJoCo state (time, qpos, qvel)
TABLE_Z = 0.83
MAX_STEP = 0.02  # metres the gripper moves per unit of action
OPEN, CLOSED = 0.04, 0.02  # finger joint positions

# What robomimic's Lift datasets carry in data.attrs["env_args"] (robosuite 1.x, OSC_POSE).
ENV_ARGS = {
    "env_name": "Lift",
    "type": 1,
    "env_kwargs": {
        "has_renderer": False,
        "has_offscreen_renderer": False,
        "ignore_done": True,
        "use_object_obs": True,
        "use_camera_obs": False,
        "control_freq": 20,
        "controller_configs": {
            "type": "OSC_POSE", "input_max": 1, "input_min": -1,
            "output_max": [0.05, 0.05, 0.05, 0.5, 0.5, 0.5],
            "output_min": [-0.05, -0.05, -0.05, -0.5, -0.5, -0.5],
            "kp": 150, "damping": 1, "impedance_mode": "fixed", "kp_limits": [0, 300],
            "damping_limits": [0, 10], "position_limits": None, "orientation_limits": None,
            "uncouple_pos_ori": True, "control_delta": True, "interpolation": None, "ramp_ratio": 0.2,
        },
        "robots": ["Panda"],
        "camera_depths": False,
        "camera_heights": 84,
        "camera_widths": 84,
        "reward_shaping": False,
    },
}


def quat_z(yaw: float) -> np.ndarray:
    """(x, y, z, w) quaternion of a rotation by ``yaw`` about z, robosuite's convention."""
    return np.array([0.0, 0.0, np.sin(yaw / 2), np.cos(yaw / 2)])


def target_for(step: int, cube: np.ndarray) -> np.ndarray:
    """Where the scripted gripper heads: above the cube, onto it, then up with it."""
    if step < 24:
        return cube + [0.0, 0.0, 0.08]
    if step < 40:
        return cube
    return np.array([cube[0], cube[1], TABLE_Z + 0.17])


def one_demo(rng: np.random.Generator) -> Dict[str, np.ndarray]:
    """One scripted pick-and-lift; returns obs and next_obs per key, actions, rewards..."""
    cube = np.array([rng.uniform(-0.08, 0.08), rng.uniform(-0.08, 0.08), TABLE_Z + 0.02])
    cube_quat = quat_z(rng.uniform(-np.pi / 4, np.pi / 4))
    eef = np.array([-0.1, 0.0, 1.0]) + rng.normal(scale=0.02, size=3)
    eef_quat = np.array([0.999, 0.01, 0.03, 0.0]) + rng.normal(scale=0.005, size=4)
    fingers = OPEN
    frames, actions, rewards = [], [], []
    for step in range(STEPS + 1):
        grasped = fingers <= CLOSED + 1e-3
        frames.append(np.concatenate([
            eef, eef_quat / np.linalg.norm(eef_quat), [fingers, -fingers],
            cube, cube_quat, eef - cube,
        ]))
        if step == STEPS:
            break
        # A proportional controller: a smooth function of (eef - cube) and the fingers.
        action = np.zeros(7)
        action[:3] = np.clip((target_for(step, cube) - eef) / MAX_STEP, -1.0, 1.0)
        action[3:6] = np.clip(-5.0 * eef_quat[1:4], -1.0, 1.0) * 0.1
        action[6] = 1.0 if step >= 32 else -1.0
        actions.append(action)
        eef = eef + MAX_STEP * action[:3]
        fingers = float(np.clip(fingers - 0.004 * action[6], CLOSED, OPEN))
        if grasped and step >= 40:
            cube = eef.copy()
        rewards.append(float(cube[2] > TABLE_Z + 0.06))
    frames = np.asarray(frames, dtype=np.float32)
    dones = np.zeros(STEPS, dtype=np.int64)
    dones[-1] = 1
    return {
        "frames": frames,
        "actions": np.asarray(actions, dtype=np.float32),
        "rewards": np.asarray(rewards, dtype=np.float64),
        "dones": dones,
        "states": np.concatenate(
            [np.arange(STEPS)[:, None] * 0.05, frames[:-1], np.zeros((STEPS, STATE_DIM - 1 - frames.shape[1]))],
            axis=1,
        ).astype(np.float32),
    }


OBS_SLICES = {  # robosuite Lift's low-dim observation keys, in the frame's column order
    "robot0_eef_pos": slice(0, 3),
    "robot0_eef_quat": slice(3, 7),
    "robot0_gripper_qpos": slice(7, 9),
    "object": slice(9, 19),  # cube_pos, cube_quat, gripper_to_cube_pos
}


def write_demo(data: h5py.Group, name: str, demo: Dict[str, np.ndarray]) -> None:
    group = data.create_group(name)
    group.attrs["num_samples"] = STEPS
    for key in ("actions", "rewards", "dones", "states"):
        packed(group, key, demo[key])
    for part, frames in (("obs", demo["frames"][:-1]), ("next_obs", demo["frames"][1:])):
        obs = group.create_group(part)
        for key, columns in OBS_SLICES.items():
            packed(obs, key, np.ascontiguousarray(frames[:, columns]))


def packed(group: h5py.Group, key: str, array: np.ndarray) -> None:
    """gzip in one chunk: with the HDF5 1.10 file format a one-chunk dataset needs no
    chunk index, so compression saves more than it costs even on arrays this small."""
    group.create_dataset(key, data=array, chunks=array.shape, compression="gzip",
                         compression_opts=9, shuffle=True)


def main(out: Path = OUT) -> None:
    rng = np.random.default_rng(0)
    names = [f"demo_{i}" for i in range(NUM_DEMOS)]
    with h5py.File(out, "w", libver=("v110", "v110")) as f:
        data = f.create_group("data")
        # First, so that its bytes sit near the file's start, where train_stub.py looks.
        data.attrs["env_args"] = json.dumps(ENV_ARGS)
        data.attrs["total"] = NUM_DEMOS * STEPS
        for name in names:
            write_demo(data, name, one_demo(rng))
        mask = f.create_group("mask")
        mask.create_dataset("train", data=np.array(names[:-NUM_VALID], dtype="S"))
        mask.create_dataset("valid", data=np.array(names[-NUM_VALID:], dtype="S"))
    print(f"wrote {out} ({out.stat().st_size} bytes): {NUM_DEMOS} demos x {STEPS} steps, "
          f"mask/train {NUM_DEMOS - NUM_VALID} demos, mask/valid {NUM_VALID} demos")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
