"""The Hydra sweeper plugin: grouped sweeps with robomimic's ConfigGenerator semantics.

Hydra glue only. The sweep logic lives in :mod:`launcher.sweep`, the config
building in :mod:`launcher.robomimic_config`, files in :mod:`launcher.emit`.
"""
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.core.utils import JobReturn, JobStatus
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

from launcher.app_config import OWN_KEYS, load_base_json, robomimic_section
from launcher.emit import emit_script
from launcher.errors import SweepError
from launcher.overrides import apply_override, param_from_override, split_sweeps
from launcher.plan import LaunchOptions, SweepPlan
from launcher.keys import normalize_key
from launcher.robomimic_config import base_run_name
from launcher.schema import Schema
from launcher.sweep import Param, add_param, param_from_entry
from launcher.job import output_root
from launcher.progress import ProgressMonitor, SweepProgress, format_duration
from launcher.render import ConfigRenderer
from launcher.robomimic_config import get_value
from launcher.state import (
    FAILED,
    PENDING,
    SKIPPED,
    SUCCEEDED,
    JobSettings,
    SweepFiles,
    done_marker,
    read_marker,
    save_plan,
)
from launcher.sweep import Choice
from launcher.training import resolve_train_script
from launcher.validate import validate_runs

log = logging.getLogger(__name__)


@dataclass
class RobomimicSweeperConf:
    _target_: str = "hydra_plugins.robomimic_sweeper.RobomimicSweeper"
    # In run mode, launch at most this many jobs at once (None: the whole sweep).
    max_batch_size: Optional[int] = None


ConfigStore.instance().store(
    group="hydra/sweeper",
    name="robomimic",
    node=RobomimicSweeperConf,
    provider="robomimic-hydra-sweeper",
)


class RobomimicSweeper(Sweeper):
    """Zips params within a group, crosses groups, names runs as robomimic does."""

    def __init__(self, max_batch_size: Optional[int] = None) -> None:
        super().__init__()
        self.max_batch_size = max_batch_size
        self.hydra_context: Optional[HydraContext] = None
        self.config: Optional[DictConfig] = None
        self.launcher: Optional[Launcher] = None
        self.cwd = Path.cwd()

    def setup(
        self,
        *,
        hydra_context: HydraContext,
        task_function: TaskFunction,
        config: DictConfig,
    ) -> None:
        from hydra.core.plugins import Plugins

        self.hydra_context = hydra_context
        self.config = config
        # Lets launch.* use ${hydra:sweep.dir}, as job configs do.
        HydraConfig.instance().set_config(config)
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: List[str]) -> Any:
        assert self.config is not None and self.hydra_context is not None
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        overrides = parser.parse_overrides(arguments)
        groups = set(self.hydra_context.config_loader.list_groups(""))
        # Where the sweep was started: relative paths in launch.* and hydra.sweep.dir count from here.
        self.cwd = Path(self.config.hydra.runtime.cwd)
        options = LaunchOptions.from_mapping(
            OmegaConf.to_container(self.config.launch, resolve=True),  # type: ignore[arg-type]
            cwd=self.cwd,
        )
        plan = make_plan(self.config, overrides, groups, options.wandb_proj_name)
        count = validate_runs(plan, options)
        if options.mode == "script":
            emit_script(plan, options)
            print(f"Wrote {count} robomimic configs to {options.config_dir}")
            print(f"Wrote {options.script_file} ({count} runs): bash {options.script_file}")
            return []
        fixed = [o.input_line for o in overrides if not o.is_sweep_override()]
        return self._launch_runs(plan, options, fixed)

    def _launch_runs(self, plan: SweepPlan, options: LaunchOptions, fixed: List[str]) -> Any:
        """Run mode: one Hydra job per run that has not finished yet."""
        assert self.config is not None and self.launcher is not None
        settings = JobSettings(
            config_dir=str(options.config_dir),
            train_script=str(resolve_train_script(options.train_script, self.cwd)),
            cwd=str(self.cwd),
        )
        files = SweepFiles(self.cwd / str(self.config.hydra.sweep.dir))
        rows, to_launch = plan_run_mode(plan, options, settings, files)
        files.sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, files.sweep_dir / "multirun.yaml")
        save_plan(files, plan, settings)
        progress = SweepProgress(files, rows)
        progress.save()
        skipped = len(rows) - len(to_launch)
        if skipped:
            print(f"Skipping {skipped} of {len(rows)} runs that already finished (launch.rerun=true runs them again)")
        if to_launch:
            print(f"Launching {len(to_launch)} runs; configs in {options.config_dir}, logs in {files.logs}")

        returns: List[Sequence[JobReturn]] = []
        with ProgressMonitor(progress):
            batch_size = self.max_batch_size or max(len(to_launch), 1)
            for start in range(0, len(to_launch), batch_size):
                batch = to_launch[start:start + batch_size]
                job_overrides = [
                    [*fixed, f"launch.job={{index:{index},choice:[{','.join(map(str, choice))}]}}"]
                    for index, _, choice in batch
                ]
                results = self.launcher.launch(job_overrides, initial_job_idx=start)
                progress.poll()  # take in the batch's last events before judging its jobs
                for (_, name, _), result in zip(batch, results):
                    if result.status == JobStatus.FAILED and progress.rows[name]["status"] not in (SUCCEEDED, FAILED):
                        # The job died before it could record the run's outcome.
                        progress.update(name, status=FAILED, reason=f"job error: {result._return_value}")
                returns.append(results)
        print_summary(list(progress.rows.values()), files)
        failed = [r for r in progress.rows.values() if r["status"] == FAILED]
        if failed:
            raise SweepError(
                f"{len(failed)} of {len(rows)} runs failed (first: {failed[0]['name']}: "
                f"{failed[0]['reason']}); manifest: {files.manifest}"
            )
        return returns


