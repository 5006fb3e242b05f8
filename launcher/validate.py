"""Checks on a whole sweep, run before anything is written or launched."""
from typing import Optional, Set

from launcher.errors import SweepError
from launcher.plan import SweepPlan
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


def validate_runs(plan: SweepPlan) -> int:
    """Check every run name of the sweep; return how many runs there are.

    Streams over the runs, keeping only the set of names seen.
    """
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
    return count


def _collision(plan: SweepPlan, name: str, choice: Choice) -> SweepError:
    first = next(c for n, c in plan.runs() if n == name)
    differing = [
        p.key for p, a, b in zip(plan.params, first, choice) if p.values[a] != p.values[b]
    ]
    hint = ""
    if differing:
        hint = f"; give {', '.join(repr(k) for k in differing)} a non-empty name (or value_names) that tells them apart"
    return SweepError(
        f"two runs would both be named {name!r} and write the same files:\n"
        f"  {describe_run(plan, first)}\n"
        f"  {describe_run(plan, choice)}{hint}"
    )
