"""Typed configs of the robomimic sweeper, registered in Hydra's ConfigStore.

* ``hydra/sweeper=robomimic`` (conf/config.yaml selects it): the sweeper itself.
* ``robomimic_launch`` (in conf/config.yaml's defaults): the app's ``launch`` section,
  so a mistyped option or value fails at composition with Hydra's message
  (``Key 'tmeout_min' not in 'LaunchConf'``).

Hydra imports every module of ``hydra_plugins`` to discover plugins, so this one
imports nothing but dataclasses and the ConfigStore.
"""
import os
from dataclasses import dataclass, field
from typing import Any, List, Optional

from hydra.core.config_store import ConfigStore
from hydra_plugins.hydra_submitit_launcher.config import SlurmQueueConf


@dataclass
class RobomimicSweeperConf:
    _target_: str = "hydra_plugins.robomimic_sweeper.robomimic_sweeper.RobomimicSweeper"
    # Run mode: hand Hydra's launcher at most this many runs at a time (null: 64). Hydra
    # holds every job's config (about 0.3 MB) until its batch ends; a parallel launcher
    # waits for a batch's slowest run before starting the next batch.
    max_batch_size: Optional[int] = None


@dataclass
class LaunchConf:
    # script: write every run's JSON and a bash script that trains them, one line a run.
    # run: the same files, then train every run through hydra/launcher (basic, joblib, submitit_*).
    # list: check the sweep and print its runs; write nothing.
    mode: str = "script"
    # Where the run configs go, one <run name>.json each.
    config_dir: str = "${hydra:sweep.dir}/configs"
    # The bash script that trains every run, one line a run.
    script_file: str = "${hydra:sweep.dir}/run.sh"
    # The training script each run calls with --config <json>: a path, or `robomimic`
    # for the installed robomimic's scripts/train.py.
    train_script: str = "train.py"
    # The interpreter that runs train_script. null: `python` in run.sh (robomimic's own
    # line), this Python in run mode and for train_script=robomimic.
    python: Optional[str] = None
    # Arguments appended to every training command: a string of shell words, or a list.
    extra_args: Any = None
    # Written to experiment.logging.wandb_proj_name, as ConfigGenerator(wandb_proj_name=...) does.
    # null: the sweep file's wandb_proj_name, else `debug` (robomimic 0.3.0's default);
    # false: not written, the base's value stays (robomimic master's default).
    wandb_proj_name: Any = None
    # Replace existing configs / script that hold something else (identical ones are fine).
    overwrite: bool = False
    # Run mode: train runs that already finished successfully again.
    rerun: bool = False
    # Run mode: write the results report at the end and print the best runs
    # (python -m launcher.report SWEEP_DIR writes it at any time).
    report: bool = True
    # Run mode: end a run that trains longer than this many minutes (fractions allowed); null: no limit.
    timeout_min: Optional[float] = None
    # Run mode: GPU ids to share among runs ([0,1,2,3]), `auto` for every GPU the machine
    # shows, or null for none. Each run gets one device in CUDA_VISIBLE_DEVICES.
    gpus: Any = None
    # Run mode: how many runs may share one GPU at once.
    runs_per_gpu: int = 1
    # Set by the sweeper for each run-mode job: the run it trains. Not for users.
    run: Optional[str] = None


def activation_lines() -> List[str]:
    """The line that activates, on a compute node, the environment the sweep runs in."""
    if os.environ.get("CONDA_PREFIX"):
        return ['eval "$(conda shell.bash hook)"', f"conda activate {os.environ['CONDA_PREFIX']}"]
    if os.environ.get("VIRTUAL_ENV"):
        return [f"source {os.environ['VIRTUAL_ENV']}/bin/activate"]
    return []


@dataclass
class RobomimicSlurmConf(SlurmQueueConf):
    """``hydra/launcher=robomimic_slurm``: submitit_slurm with defaults that fit a robomimic run.

    Partition, account and qos are your cluster's: set hydra.launcher.partition=... etc.
    """

    _target_: str = "hydra_plugins.robomimic_sweeper.robomimic_slurm.RobomimicSlurmLauncher"
    # One GPU per run (robomimic trains on one device).
    gpus_per_node: Optional[int] = 1
    # null: train.num_data_workers + 1 (the most any run of the sweep asks for), set by the sweeper.
    cpus_per_task: Optional[int] = None
    # Host memory per run, GB: robomimic caches low-dim datasets in RAM; image datasets need more.
    mem_gb: Optional[int] = 32
    # Minutes SLURM gives a run; launch.timeout_min=N raises it to N plus submitit's margin.
    timeout_min: int = 2880
    # At most this many runs of the sweep run at once.
    array_parallelism: int = 64
    # Run before each run's training: MuJoCo renders headless with EGL, and the environment
    # the sweep was started in is activated (conda or venv), so the same packages are used.
    setup: Optional[List[str]] = field(default_factory=lambda: ["export MUJOCO_GL=egl", *activation_lines()])


ConfigStore.instance().store(
    group="hydra/launcher",
    name="robomimic_slurm",
    node=RobomimicSlurmConf,
    provider="robomimic-hydra-sweeper",
)
ConfigStore.instance().store(
    group="hydra/sweeper",
    name="robomimic",
    node=RobomimicSweeperConf,
    provider="robomimic-hydra-sweeper",
)
ConfigStore.instance().store(
    name="robomimic_launch",
    node={"launch": LaunchConf},
    provider="robomimic-hydra-sweeper",
)
