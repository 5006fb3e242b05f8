"""The Hydra app: ``python launcher/run.py sweep=NAME [overrides]`` (``-m`` is implied).

The same app is ``python -m launcher`` (:mod:`launcher.__main__`). The primary config
(conf/config.yaml) selects our sweeper and multirun mode, so every invocation expands
the grouped sweep; see README.md. In run mode, Hydra's launcher calls :func:`task`
once per run, with ``launch.run=<run name>``.

Before Hydra composes anything, :func:`main` reads the command line itself
(:mod:`launcher.request.command_line`): for the mistakes Hydra would answer with a
traceback, and for the robomimic whose algorithms conf/ composes.
"""
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if not __package__:
    # `python launcher/run.py` in a checkout puts this folder first on sys.path. It holds
    # launcher/robomimic/, which must not hide the real robomimic; the checkout's root
    # goes there instead, so `import launcher` is this checkout's.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    sys.path.insert(0, str(HERE.parent))

from typing import Any  # noqa: E402

import hydra  # noqa: E402
from hydra.core.hydra_config import HydraConfig  # noqa: E402
from omegaconf import DictConfig, OmegaConf  # noqa: E402

from launcher.request.command_line import (  # noqa: E402
    MODE_FLAGS,
    OTHER_SWEEPER,
    check_command_line,
    select_robomimic,
)
from launcher.request.launch_options import register_launch_schema  # noqa: E402

# The config folder: conf/ beside launcher/ in a checkout, launcher/conf in an installed wheel.
CONF = HERE / "conf" if (HERE / "conf" / "config.yaml").is_file() else HERE.parent / "conf"


def register_app() -> None:
    """What conf/ needs besides its files: the ``launch`` schema and ``--help``'s lines
    (:mod:`launcher.request.launch_options`), ``--help``'s line of the algorithms
    (``${algo_help:}``), and ``${demo_dataset:}``, the shipped demo dataset
    (``dataset=demo``) wherever the launcher is installed, as the robomimic in use reads it."""
    register_launch_schema()
    OmegaConf.register_new_resolver("algo_help", algo_help, replace=True)
    OmegaConf.register_new_resolver("demo_dataset", demo_dataset, replace=True)


def algo_help() -> str:
    """``--help``'s lines for ``algo=``: the algorithms of the robomimic conf/ composes."""
    import textwrap

    from launcher.robomimic.selection import composition

    robomimic = composition()
    return "\n".join([f"  algo={'|'.join(sorted(robomimic.algorithms()))}",
                      *textwrap.wrap(f"the defaults of that algorithm in {robomimic.describe()} (default bc; "
                                     "launch.robomimic=... picks another robomimic)", 100,
                                     initial_indent=" " * 27, subsequent_indent=" " * 27)])


def demo_dataset() -> Any:
    """The demo dataset as ``train.data``: its path, or a one-dataset list for a robomimic
    whose train.py reads only lists (robocasa's)."""
    from launcher.demo import DATASET
    from launcher.robomimic.selection import composition

    return [{"path": str(DATASET)}] if composition().profile.data == "list" else str(DATASET)


register_app()


def task(cfg: DictConfig) -> dict:
    """One run-mode worker job: train the launch's runs until none is left."""
    from launcher.run_mode.job import run_worker

    worker = OmegaConf.to_container(cfg.launch, resolve=False).get("worker")
    if worker is None:
        from hydra_plugins.robomimic_sweeper.robomimic_sweeper import RobomimicSweeper, SweepFailed

        sweeper = str(HydraConfig.get().sweeper.get("_target_", ""))
        if sweeper.rpartition(".")[2] != RobomimicSweeper.__name__:
            raise SweepFailed(OTHER_SWEEPER.format(sweeper=f"hydra.sweeper._target_={sweeper}"))
        raise SweepFailed("launcher/run.py sweeps; run it in multirun mode (the default): "
                          "python launcher/run.py sweep=NAME ... (see --help)")
    return run_worker(int(worker), Path(HydraConfig.get().runtime.output_dir))


@hydra.main(version_base="1.3", config_path=str(CONF), config_name="config")
def hydra_app(cfg: DictConfig) -> dict:
    return task(cfg)


def main() -> None:
    """The command line of launcher/run.py, ``python -m launcher`` and ``robomimic-sweep``."""
    message = check_command_line(sys.argv[1:], CONF) or select_robomimic(sys.argv[1:], CONF)
    if message:
        print(f"Error: {message}", file=sys.stderr)
        sys.exit(2)
    if not MODE_FLAGS & set(sys.argv[1:]):
        # -m is implied (conf/config.yaml also says hydra.mode: MULTIRUN, but Hydra reads that only
        # from a config it could compose; a bad override would drop it back to a single run).
        sys.argv.insert(1, "-m")
    try:
        hydra_app()
    except BrokenPipeError:  # `--help | head`: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":
    main()
