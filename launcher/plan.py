"""From what the user asked for to a checked :class:`SweepPlan`.

The base document (composed defaults, or a base JSON with the command line's
overrides applied), the sweep file's params then the command line's, each key
and value checked against robomimic's schema. Plain values in, plain values
out: no Hydra here (see :mod:`launcher.app_config` for the reading).
"""
import json
from typing import Any, Dict, List, Optional

from launcher.app_config import SweepRequest
from launcher.core.document import base_run_name
from launcher.core.errors import SweepError
from launcher.core.keys import delete_value, normalize_key, set_value
from launcher.core.params import Param, add_param, param_from_entry
from launcher.core.plan import SweepPlan
from launcher.core.schema import Schema
from launcher.overrides import FixedOverride

# The fields a sweep file may have at its top level.
SWEEP_FILE_FIELDS = ("params",)


def make_plan(request: SweepRequest) -> SweepPlan:
    """The sweep ``request`` describes, every key and value checked."""
    if request.base_config is not None:
        base, schema, source = _base_from_json(request.base_config, request.fixed)
    else:
        schema = Schema.for_algo(request.robomimic.get("algo_name"), source="algo_name")
        for override in request.fixed:
            _check_fixed(schema, override)
        base, source = request.robomimic, "the composed config"
        schema.check_config(base, source=source)

    params = sweep_params(request.sweep_file, request.cli_params)
    for param in params:
        schema.check_key(param.key, source=param.origin)
        for i, value in enumerate(param.values):
            schema.check(param.key, value, source=f"{param.origin} value {i + 1}")
    swept_keys = {normalize_key(p.key) for p in params}
    for override in request.fixed:
        if normalize_key(override.key) in swept_keys:
            raise SweepError(
                f"'{override.line}' fixes '{override.key}', which the sweep varies; "
                "drop it from the sweep or sweep it on the command line"
            )
    return SweepPlan(
        base=base,
        base_name=base_run_name(base, source),
        params=params,
        base_config_file=request.base_config,
        wandb_proj_name=request.options.wandb_proj_name,
    )


def _base_from_json(path: str, fixed: List[FixedOverride]):
    base = load_base_json(path)
    if "algo_name" not in base:
        raise SweepError(f"base_config: {path} has no 'algo_name' (robomimic's train.py needs it)")
    schema = Schema.for_algo(base["algo_name"], source=f"base_config {path}")
    schema.check_config(base, source=path)
    for override in fixed:
        _check_fixed(schema, override)
        _apply_fixed(base, override)
    return base, schema, path


def _check_fixed(schema: Schema, override: FixedOverride) -> None:
    if not override.delete:
        schema.check(override.key, override.value, source=f"'{override.line}'")


def _apply_fixed(config: Dict[str, Any], override: FixedOverride) -> None:
    if override.delete:
        if not delete_value(config, override.key):
            raise SweepError(f"'{override.line}': no key '{override.key}' to delete")
        return
    set_value(config, override.key, override.value)


def load_base_json(path: str) -> Dict[str, Any]:
    """A user's robomimic JSON, as ``hyperparam_helper.py --config`` reads it."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise SweepError(f"base_config: no such file: {path}") from None
    except OSError as e:
        raise SweepError(f"base_config: cannot read {path}: {e.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SweepError(
            f"base_config: {path} is not UTF-8 text (byte {e.start}); save it as UTF-8 JSON"
        ) from None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as e:
        raise SweepError(
            f"base_config: {path} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}"
        ) from None
    if not isinstance(config, dict):
        raise SweepError(f"base_config: {path} must hold a JSON object, not {type(config).__name__}")
    return config


def sweep_params(sweep_file: Optional[Dict[str, Any]], cli_params: List[Param]) -> List[Param]:
    """The sweep file's params, then the command line's, in robomimic's add_param order."""
    file_params = [
        param_from_entry(entry, where=f"sweep.params[{i}]")
        for i, entry in enumerate(_sweep_file_entries(sweep_file))
    ]
    for params in (file_params, cli_params):
        seen: Dict[str, Param] = {}
        for param in params:
            key = normalize_key(param.key)
            if key in seen:
                raise SweepError(
                    f"{param.origin}: key '{param.key}' is already swept by {seen[key].origin}; "
                    "list each key once (robomimic would silently keep only the last)"
                )
            seen[key] = param
    params = list(file_params)
    for param in cli_params:
        # A command-line sweep of a key the sweep file has replaces it in place,
        # as re-adding a key does in robomimic.
        add_param(params, param)
    if not params:
        raise SweepError(
            "the sweep is empty: pick a sweep file with sweep=NAME (conf/sweep/ or "
            "--config-dir DIR with DIR/sweep/NAME.yaml) or sweep a key, e.g. train.seed=1,2,3"
        )
    return params


def _sweep_file_entries(sweep_file: Optional[Dict[str, Any]]) -> List[Any]:
    if sweep_file is None:
        return []
    if not isinstance(sweep_file, dict):
        raise SweepError(f"the sweep file must be a mapping with 'params', got {sweep_file!r}")
    unknown = sorted(set(sweep_file) - set(SWEEP_FILE_FIELDS))
    if unknown:
        raise SweepError(
            f"the sweep file has unknown top-level field(s) {unknown}; allowed: {list(SWEEP_FILE_FIELDS)}"
        )
    if "params" not in sweep_file:
        raise SweepError(
            "the sweep file has no 'params': list the swept keys under params: "
            "(each with key, name, group, values), see conf/sweep/bc_rnn_hyper.yaml"
        )
    entries = sweep_file["params"]
    if not isinstance(entries, list):
        raise SweepError(f"sweep.params must be a list of params, got {entries!r}")
    return entries
