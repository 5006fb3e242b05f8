"""Typed configs of the robomimic sweeper's plugins, registered in Hydra's ConfigStore.

* ``hydra/sweeper=robomimic`` (conf/config.yaml selects it): the sweeper itself.
* ``hydra/launcher=robomimic_slurm``: Hydra's submitit SLURM launcher with defaults
  that fit a robomimic run.

Hydra imports every module of ``hydra_plugins`` to discover plugins, so this one
imports only dataclasses, the ConfigStore and the submitit launcher's config that it
extends (which discovery imports anyway). The app's own ``launch`` section is the
app's business: :mod:`launcher.request.launch_options` defines and registers it.
"""
import os
from dataclasses import dataclass, field
from typing import List, Optional

from hydra.core.config_store import ConfigStore

from hydra_plugins.hydra_submitit_launcher.config import SlurmQueueConf


@dataclass
class RobomimicSweeperConf:
    _target_: str = "hydra_plugins.robomimic_sweeper.robomimic_sweeper.RobomimicSweeper"
    # Run mode with submitit_local (or another local launcher but basic and joblib): how many
    # runs train at once (null: the number of CPUs for submitit_local). Every run is handed
    # over at once; joblib's n_jobs and SLURM's array_parallelism say how many run at once.
    max_batch_size: Optional[int] = None


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
