"""Typed configs of the robomimic sweeper, registered in Hydra's ConfigStore.

* ``hydra/sweeper=robomimic`` (conf/config.yaml selects it): the sweeper itself.
* ``robomimic_launch`` (in conf/config.yaml's defaults): the app's ``launch`` section,
  so a mistyped option or value fails at composition with Hydra's message
  (``Key 'tmeout_min' not in 'LaunchConf'``).

Hydra imports every module of ``hydra_plugins`` to discover plugins, so this one
imports nothing but dataclasses and the ConfigStore.
"""
from dataclasses import dataclass
from typing import Any, Optional

from hydra.core.config_store import ConfigStore


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
    # Run mode: end a run that trains longer than this many minutes (fractions allowed); null: no limit.
    timeout_min: Optional[float] = None
    # Run mode: GPU ids to share among runs ([0,1,2,3]), `auto` for every GPU the machine
    # shows, or null for none. Each run gets one device in CUDA_VISIBLE_DEVICES.
    gpus: Any = None
    # Run mode: how many runs may share one GPU at once.
    runs_per_gpu: int = 1
    # Set by the sweeper for each run-mode job: the run it trains. Not for users.
    run: Optional[str] = None


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