def plan_run_mode(
    plan: SweepPlan, options: LaunchOptions, settings: JobSettings, files: SweepFiles
) -> Tuple[List[Dict[str, Any]], List[Tuple[int, str, Choice]]]:
    """Manifest rows for every run, and the runs to launch (those not finished yet).

    Checks up front what would make every run fail: a dataset that does not exist.
    """
    rows: List[Dict[str, Any]] = []
    to_launch: List[Tuple[int, str, Choice]] = []
    cwd = Path(settings.cwd)
    render = ConfigRenderer(plan).text
    for index, (name, choice) in enumerate(plan.runs()):
        text = render(name, choice)
        config = json.loads(text)
        data = get_value(config, "train.data")
        if isinstance(data, str) and not (cwd / os.path.expanduser(data)).exists():
            raise SweepError(
                f"train.data: {data} does not exist (run {name}); robomimic's train.py would fail "
                "on it. Point train.data at your hdf5 dataset."
            )
        marker = read_marker(done_marker(output_root(config, settings), name, text))
        row = {
            "index": index,
            "name": name,
            "status": PENDING,
            "params": dict(plan.assignments(choice)),
            "config": str(options.config_dir / f"{name}.json"),
            "log": str(files.log(name)),
            "exit_code": None,
            "duration_s": None,
            "output_dir": None,
            "reason": "",
        }
        if marker is not None and not options.rerun:
            row.update(status=SKIPPED, output_dir=marker.get("output_dir"), reason="finished before")
        else:
            to_launch.append((index, name, choice))
        rows.append(row)
    return rows, to_launch


def print_summary(rows: List[Dict[str, Any]], files: SweepFiles, limit: int = 50) -> None:
    """The sweep's outcome, a line per run (failed runs only past ``limit`` runs)."""
    shown = rows if len(rows) <= limit else [r for r in rows if r["status"] == FAILED]
    width = max([len(r["name"]) for r in shown] + [len("run")])
    print(f"{'run':<{width}}  {'status':<9}  {'duration':>8}  log")
    for r in shown:
        duration = "" if r["duration_s"] is None else format_duration(r["duration_s"])
        print(f"{r['name']:<{width}}  {r['status']:<9}  {duration:>8}  {r['log'] if r['status'] != SKIPPED else ''}")
    if len(shown) < len(rows):
        print(f"({len(rows) - len(shown)} more runs did not fail; all runs: {files.manifest})")


