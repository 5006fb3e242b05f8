"""What one run-mode Hydra job does: write its run's JSON, train, record the outcome."""
import time
from pathlib import Path
from typing import Any, Dict, List

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from launcher.emit import atomic_write
from launcher.errors import SweepError
from launcher.robomimic_config import config_json, get_value
from launcher.schema import Schema
from launcher.state import (
    FAILED,
    RUNNING,
    SUCCEEDED,
    JobSettings,
    SweepFiles,
    append_event,
    done_marker,
    load_plan,
    mark_done,
)
from launcher.sweep import run_name
from launcher.training import resolve_output_dir, run_training


class RunFailed(Exception):
    """The training of one run failed; the other runs go on."""


def output_dir_setting(config: Dict[str, Any]) -> str:
    """``train.output_dir`` of a run, or robomimic's default when a partial config leaves it out."""
    value = get_value(config, "train.output_dir")
    if value is None:
        value = Schema.for_algo(config["algo_name"], "config").defaults["train"]["output_dir"]
    return str(value)


def output_root(config: Dict[str, Any], settings: JobSettings) -> Path:
    """The folder holding ``<run name>/<timestamp>/`` for this run config, as its train script sees it."""
    return resolve_output_dir(output_dir_setting(config), Path(settings.train_script), Path(settings.cwd))


def run_subfolders(folder: Path) -> List[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")) if folder.is_dir() else []


def run_job(cfg: DictConfig) -> Dict[str, Any]:
    job = cfg.launch.get("job")
    if job is None:
        raise SweepError(
            "launcher/run.py expands sweeps: run it with -m (python launcher/run.py -m sweep=NAME ...)"
        )
    job = OmegaConf.to_container(job)
    hydra = HydraConfig.get()
    # A relative sweep dir is relative to where the sweep started, even if the job chdir'd.
    files = SweepFiles(Path(hydra.runtime.cwd) / hydra.sweep.dir)
    plan, settings = load_plan(files)
    choice = tuple(job["choice"])
    name = run_name(plan.base_name, plan.params, choice)
    config = plan.run_config(name, choice)
    text = config_json(config)
    config_path = Path(settings.config_dir) / f"{name}.json"
    config_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(config_path, text)

    root = output_root(config, settings)
    runs_of_name = root / name
    before = set(run_subfolders(runs_of_name))
    append_event(files, {"name": name, "status": RUNNING, "started": time.time()})
    result = run_training(Path(settings.train_script), config_path, files.log(name), Path(settings.cwd))
    new = [p for p in run_subfolders(runs_of_name) if p not in before]
    output_dir = str(new[-1]) if new else None

    outcome = {
        "name": name,
        "status": SUCCEEDED if result.succeeded else FAILED,
        "exit_code": result.exit_code,
        "duration_s": round(result.duration_s, 3),
        "output_dir": output_dir,
        "reason": result.reason,
    }
    if result.succeeded:
        # Recorded only now: an interrupted or failed run is never taken as finished.
        mark_done(done_marker(root, name, text), {**outcome, "config": str(config_path)})
    append_event(files, outcome)
    if not result.succeeded:
        raise RunFailed(f"{name}: {result.reason}; see {files.log(name)}")
    return outcome
