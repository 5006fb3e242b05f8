"""Reading and checking a sweep file's top-level fields.

A sweep file (``conf/sweep/NAME.yaml``, selected with ``sweep=NAME``) holds the params,
and the settings of the whole sweep that robomimic's later generators added (how runs
are named, which to exclude, the wandb project). Plain values in: the composed
``sweep`` section, already read by :mod:`launcher.request.hydra_config`.
"""
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from launcher.core.errors import SweepError

# The fields a sweep file may have at its top level.
SWEEP_FILE_FIELDS = ("params", "base_name", "hide_base_name", "exclude", "wandb_proj_name")

UNSET = object()


@dataclass(frozen=True)
class SweepFile:
    """A sweep file's top-level fields, checked; unset ones as their defaults."""

    entries: List[Any] = field(default_factory=list)
    base_name: Optional[str] = None  # master's base_exp_name
    hide_base_name: bool = False  # master's generate(override_base_name=True)
    exclude: List[Any] = field(default_factory=list)
    # A project name, None for "not written" (master's default), or UNSET (not in the file).
    wandb_proj_name: Any = UNSET


def read_sweep_file(sweep_file: Optional[Dict[str, Any]]) -> SweepFile:
    """The sweep file's fields, each checked; an unknown one is an error."""
    if sweep_file is None:
        return SweepFile()
    if not isinstance(sweep_file, dict):
        raise SweepError(f"the sweep file must be a mapping with 'params', got {sweep_file!r}")
    unknown = sorted(set(sweep_file) - set(SWEEP_FILE_FIELDS))
    if "params" not in sweep_file:
        also = f" (it has {unknown})" if unknown else ""
        raise SweepError(
            f"the sweep file has no 'params'{also}: list the swept keys under params: "
            "(each with key, name, group, values), see conf/sweep/bc_rnn_hyper.yaml"
        )
    if unknown:
        raise SweepError(
            f"the sweep file has unknown top-level field(s) {unknown}; allowed: {list(SWEEP_FILE_FIELDS)}"
        )
    return SweepFile(
        entries=_typed(sweep_file, "params", list, "a list of params", []),
        base_name=_typed(sweep_file, "base_name", str, "a string (\"\" for none)", None),
        hide_base_name=_typed(sweep_file, "hide_base_name", bool, "true or false", False),
        exclude=_typed(sweep_file, "exclude", list, "a list of {key: value, ...} entries", []),
        wandb_proj_name=_sweep_wandb(sweep_file),
    )


def _typed(sweep_file: Dict[str, Any], field_name: str, kind: type, what: str, default: Any) -> Any:
    value = sweep_file.get(field_name, default)
    if value is not default and not isinstance(value, kind):
        raise SweepError(f"sweep.{field_name} must be {what}, got {value!r}")
    return value


def _sweep_wandb(sweep_file: Dict[str, Any]) -> Any:
    if "wandb_proj_name" not in sweep_file:
        return UNSET
    value = sweep_file["wandb_proj_name"]
    if value is None or value is False:
        return None
    if not isinstance(value, str):
        raise SweepError(
            f"sweep.wandb_proj_name must be a project name, or null to leave the base's value; got {value!r}"
        )
    return value
