"""What one Hydra job does."""
from omegaconf import DictConfig

from launcher.errors import SweepError


def run_job(cfg: DictConfig) -> None:
    raise SweepError(
        "launcher/run.py expands sweeps: run it with -m (python launcher/run.py -m sweep=NAME ...)"
    )
