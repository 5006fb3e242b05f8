"""The command line, read before Hydra composes anything.

Why: two kinds of answer are needed before composition. Some mistakes Hydra answers
with a traceback, or with advice that sends the user back here: a sweep file that is
not valid YAML, Hydra's own flags combined (``-m --cfg job``), another sweeper. And
conf/ composes the algorithms of one robomimic (``launch.robomimic`` for the
interpreter ``launch.python``), so those two are read here first and the
composition is told (:func:`select_robomimic`). Hydra's own override parser reads
the arguments; everything else about them stays Hydra's.
"""
from pathlib import Path
from typing import Any, Collection, Iterator, List, Optional, Tuple

from omegaconf import OmegaConf

OTHER_SWEEPER = ("{sweeper}: this app sweeps with its own sweeper (hydra/sweeper=robomimic, the default), which "
                 "names the runs and writes their robomimic configs; drop {sweeper}")


def check_command_line(argv: List[str], conf: Path) -> Optional[str]:
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
    for path in _selected_sweep_files(argv, conf):
        problem = _yaml_problem(path)
        if problem:
            return f"the sweep file {path} is not valid YAML: {problem}"
    return None


_FLAGS_WITH_A_VALUE = {"--config-dir", "-cd", "--config-path", "-cp", "--config-name", "-cn", "--package", "-p"}


def _overrides(argv: List[str], keys: Optional[Collection[str]] = None) -> Iterator[Tuple[str, Any]]:
    """Each override on the command line (of ``keys`` only, if given) and Hydra's parse of it;
    Hydra's flags and their values are skipped, and so are overrides Hydra's grammar refuses
    (Hydra reports them itself)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    for before, arg in zip([""] + argv, argv):
        if arg.startswith("-") or "=" not in arg or before in _FLAGS_WITH_A_VALUE \
                or keys is not None and arg.split("=", 1)[0].lstrip("+") not in keys:
            continue
        try:
            override = parser.parse_override(arg)
        except Exception:  # Hydra's grammar errors have several types
            continue
        yield arg, override


def _sweep_overrides(argv: List[str]) -> List[str]:
    """The overrides on the command line that sweep (``train.seed=1,2``), as Hydra parses them."""
    return [arg for arg, override in _overrides(argv) if override.is_sweep_override()]


def _config_dirs(argv: List[str], conf: Path) -> List[Path]:
    """conf/ and the folders ``--config-dir`` adds."""
    dirs = [conf]
    for i, arg in enumerate(argv):
        if arg in ("--config-dir", "-cd") and i + 1 < len(argv):
            dirs.append(Path(argv[i + 1]).expanduser())
        elif arg.startswith("--config-dir="):
            dirs.append(Path(arg.split("=", 1)[1]).expanduser())
    return dirs


def _config_files(argv: List[str], conf: Path, group: str, name: str) -> List[Path]:
    """The files ``group=name`` selects in the config folders."""
    return [d / group / f"{name}.yaml" for d in _config_dirs(argv, conf) if (d / group / f"{name}.yaml").is_file()]


def _selected_sweep_files(argv: List[str], conf: Path) -> List[Path]:
    names = [arg.split("=", 1)[1] for arg in argv if arg.lstrip("+").startswith("sweep=")]
    return [path for name in names for path in _config_files(argv, conf, "sweep", name)]


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
MODE_FLAGS = {"-m", "--multirun", "-r", "--run", "-c", "--cfg", "-i", "--info", "-h", "--help",
               "--hydra-help", "-sc", "--shell-completion", "--version"}


def select_robomimic(argv: List[str], conf: Path) -> Optional[str]:
    """Compose with the robomimic the command line picks (``launch.robomimic``,
    ``launch.python``; Hydra's own parser reads them); a message if it cannot be had,
    or if ``algo=NAME`` is not one of its algorithms."""
    from launcher.core.errors import SweepError
    from launcher.request.overrides import plain_value
    from launcher.robomimic import selection

    chosen = {"launch.robomimic": selection.AUTO, "launch.python": None, "algo": None}
    for _, override in _overrides(argv, chosen):
        if not override.is_sweep_override() and not override.is_delete():
            chosen[override.key_or_group] = plain_value(override.value())
    name, python = chosen["launch.robomimic"], chosen["launch.python"]
    try:
        robomimic = selection.select(name, None if python is None else str(python))
        algo = chosen["algo"]
        if algo is not None and not _config_files(argv, conf, "algo", str(algo)):  # a user's own algo/NAME.yaml is Hydra's
            robomimic.schema(algo, f"algo={algo}")
    except SweepError as e:
        return str(e)
    selection.compose_with(name, None if python is None else str(python), robomimic)
    return None
