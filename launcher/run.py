"""The Hydra app: ``python launcher/run.py sweep=NAME [overrides]`` (``-m`` is implied).

The primary config (conf/config.yaml) selects our sweeper and multirun mode, so
every invocation expands the grouped sweep; see README.md. In run mode, Hydra's
launcher calls :func:`main` once per run, with ``launch.run=<run name>``.
"""
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf


def task(cfg: DictConfig) -> dict:
    """One run-mode job: train the run named by ``launch.run``."""
    from launcher.run_mode.job import run_job

    # Unresolved: a run name is data, even if it looks like ${...}.
    run = OmegaConf.to_container(cfg.launch, resolve=False).get("run")
    if run is None:
        from hydra_plugins.robomimic_sweeper.robomimic_sweeper import SweepFailed

        raise SweepFailed("launcher/run.py sweeps; run it in multirun mode (the default): "
                          "python launcher/run.py sweep=NAME ... (see --help)")
    return run_job(run, Path(HydraConfig.get().runtime.output_dir))


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> dict:
    return task(cfg)


if __name__ == "__main__":
    try:
        main()
    except ValueError as e:  # Hydra checks its own flags outside its error reporting
        print(f"{e}. This app always sweeps (-m is implied); to see the composed config, "
              "use --cfg job without -m.", file=sys.stderr)
        sys.exit(2)
