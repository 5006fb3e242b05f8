"""Which robomimic a sweep (and conf/, the stub, the drop-in generator) uses: ``launch.robomimic``.

``auto`` (the default) is the robomimic the training interpreter (``launch.python``,
default this one) imports, else the newest bundled release; ``installed`` insists on
that one; a bundled name takes its recorded schema. conf/ composes before the sweep
reads its ``launch`` section, so launcher/run.py picks the robomimic from the command
line first (:func:`compose_with`) and the sweep checks that it got the same one
(:func:`for_sweep`).
"""
import os
from dataclasses import dataclass
from typing import Any, Optional, Tuple

from launcher.core.errors import SweepError
from launcher.robomimic import installed
from launcher.robomimic.versions import AUTO, BUNDLED, CHOICES, ENV_VAR, INSTALLED, NEWEST_RELEASE, Robomimic, bundled


def check_choice(value: Any, what: str = "launch.robomimic") -> str:
    """``value`` if it names a robomimic, else a SweepError listing the choices."""
    if value not in CHOICES:
        raise SweepError(f"{what} must be one of {', '.join(CHOICES)} (auto: the robomimic launch.python "
                         f"imports, else {NEWEST_RELEASE}); got {value!r}")
    return value


def select(name: str, python: Optional[str] = None) -> Robomimic:
    """The robomimic ``launch.robomimic=name`` means for the training interpreter ``python``
    (None: this one): a bundled one by name; ``installed``, the one ``python`` imports
    (an error if none); ``auto``, that one if there is one, else the newest release."""
    check_choice(name)
    if name in BUNDLED:
        return bundled(name)
    try:
        found = installed.installed_robomimic(python)
    except installed.InterpreterMissing:
        if name == INSTALLED:
            raise
        found = None  # auto: an interpreter that cannot run here (a cluster's) imports nothing here
    if found is not None:
        return found
    if name == INSTALLED:
        raise SweepError(
            f"launch.robomimic=installed: {installed.interpreter_name(python)} cannot import robomimic; "
            f"install it there, point launch.python at an interpreter that has it, or pick a bundled "
            f"schema: launch.robomimic={'|'.join(BUNDLED)}")
    return bundled(NEWEST_RELEASE)


def from_environment() -> Robomimic:
    """The robomimic a process outside the app behaves as or checks against (the stub, the
    drop-in ConfigGenerator): ``$ROBOMIMIC_SWEEP_ROBOMIMIC`` (run mode sets it for every
    training), else ``auto`` for this interpreter."""
    return select(os.environ.get(ENV_VAR) or AUTO)


# --- what conf/ composes with ------------------------------------------------------------

@dataclass
class _Composition:
    selection: Tuple[str, Optional[str]] = (AUTO, None)
    robomimic: Optional[Robomimic] = None
    served: bool = False


_COMPOSITION = _Composition()


def compose_with(name: str, python: Optional[str], robomimic: Optional[Robomimic] = None) -> None:
    """Set the robomimic conf/ composes with (``launcher/run.py`` does, from the command
    line, before Hydra composes); without it, ``auto`` for this interpreter."""
    _COMPOSITION.selection = (name, python)
    _COMPOSITION.robomimic = robomimic
    _COMPOSITION.served = False


def composition() -> Robomimic:
    """The robomimic whose algorithms conf/ serves (hydra_plugins/robomimic_sweeper/robomimic_source.py)."""
    if _COMPOSITION.robomimic is None:
        _COMPOSITION.robomimic = select(*_COMPOSITION.selection)
    _COMPOSITION.served = True
    return _COMPOSITION.robomimic


def composed_with() -> Optional[Tuple[Tuple[str, Optional[str]], Robomimic]]:
    """The selection and robomimic the composed config came from; None if nothing was composed from it."""
    if not _COMPOSITION.served or _COMPOSITION.robomimic is None:
        return None
    return _COMPOSITION.selection, _COMPOSITION.robomimic


def for_sweep(name: str, python: Optional[str]) -> Robomimic:
    """The robomimic a sweep with these launch options checks against, which must be the
    one conf/ was composed with: the choice has to be made on the command line."""
    composed = composed_with()
    if composed is not None and composed[0] == (name, python):
        return composed[1]
    robomimic = select(name, python)
    if composed is not None and composed[1].key != robomimic.key:
        raise SweepError(
            f"launch.robomimic={name}"
            + (f" with launch.python={python}" if python else "")
            + f" means {robomimic.describe()}, but the config was composed from {composed[1].describe()}: "
            "a config file set launch.robomimic or launch.python; give them on the command line instead")
    return robomimic
