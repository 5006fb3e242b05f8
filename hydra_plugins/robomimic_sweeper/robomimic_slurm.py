"""``hydra/launcher=robomimic_slurm``: Hydra's submitit SLURM launcher that never hangs.

The same parameters and job function as ``submitit_slurm``; only the waiting
differs (see :mod:`launcher.run_mode.slurm`): a task cancelled while queued, or a
job that ends without a result, fails its own run instead of hanging or aborting
the batch. The robomimic sweeper also uses this class when ``submitit_slurm`` is
chosen. The work is imported only when a batch is launched.
"""
from typing import Sequence

from hydra.core.utils import JobReturn

from hydra_plugins.hydra_submitit_launcher.submitit_launcher import SlurmLauncher


class RobomimicSlurmLauncher(SlurmLauncher):
    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        from launcher.run_mode import slurm

        return slurm.launch(self, job_overrides, initial_job_idx)

    @staticmethod
    def from_stock(stock: SlurmLauncher) -> "RobomimicSlurmLauncher":
        """The same launcher (parameters, config, task), waiting our way."""
        launcher = RobomimicSlurmLauncher.__new__(RobomimicSlurmLauncher)
        launcher.__dict__.update(stock.__dict__)
        return launcher


