"""The Hydra app: ``python launcher/run.py -m sweep=NAME [overrides]``.

With ``-m`` our sweeper (conf/config.yaml selects it) expands the grouped sweep;
see README.md.
"""
import hydra
from omegaconf import DictConfig


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    from launcher.job import run_job

    run_job(cfg)


if __name__ == "__main__":
    main()