def make_plan(
    config: DictConfig, overrides: Sequence[Override], groups: Set[str], wandb_proj_name: str
) -> SweepPlan:
    """The sweep the composed app config and the command line describe, fully checked."""
    swept, fixed = split_sweeps(overrides)
    for override in swept:
        if override.key_or_group in groups or override.key_or_group.split(".")[0] in OWN_KEYS:
            raise SweepError(
                f"'{override.input_line}': only robomimic config values can be swept, "
                f"not '{override.key_or_group}'; run one sweep per choice instead"
            )
    robomimic = robomimic_section(config)
    fixed = [o for o in fixed if is_robomimic_override(o, robomimic, groups)]

    base_config_file = config.get("base_config")
    if base_config_file is not None:
        base_config_file = str(base_config_file)
        base = load_base_json(base_config_file)
        if "algo_name" not in base:
            raise SweepError(f"base_config: {base_config_file} has no 'algo_name' (robomimic's train.py needs it)")
        schema = Schema.for_algo(base["algo_name"], source=f"base_config {base_config_file}")
        schema.check_config(base, source=base_config_file)
        for override in fixed:
            check_override(schema, override)
            apply_override(base, override)
        source = base_config_file
    else:
        schema = Schema.for_algo(robomimic.get("algo_name"), source="algo_name")
        for override in fixed:
            check_override(schema, override)
        base = robomimic
        source = "the composed config"
        schema.check_config(base, source=source)

    params = sweep_params(config, swept)
    for param in params:
        schema.check_key(param.key, source=param.origin)
        for i, value in enumerate(param.values):
            schema.check(param.key, value, source=f"{param.origin} value {i + 1}")

    swept_keys = {normalize_key(p.key) for p in params}
    for override in fixed:
        if normalize_key(override.key_or_group) in swept_keys:
            raise SweepError(
                f"'{override.input_line}' fixes '{override.key_or_group}', which the sweep varies; "
                "drop it from the sweep or sweep it on the command line"
            )

    return SweepPlan(
        base=base,
        base_name=base_run_name(base, source),
        params=params,
        base_config_file=base_config_file,
        wandb_proj_name=wandb_proj_name,
    )


def sweep_params(config: DictConfig, swept: Sequence[Override]) -> List[Param]:
    """The sweep file's params, then the command line's, in robomimic's add_param order."""
    params: List[Param] = []
    sweep = config.get("sweep")
    entries = OmegaConf.to_container(sweep.params, resolve=True) if sweep is not None else []
    if not isinstance(entries, list):
        raise SweepError(f"sweep.params must be a list of params, got {entries!r}")
    file_params = [param_from_entry(e, where=f"sweep.params[{i}]") for i, e in enumerate(entries)]
    cli_params = [param_from_override(o) for o in swept]
    for group in (file_params, cli_params):
        seen: Dict[str, Param] = {}
        for param in group:
            key = normalize_key(param.key)
            if key in seen:
                raise SweepError(
                    f"{param.origin}: key '{param.key}' is already swept by {seen[key].origin}; "
                    "list each key once (robomimic would silently keep only the last)"
                )
            seen[key] = param
    params.extend(file_params)
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


def check_override(schema: Schema, override: Override) -> None:
    if not override.is_delete():
        schema.check(override.key_or_group, override.value(), source=f"'{override.input_line}'")


def is_robomimic_override(override: Override, robomimic: Dict[str, Any], groups: Set[str]) -> bool:
    """Whether a fixed override sets a robomimic value (not ours, not a config group choice)."""
    key = override.key_or_group
    return key not in groups and key.split(".")[0] in robomimic
