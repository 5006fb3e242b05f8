"""The robomimic sweeper: robomimic's ConfigGenerator as a Hydra sweeper.

Params in one group are zipped, groups are crossed (the first group varies
slowest), and each run is named exactly as robomimic names it. With the shipped
sweep file::

    python launcher/run.py -m sweep=bc_rnn_hyper experiment.name=bc_rnn_hyper \\
        'train.seed=tag(name:seed,choice(1,2))'

gives 16 runs, from ``bc_rnn_hyper_plr_0.001_gmm_t_rnnd_400_mlp_1024_seed_1`` to
``bc_rnn_hyper_plr_0.0001_gmm_f_rnnd_1000_mlp_0_seed_2``. ``launch.mode=script``
writes each run's JSON and ``run.sh``; ``launch.mode=run`` also hands each run to
Hydra's launcher as one job (``launch.run=<run name>``); ``launch.mode=list``
prints the runs and writes nothing.

This is glue: the work lives in :mod:`launcher`, imported only when a sweep
starts, so other Hydra apps in the same environment pay nothing for this plugin.
Bad input arrives as :class:`launcher.core.errors.SweepError` and leaves as Hydra's
compact error: the message, no traceback, exit code 1.
"""
from pathlib import Path
from typing import Any, List, Optional, Set

from hydra.core.hydra_config import HydraConfig
from hydra.errors import CompactHydraException
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf, read_write


def _never_hanging(launcher: Launcher) -> Launcher:
    """Hydra's submitit_slurm launcher, submitting our way (see robomimic_slurm.py); others as they are."""
    try:
        from hydra_plugins.hydra_submitit_launcher.submitit_launcher import SlurmLauncher
    except ImportError:
        return launcher
    if type(launcher) is SlurmLauncher:
        from hydra_plugins.robomimic_sweeper.robomimic_slurm import RobomimicSlurmLauncher

        return RobomimicSlurmLauncher.from_stock(launcher)
    return launcher


class SweepFailed(CompactHydraException):
    """Hydra prints only the message and exits non-zero."""


class RobomimicSweeper(Sweeper):
    """Zips params within a group, crosses groups, names runs as robomimic does."""

    def __init__(self, max_batch_size: Optional[int] = None) -> None:
        super().__init__()
        self.max_batch_size = max_batch_size
        self.hydra_context: Optional[HydraContext] = None
        self.config: Optional[DictConfig] = None
        self.launcher: Optional[Launcher] = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        from hydra.core.plugins import Plugins

        self.hydra_context = hydra_context
        self.config = config
        # Lets launch.* use ${hydra:sweep.dir}, as job configs do.
        HydraConfig.instance().set_config(config)
        self.launcher = _never_hanging(Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        ))

    def sweep(self, arguments: List[str]) -> Any:
        from launcher.core.errors import SweepError

        try:
            return self._sweep(arguments)
        except SweepError as e:
            raise SweepFailed(str(e)) from None

    def _sweep(self, arguments: List[str]) -> Any:
        from hydra.core.override_parser.overrides_parser import OverridesParser

        from launcher import modes
        from launcher.request.hydra_config import read_request

        assert self.config is not None and self.hydra_context is not None and self.launcher is not None
        loader = self.hydra_context.config_loader
        overrides = OverridesParser.create(config_loader=loader).parse_overrides(arguments)
        # Where the sweep was started: relative paths in launch.* and hydra.sweep.dir count from here.
        cwd = Path(self.config.hydra.runtime.cwd)
        request = read_request(self.config, overrides, self._groups(), cwd)
        return modes.run(request, self._hydra_jobs(cwd))

    def _groups(self) -> Set[str]:
        """The app's config groups, ``algo`` included: its source (robomimic://) is on the
        search path that the primary config adds, which ``list_groups`` alone does not read."""
        from hydra.core.object_type import ObjectType

        assert self.config is not None and self.hydra_context is not None
        return set(self.hydra_context.config_loader.get_group_options(
            "", results_filter=ObjectType.GROUP, config_name=str(self.config.hydra.job.config_name)))

    def _hydra_jobs(self, cwd: Path) -> Any:
        from launcher.modes import HydraJobs

        assert self.config is not None
        config = self.config
        return HydraJobs(
            launcher=self.launcher,
            sweep_dir=cwd / str(config.hydra.sweep.dir),
            max_batch_size=self.max_batch_size,
            launcher_target=str(config.hydra.launcher.get("_target_", "")),
            save_config=lambda folder: OmegaConf.save(config, folder / "multirun.yaml"),
            slim_jobs=self._slim_jobs,
            fit_launcher=self._fit_launcher,
            parallelism=self._parallelism,
        )

    def _parallelism(self, runs: int) -> int:
        """How many runs the launcher trains at once: SLURM's array throttle, joblib's n_jobs,
        submitit_local's hydra.sweeper.max_batch_size (default: the CPUs), basic's one."""
        import os

        cpus = os.cpu_count() or 1
        params = getattr(self.launcher, "params", None)
        name = type(self.launcher).__name__
        if hasattr(self.launcher, "submit_array"):
            return max(1, min(runs, int(params.get("array_parallelism") or runs)))  # type: ignore[union-attr]
        if name == "JoblibLauncher":
            n_jobs = self.launcher.joblib.get("n_jobs") or 1  # type: ignore[attr-defined]
            workers = int(n_jobs) if int(n_jobs) > 0 else max(1, cpus + 1 + int(n_jobs))
        elif name == "LocalLauncher":
            workers = self.max_batch_size or cpus
        elif name == "BasicLauncher":
            workers = 1
        else:
            workers = self.max_batch_size or 1
        return max(1, min(runs, workers))

    def _fit_launcher(self, timeout_min: Optional[float], data_workers: int) -> None:
        """Fit a submitit launcher's request to the runs: on SLURM a time limit of exactly
        ``launch.timeout_min`` plus the margin submitit needs for its own signal (lower than the
        preset's default as well as higher); submitit_local's limit off (its jobs are workers
        that train run after run, each under ``launch.timeout_min``); and for robomimic_slurm,
        CPUs for robomimic's data workers plus the training itself."""
        from launcher.run_mode.slurm import LOCAL_LIMIT_MIN, time_limit

        params = getattr(self.launcher, "params", None)
        if not isinstance(params, dict) or "timeout_min" not in params:
            return  # not a submitit launcher
        if not hasattr(self.launcher, "submit_array"):
            params["timeout_min"] = LOCAL_LIMIT_MIN
        elif timeout_min is not None:
            params["timeout_min"] = time_limit(timeout_min, int(params.get("signal_delay_s") or 0))
        if type(self.launcher).__name__ == "RobomimicSlurmLauncher" and params.get("cpus_per_task") is None \
                and str(self.config.hydra.launcher._target_).endswith("RobomimicSlurmLauncher"):
            params["cpus_per_task"] = data_workers + 1

    def _slim_jobs(self) -> None:
        """Jobs compose only the launch options (the ConfigStore's ``robomimic_launch``).

        A job trains a JSON the sweeper already wrote, so composing robomimic's whole
        config again for every job would only cost time (about half of Hydra's
        per-job work) and memory (Hydra keeps each job's config until its batch
        ends). Hydra's own overrides from the command line still apply to every job.
        """
        assert self.config is not None
        with read_write(self.config.hydra.job):
            self.config.hydra.job.config_name = "robomimic_launch"
