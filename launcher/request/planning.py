"""From what the user asked for to a checked :class:`SweepPlan`.

The base document (composed defaults, or a base JSON with the command line's
overrides applied), the sweep file's params then the command line's, each key
and value checked against robomimic's schema, and the sweep file's settings of
the whole sweep (how runs are named, which to exclude, the wandb project), with the
defaults of the robomimic that trains (its generator's naming rule and wandb
project, its train.py's reading of ``train.data``). Plain values in, plain values
out: no Hydra here (:mod:`launcher.request.hydra_config`
reads the composed config, :mod:`launcher.request.sweep_file` the sweep file).
"""
import json
from typing import Any, Dict, List, Optional, Sequence, Tuple

from launcher.core.document import base_run_name
from launcher.core.errors import SweepError
from launcher.core.keys import delete_value, get_value, normalize_key, set_value
from launcher.core.params import Exclusion, Param, add_param, exclusion_from_entry, param_from_entry
from launcher.core.plan import SweepPlan
from launcher.request.hydra_config import SweepRequest
from launcher.request.overrides import FixedOverride
from launcher.request.sweep_file import UNSET, SweepFile, read_sweep_file
from launcher.robomimic.schema import DATA_KEY, Schema
from launcher.robomimic.versions import GeneratorRule, Robomimic


def make_plan(request: SweepRequest) -> SweepPlan:
    """The sweep ``request`` describes, every key and value checked against its robomimic."""
    robomimic = request.robomimic
    if request.base_config is not None:
        base, schema, source = _base_from_json(robomimic, request.base_config, request.fixed)
    else:
        schema = robomimic.schema(request.composed.get("algo_name"), source="algo_name")
        for override in request.fixed:
            _check_fixed(schema, override)
        base, source = request.composed, "the composed config"
        schema.check_config(base, source=source)

    sweep = read_sweep_file(request.sweep_file)
    params = sweep_params(sweep.entries, request.cli_params)
    check_params(schema, params)
    _check_not_fixed(params, request.fixed)
    base_name, leading_separator = run_name_base(sweep, base, source, robomimic.generator)
    plan = SweepPlan(
        base=base,
        base_name=base_name,
        params=params,
        base_config_file=request.base_config,
        wandb_proj_name=wandb_proj_name(request.options.wandb_proj_name, sweep, robomimic.generator),
        leading_separator=leading_separator,
        exclude=exclusions(sweep.exclude, params),
    )
    if plan.exclude and plan.count_runs()[0] == 0:
        raise SweepError("sweep.exclude drops every run of the sweep; nothing would be left to run")
    check_dataset_caching(plan, schema)
    return plan


def _check_not_fixed(params: Sequence[Param], fixed: Sequence[FixedOverride]) -> None:
    swept_keys = {normalize_key(p.key) for p in params}
    for override in fixed:
        if normalize_key(override.key) in swept_keys:
            raise SweepError(
                f"'{override.line}' fixes '{override.key}', which the sweep varies; "
                "drop it from the sweep or sweep it on the command line"
            )


def check_params(schema: Schema, params: Sequence[Param]) -> None:
    """Every swept key exists in robomimic's config and every value fits its type."""
    for param in params:
        schema.check_key(param.key, source=param.origin)
        for i, value in enumerate(param.values):
            schema.check(param.key, value, source=f"{param.origin} value {i + 1}")


def run_name_base(sweep: SweepFile, base: Dict[str, Any], source: str, generator: GeneratorRule) -> Tuple[str, bool]:
    """What run names start with, and whether ``_`` follows even an empty start.

    With ``base_name`` or ``hide_base_name`` (robomimic master's options), names
    follow master's rule: ``_`` only between non-empty parts, and hiding wins over
    a base name, as ``override_base_name`` wins over ``base_exp_name``. Without
    them, the base's ``experiment.name`` by the rule of the robomimic's own
    generator: 0.3.0's always puts ``_`` after it, master's and robocasa's only
    between non-empty parts.
    """
    if sweep.hide_base_name:
        return "", False
    if sweep.base_name is not None:
        return sweep.base_name, False
    return base_run_name(base, source), generator.leading_separator


