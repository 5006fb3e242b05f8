"""Write launcher/demo/tiny_lift_low_dim.hdf5: a 2-demo, 10-step dataset in robomimic's hdf5 layout.

Only the README's main command uses it, through train_stub.py, which checks that
train.data exists and does not read it. Regenerate with (needs h5py and numpy,
which the project itself does not):

    python launcher/demo/make_demo_dataset.py
"""
import json
from pathlib import Path

import h5py
import numpy as np

OUT = Path(__file__).with_name("tiny_lift_low_dim.hdf5")
OBS = {"robot0_eef_pos": 3, "robot0_eef_quat": 4, "robot0_gripper_qpos": 2, "object": 10}


def main() -> None:
    rng = np.random.default_rng(0)
    with h5py.File(OUT, "w") as f:
        data = f.create_group("data")
        data.attrs["env_args"] = json.dumps({"env_name": "Lift", "type": 1, "env_kwargs": {}})
        total = 0
        for i in range(2):
            steps = 10
            demo = data.create_group(f"demo_{i}")
            demo.attrs["num_samples"] = steps
            demo.create_dataset("actions", data=rng.uniform(-1, 1, (steps, 7)).astype("f4"))
            demo.create_dataset("rewards", data=np.eye(1, steps, steps - 1)[0].astype("f4"))
            demo.create_dataset("dones", data=np.eye(1, steps, steps - 1)[0].astype("i8"))
            for group in ("obs", "next_obs"):
                obs = demo.create_group(group)
                for key, dim in OBS.items():
                    obs.create_dataset(key, data=rng.normal(size=(steps, dim)).astype("f4"))
            total += steps
        data.attrs["total"] = total
        mask = f.create_group("mask")
        mask.create_dataset("train", data=np.array([b"demo_0"]))
        mask.create_dataset("valid", data=np.array([b"demo_1"]))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
