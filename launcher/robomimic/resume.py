"""Whether a train script takes ``--resume``, and which folder it would continue in.

Why here: robomimic >= 0.5's ``train.py`` resumes a run from
``<train.output_dir>/<experiment.name>/<timestamp>/last.pth``, and the versions differ
in which folder they pick: 0.5.0 and dexmimicgen assert that the run's folder holds
exactly one entry ("only_folder"), master takes the newest ("latest_folder");
robomimic 0.3.0 and robocasa have no ``--resume``. Run mode asks :func:`resume_rule`
once per sweep (``launch.resume=auto``) and each job asks :func:`resume_folder`
when its run starts again. For robomimic's own ``train.py`` and for the stub (which
speaks the selected robomimic), the selected robomimic's profile answers; any other
train script is read.
"""
import datetime
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from launcher.robomimic.versions import Robomimic

RESUME_FLAG = "--resume"
ONLY_FOLDER, LATEST_FOLDER = "only_folder", "latest_folder"
CHECKPOINT = "last.pth"
_PICKS_NEWEST = re.compile(r"sorted\(os\.listdir\([^)]*\)\)\[-1\]")


def resume_rule(train_script: str, robomimic: Optional["Robomimic"] = None) -> Optional[str]:
    """How ``train_script`` picks the folder it resumes in, or None if it takes no ``--resume``.

    ``robomimic``: the script is that robomimic's ``train.py``, or the stub speaking it; its
    profile answers (it resumes if its ``train.py`` takes ``--resume`` and writes ``last.pth``).
    Otherwise read from the script itself (``parser.add_argument("--resume", ...)``); a script that
    does not show it picks the newest folder (``sorted(os.listdir(...))[-1]``) gets the
    stricter rule, 0.5.0's: resume only when the run's folder holds one entry."""
    if robomimic is not None:
        profile = robomimic.profile
        return profile.resume if profile.resume and profile.last_checkpoint else None
    try:
        text = Path(train_script).read_text(errors="replace")
    except OSError:
        return None
    from launcher.robomimic.versions import train_args

    if RESUME_FLAG not in train_args(text):
        return None
    return LATEST_FOLDER if _PICKS_NEWEST.search(text) else ONLY_FOLDER


def resume_folder(run_folder: Path, rule: Optional[str], since: float) -> Optional[Path]:
    """The timestamp folder a run that starts again continues in with ``--resume``, or None
    to start afresh: the newest ``<run_folder>/<YYYYmmddHHMMSS>/`` that has ``last.pth``
    and was made by this run (not before ``since``, its first attempt's start), and, under
    the "only_folder" rule, the only entry of ``run_folder``."""
    if rule is None:
        return None
    try:
        entries = sorted(os.listdir(run_folder))
    except OSError:
        return None
    stamps = [e for e in entries if not e.startswith(".") and (run_folder / e).is_dir()]
    if not stamps or (rule == ONLY_FOLDER and entries != stamps[-1:]):
        return None
    newest = run_folder / stamps[-1]
    if not (newest / CHECKPOINT).is_file() or _folder_time(stamps[-1]) < since - 1:  # named to the second
        return None
    return newest


def _folder_time(name: str) -> float:
    # Not paths.folder_time (time.mktime): in the hour a DST change repeats, this reads the
    # earlier of the two times, so a folder that may predate the run is never resumed in.
    try:
        return datetime.datetime.strptime(name, "%Y%m%d%H%M%S").timestamp()
    except ValueError:
        return 0.0
