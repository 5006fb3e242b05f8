"""The Hydra app: ``python launcher/run.py sweep=NAME [overrides]`` (``-m`` is implied).

The same app is ``python -m launcher`` (:mod:`launcher.__main__`). The primary config
(conf/config.yaml) selects our sweeper and multirun mode, so every invocation expands
the grouped sweep; see README.md. In run mode, Hydra's launcher calls :func:`task`
once per run, with ``launch.run=<run name>``.

Two mistakes happen before Hydra hands control to the sweeper, where Hydra would
answer with a traceback: a sweep file that is not valid YAML, and Hydra's own
flags combined (``-m --cfg job``). :func:`check_command_line` answers those first.

conf/ composes the algorithms of one robomimic (``launch.robomimic``, for the
interpreter ``launch.python``), so :func:`main` reads those two from the command line
before Hydra composes anything (:func:`select_robomimic`).
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

from typing import Any, List, Optional  # noqa: E402

import hydra  # noqa: E402
from hydra.core.hydra_config import HydraConfig  # noqa: E402
from omegaconf import DictConfig, OmegaConf  # noqa: E402

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


OTHER_SWEEPER = ("{sweeper}: this app sweeps with its own sweeper (hydra/sweeper=robomimic, the default), which "
                 "names the runs and writes their robomimic configs; drop {sweeper}")


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


def check_command_line(argv: List[str]) -> Optional[str]:
    """A message for the mistakes Hydra reports with a traceback (or with advice that sends
    the user back here), or None."""
    flags = [a for a in argv if a in ("-m", "--multirun", "--cfg", "-c", "--info", "-i", "--run", "-r")]
    showing = [f for f in flags if f in ("--cfg", "-c", "--info", "-i")]
    sweeper = next((a.split("=", 1)[1] for a in argv if a.lstrip("+~").startswith("hydra/sweeper=")), None)
    if sweeper is not None and sweeper != "robomimic":
        return OTHER_SWEEPER.format(sweeper=f"hydra/sweeper={sweeper}")
    sweeps = _sweep_overrides(argv) if showing else []
    if sweeps:
        return (f"{showing[0]} shows one composed config, and {' '.join(sweeps)} sweeps: to see every run of "
                f"the sweep, drop {' and '.join(flags)} and add launch.mode=list; to see one run's config, give "
                "each swept key one value")
    if len(flags) > 1 and showing:
        return (f"{' and '.join(flags)} cannot be combined. This app always sweeps (-m is implied); "
                "to see the composed config, run: python launcher/run.py --cfg job [overrides]")
    for path in _selected_sweep_files(argv):
        problem = _yaml_problem(path)
        if problem:
            return f"the sweep file {path} is not valid YAML: {problem}"
    return None


_FLAGS_WITH_A_VALUE = {"--config-dir", "-cd", "--config-path", "-cp", "--config-name", "-cn", "--package", "-p"}


def _sweep_overrides(argv: List[str]) -> List[str]:
    """The overrides on the command line that sweep (``train.seed=1,2``), as Hydra parses them."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    found = []
    for before, arg in zip([""] + argv, argv):
        if arg.startswith("-") or "=" not in arg or before in _FLAGS_WITH_A_VALUE:
            continue
        try:
            if parser.parse_override(arg).is_sweep_override():
                found.append(arg)
        except Exception:  # Hydra's grammar errors have several types; Hydra reports them itself
            continue
    return found


def _config_dirs(argv: List[str]) -> List[Path]:
    """conf/ and the folders ``--config-dir`` adds."""
    dirs = [CONF]
    for i, arg in enumerate(argv):
        if arg in ("--config-dir", "-cd") and i + 1 < len(argv):
            dirs.append(Path(argv[i + 1]).expanduser())
        elif arg.startswith("--config-dir="):
            dirs.append(Path(arg.split("=", 1)[1]).expanduser())
    return dirs


def _config_files(argv: List[str], group: str, name: str) -> List[Path]:
    """The files ``group=name`` selects in the config folders."""
    return [d / group / f"{name}.yaml" for d in _config_dirs(argv) if (d / group / f"{name}.yaml").is_file()]


def _selected_sweep_files(argv: List[str]) -> List[Path]:
    names = [arg.split("=", 1)[1] for arg in argv if arg.lstrip("+").startswith("sweep=")]
    return [path for name in names for path in _config_files(argv, "sweep", name)]


def _yaml_problem(path: Path) -> Optional[str]:
    import yaml

    try:
        OmegaConf.load(path)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        return f"{getattr(e, 'problem', None) or e}{where}"
    except Exception:
        return None  # Hydra reports anything else itself
    return None


# Hydra's flags that run something other than a sweep.
_MODE_FLAGS = {"-m", "--multirun", "-r", "--run", "-c", "--cfg", "-i", "--info", "-h", "--help",
               "--hydra-help", "-sc", "--shell-completion", "--version"}


def select_robomimic(argv: List[str]) -> Optional[str]:
    """Compose with the robomimic the command line picks (``launch.robomimic``,
    ``launch.python``; Hydra's own parser reads them); a message if it cannot be had,
    or if ``algo=NAME`` is not one of its algorithms."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from launcher.core.errors import SweepError
    from launcher.request.overrides import plain_value
    from launcher.robomimic import selection

    chosen = {"launch.robomimic": selection.AUTO, "launch.python": None, "algo": None}
    parser = OverridesParser.create()
    for before, arg in zip([""] + argv, argv):
        if arg.startswith("-") or "=" not in arg or before in _FLAGS_WITH_A_VALUE \
                or arg.split("=", 1)[0].lstrip("+") not in chosen:
            continue
        try:
            override = parser.parse_override(arg)
        except Exception:
            continue  # Hydra reports a malformed override itself
        if not override.is_sweep_override() and not override.is_delete():
            chosen[override.key_or_group] = plain_value(override.value())
    name, python = chosen["launch.robomimic"], chosen["launch.python"]
    try:
        robomimic = selection.select(selection.check_choice(name), None if python is None else str(python))
        algo = chosen["algo"]
        if algo is not None and not _config_files(argv, "algo", str(algo)):  # a user's own algo/NAME.yaml is Hydra's
            robomimic.schema(algo, f"algo={algo}")
    except SweepError as e:
        return str(e)
    selection.compose_with(name, None if python is None else str(python), robomimic)
    return None


def main() -> None:
    """The command line of launcher/run.py, ``python -m launcher`` and ``robomimic-sweep``."""
    message = check_command_line(sys.argv[1:]) or select_robomimic(sys.argv[1:])
    if message:
        print(f"Error: {message}", file=sys.stderr)
        sys.exit(2)
    if not _MODE_FLAGS & set(sys.argv[1:]):
        # -m is implied (conf/config.yaml also says hydra.mode: MULTIRUN, but Hydra reads that only
        # from a config it could compose; a bad override would drop it back to a single run).
        sys.argv.insert(1, "-m")
    try:
        hydra_app()
    except BrokenPipeError:  # `--help | head`: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":
    main()
