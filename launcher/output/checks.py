"""Checks that need more than one param: run names and targets.

Each raises :class:`SweepError` naming the culprit and what to do. They run in
the single pass over the runs (:mod:`launcher.output.each_run`) before anything is put in
place or launched; keys and values were checked when the plan was made.
"""
from typing import Optional, Set

from launcher.core.errors import SweepError
from launcher.core.params import Choice
from launcher.core.plan import SweepPlan
from launcher.request.launch_options import LaunchOptions

# Most file systems cap a file name at 255 bytes; the config file adds ".json".
# Temporary names are short (launcher.output.staging), so they never count.
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


class RunNames:
    """Every run name must be a usable file name, distinct from the others, and not the script's."""

    def __init__(self, plan: SweepPlan, options: Optional[LaunchOptions] = None) -> None:
        self.plan = plan
        self.seen: Set[str] = set()
        self.script_as_config: Optional[str] = None
        if options is not None and options.script_file.parent == options.config_dir:
            self.script_as_config = options.script_file.name

    def add(self, name: str, choice: Choice) -> None:
        reason = unsafe_name_reason(name)
        if reason is not None:
            raise SweepError(
                f"run name {name!r} cannot be a file name because {reason} "
                f"(run {len(self.seen) + 1}: {describe_run(self.plan, choice)})"
            )
        if name in self.seen:
            raise self._collision(name, choice)
        if self.script_as_config == f"{name}.json":
            raise SweepError(
                f"launch.script_file is {name}.json in launch.config_dir, the config of run {name}; "
                "the script would replace it. Choose another launch.script_file."
            )
        self.seen.add(name)

    def _collision(self, name: str, choice: Choice) -> SweepError:
        first = next(c for n, c in self.plan.runs() if n == name)
        differing = [
            p.key for p, a, b in zip(self.plan.params, first, choice) if p.values[a] != p.values[b]
        ]
        hint = ""
        if differing:
            keys = ", ".join(repr(k) for k in differing)
            hint = f"\ngive {keys} a non-empty name (or value_names) that tells the runs apart"
        return SweepError(
            f"two runs would both be named {name!r} and write the same files "
            f"(robomimic would silently overwrite one):\n"
            f"  {describe_run(self.plan, first)}\n"
            f"  {describe_run(self.plan, choice)}{hint}"
        )


def check_targets(options: LaunchOptions) -> None:
    """The config folder must be a folder and the script a file."""
    if options.config_dir.exists() and not options.config_dir.is_dir():
        raise SweepError(
            f"launch.config_dir: {options.config_dir} is a file, not a folder; choose a folder for the configs"
        )
    if options.script_file.is_dir():
        raise SweepError(
            f"launch.script_file: {options.script_file} is a folder; give a file path, e.g. {options.script_file}/run.sh"
        )
    if options.script_file == options.config_dir:
        raise SweepError("launch.script_file and launch.config_dir are the same path; choose two")