def wandb_proj_name(option: Any, sweep: SweepFile, generator: GeneratorRule) -> Optional[str]:
    """The project every run's ``experiment.logging.wandb_proj_name`` is set to, or
    None to leave the base's value alone.

    ``launch.wandb_proj_name`` wins when given (a name, or false for "not written");
    else the sweep file's ``wandb_proj_name`` (a name, or null for "not written");
    else what the robomimic's generator does: 0.3.0's and robocasa's write ``debug``,
    master's leaves the base's value.
    """
    if option is not None:
        return None if option is False else option
    if sweep.wandb_proj_name is not UNSET:
        return sweep.wandb_proj_name
    return generator.wandb_proj_name


CACHE_MODE_KEY = "train.hdf5_cache_mode"


def check_dataset_caching(plan: SweepPlan, schema: Schema) -> None:
    """Several datasets with ``train.hdf5_cache_mode="all"`` fail in robomimic's train.py;
    checked on the base, or on every run when the sweep varies either key."""
    default_mode = get_value(schema.defaults, CACHE_MODE_KEY)
    if not plan.varies(DATA_KEY) and not plan.varies(CACHE_MODE_KEY):
        data, mode = get_value(plan.base, DATA_KEY), get_value(plan.base, CACHE_MODE_KEY, default_mode)
        schema.check_datasets_cache(data, mode, DATA_KEY)
        return
    for name, choice in plan.runs():
        data, mode = plan.value(choice, DATA_KEY), plan.value(choice, CACHE_MODE_KEY, default_mode)
        schema.check_datasets_cache(data, mode, f"run {name}")


def exclusions(entries: Sequence[Any], params: Sequence[Param]) -> Tuple[Exclusion, ...]:
    return tuple(exclusion_from_entry(e, params, f"sweep.exclude[{i}]") for i, e in enumerate(entries))


def _base_from_json(robomimic: Robomimic, path: str, fixed: List[FixedOverride]):
    base, schema = base_and_schema(robomimic, path)
    for override in fixed:
        _check_fixed(schema, override)
        _apply_fixed(base, override)
    return base, schema, path


def base_and_schema(robomimic: Robomimic, path: str, what: str = "base_config") -> Tuple[Dict[str, Any], Schema]:
    """A base JSON and the schema of its ``algo_name``, the base checked against it."""
    base = load_base_json(path, what)
    if "algo_name" not in base:
        raise SweepError(f"{what}: {path} has no 'algo_name' (robomimic's train.py needs it)")
    schema = robomimic.schema(base["algo_name"], source=f"{what} {path}")
    schema.check_config(base, source=path)
    return base, schema


def _check_fixed(schema: Schema, override: FixedOverride) -> None:
    if not override.delete:
        schema.check(override.key, override.value, source=f"'{override.line}'")


def _apply_fixed(config: Dict[str, Any], override: FixedOverride) -> None:
    if override.delete:
        if not delete_value(config, override.key):
            raise SweepError(f"'{override.line}': no key '{override.key}' to delete")
        return
    set_value(config, override.key, override.value)


def load_base_json(path: str, what: str = "base_config") -> Dict[str, Any]:
    """A user's robomimic JSON, as ``hyperparam_helper.py --config`` reads it; errors
    start with ``what`` (the option or argument that named the file)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise SweepError(f"{what}: no such file: {path}") from None
    except OSError as e:
        raise SweepError(f"{what}: cannot read {path}: {e.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SweepError(
            f"{what}: {path} is not UTF-8 text (byte {e.start}); save it as UTF-8 JSON"
        ) from None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as e:
        raise SweepError(
            f"{what}: {path} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}"
        ) from None
    if not isinstance(config, dict):
        raise SweepError(f"{what}: {path} must hold a JSON object, not {type(config).__name__}")
    return config


def sweep_params(entries: Sequence[Any], cli_params: List[Param]) -> List[Param]:
    """The sweep file's params, then the command line's, in robomimic's add_param order
    (``prepend`` moves a param to the front as it is added)."""
    file_params = [param_from_entry(entry, where=f"sweep.params[{i}]") for i, entry in enumerate(entries)]
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
    params: List[Param] = []
    # A command-line sweep of a key the sweep file has replaces it in place, as
    # re-adding a key does in robomimic.
    for param in [*file_params, *cli_params]:
        add_param(params, param)
    if not params:
        raise SweepError(
            "the sweep is empty: pick a sweep file with sweep=NAME (conf/sweep/ or "
            "--config-dir DIR with DIR/sweep/NAME.yaml) or sweep a key, e.g. train.seed=1,2,3"
        )
    return params
