"""``hydra/launcher=robomimic_slurm``: Hydra's submitit SLURM launcher, submitting a sweep as one job array.

The same parameters as ``submitit_slurm``; run mode calls :meth:`submit_array`
instead of ``launch``: one array of a tiny task for the whole sweep, throttled by
``array_parallelism``, that returns as soon as SLURM took it (see
:mod:`launcher.run_mode.slurm`). The robomimic sweeper also uses this class when
``submitit_slurm`` is chosen. The work is imported only when a sweep is submitted.
"""
from typing import Any, Dict, List

from hydra_plugins.hydra_submitit_launcher.submitit_launcher import SlurmLauncher


class RobomimicSlurmLauncher(SlurmLauncher):
    def submit_array(self, sweep_dir: str, launch_id: str, count: int, job_name: str) -> List[Dict[str, Any]]:
        """Submit tasks 0..count-1 of run mode's launch ``launch_id``; the arrays SLURM made."""
        from launcher.run_mode import slurm
        from launcher.run_mode.job import slurm_task

        return slurm.submit(dict(self.params), slurm_task, sweep_dir, launch_id, count, job_name)

    @staticmethod
    def from_stock(stock: SlurmLauncher) -> "RobomimicSlurmLauncher":
        """The same launcher (parameters, config, task), submitting our way."""
        launcher = RobomimicSlurmLauncher.__new__(RobomimicSlurmLauncher)
        launcher.__dict__.update(stock.__dict__)
        return launcher
