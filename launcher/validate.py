"""Checks on a whole sweep, run before anything is written or launched."""
import hashlib
from pathlib import Path
from typing import List, Optional, Set

from launcher.emit import SCRIPT_HEADER, script_line
from launcher.errors import SweepError
from launcher.plan import LaunchOptions, SweepPlan
from launcher.render import ConfigRenderer
from launcher.sweep import Choice

# Most file systems cap a file name at 255 bytes; the config file adds ".json".
MAX_NAME_BYTES = 255 - len(".json")


def unsafe_name_reason(name: str) -> Optional[str]:
    """Why ``name`` cannot be a file name, or None if it can."""
    if name in ("", ".", ".."):
        return "it is empty or a special folder name"
    if "/" in name:
        return "it contains '/'"
    if "\0" in name:
        return "it contains a NUL character"
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return f"it is longer than {MAX_NAME_BYTES} bytes"
    return None


def describe_run(plan: SweepPlan, choice: Choice) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in plan.assignments(choice))


def validate_runs(plan: SweepPlan, options: Optional[LaunchOptions] = None) -> int:
    """Check every run of the sweep before anything is written; return how many there are.

    Run names must be usable file names and distinct. With ``options``, the files the
    sweep writes must not replace existing files that hold something else, unless
    ``launch.overwrite`` is set: an identical file is fine, so a re-run is idempotent.
    Streams over the runs, keeping only the names seen.
    """
    existing = _ExistingFiles(plan, options) if options and not options.overwrite else None
    seen: Set[str] = set()
    count = 0
    for name, choice in plan.runs():
        reason = unsafe_name_reason(name)
        if reason is not None:
            raise SweepError(
                f"run name {name!r} cannot be a file name because {reason} "
                f"(run {count + 1}: {describe_run(plan, choice)})"
            )
        if name in seen:
            raise _collision(plan, name, choice)
        seen.add(name)
        count += 1
        if existing is not None:
            existing.add_run(name, choice)
    if existing is not None:
        existing.raise_on_conflicts()
    return count


class _ExistingFiles:
    """Collects files the sweep would overwrite with other content."""

    def __init__(self, plan: SweepPlan, options: LaunchOptions) -> None:
        self.render = ConfigRenderer(plan).text
        self.options = options
        self.check_configs = options.config_dir.is_dir()
        self.check_script = options.mode == "script" and options.script_file.exists()
        self.script_hash = hashlib.sha256(SCRIPT_HEADER.encode())
        self.conflicts: List[Path] = []

    def add_run(self, name: str, choice: Choice) -> None:
        file_name = f"{name}.json"
        if self.check_script:
            self.script_hash.update(script_line(self.options, file_name).encode())
        path = self.options.config_dir / file_name
        if self.check_configs and path.exists():
            if path.read_text() != self.render(name, choice):
                self.conflicts.append(path)

    def raise_on_conflicts(self) -> None:
        script = self.options.script_file
        if self.check_script:
            if hashlib.sha256(script.read_bytes()).digest() != self.script_hash.digest():
                self.conflicts.append(script)
        if not self.conflicts:
            return
        listing = "\n".join(f"  {p}" for p in self.conflicts[:5])
        if len(self.conflicts) > 5:
            listing += f"\n  ... and {len(self.conflicts) - 5} more"
        raise SweepError(
            f"{len(self.conflicts)} file(s) this sweep would write already exist with other content:\n"
            f"{listing}\nNothing was written. Set launch.overwrite=true to replace them, "
            "or choose another launch.config_dir / launch.script_file."
        )


def _collision(plan: SweepPlan, name: str, choice: Choice) -> SweepError:
    first = next(c for n, c in plan.runs() if n == name)
    differing = [
        p.key for p, a, b in zip(plan.params, first, choice) if p.values[a] != p.values[b]
    ]
    hint = ""
    if differing:
        keys = ", ".join(repr(k) for k in differing)
        hint = f"\ngive {keys} a non-empty name (or value_names) that tells the runs apart"
    return SweepError(
        f"two runs would both be named {name!r} and write the same files "
        f"(robomimic would silently overwrite one):\n"
        f"  {describe_run(plan, first)}\n"
        f"  {describe_run(plan, choice)}{hint}"
    )
