"""Shared test helpers: our app end to end, and robomimic's own ConfigGenerator as reference."""
import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from hydra.test_utils.test_utils import run_python_script
from omegaconf import OmegaConf

REPO = Path(__file__).resolve().parents[1]
RUN_PY = str(REPO / "launcher" / "run.py")


def run_app(args: Sequence[str]) -> Tuple[str, str]:
    """``python launcher/run.py -m ARGS``; fails the test on a non-zero exit or a warning."""
    return run_python_script([RUN_PY, "-m", *args])


def run_app_failing(args: Sequence[str], cwd: Optional[Path] = None, dash_m: bool = True) -> subprocess.CompletedProcess:
    """``python launcher/run.py -m ARGS`` expected to fail; returns the finished process."""
    proc = subprocess.run(
        [sys.executable, RUN_PY, *(["-m"] if dash_m else []), *args], cwd=cwd, capture_output=True, text=True,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode != 0, f"expected a failure, got exit 0:\n{proc.stdout}\n{proc.stderr}"
    return proc


def write_sweep(config_dir: Path, name: str, params: List[Dict[str, Any]]) -> None:
    """A user's sweep file at ``<config_dir>/sweep/<name>.yaml``."""
    (config_dir / "sweep").mkdir(parents=True, exist_ok=True)
    (config_dir / "sweep" / f"{name}.yaml").write_text(OmegaConf.to_yaml({"params": params}))


def emit_ours(tmp: Path, params: Optional[List[Dict[str, Any]]], extra: Sequence[str] = ()) -> Path:
    """Our script mode on ``params`` (a sweep file) and command-line ``extra`` (``sweep=NAME``
    takes conf/sweep/NAME.yaml), in this process; returns the output folder."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    cli, fixed, launch, base_config, sweep_file = [], [], {}, None, None
    for line in extra:
        override = OverridesParser.create().parse_override(line)
        key = override.key_or_group
        if key == "base_config":
            base_config = str(override.value())
        elif key == "sweep":
            sweep_file = OmegaConf.to_container(OmegaConf.load(REPO / "conf" / "sweep" / f"{override.value()}.yaml"))
        elif key.startswith("launch."):
            launch[key[len("launch."):]] = override.value()
        elif override.is_sweep_override():
            cli.append(line)
        else:
            fixed.append(line)
    out = tmp / "ours"
    request = make_request(tmp, params=params, cli=cli, fixed_lines=fixed, base_config=base_config,
                           sweep_file=sweep_file, config_dir=str(out), script_file=str(out / "out.sh"), **launch)
    write_in_process(request)
    return out


def emit_robomimic(base_file: Path, params: List[Dict[str, Any]], out: Path) -> Path:
    """Run robomimic 0.3.0's ConfigGenerator on the same sweep; return its output folder."""
    from robomimic.utils.hyperparam_utils import ConfigGenerator

    out.mkdir(parents=True, exist_ok=True)
    generator = ConfigGenerator(
        base_config_file=str(base_file),
        script_file=str(out / "out.sh"),
        generated_config_dir=str(out),
    )
    for p in params:
        generator.add_param(p["key"], p.get("name", ""), p["group"], p["values"], p.get("value_names"))
    with contextlib.redirect_stdout(io.StringIO()):
        generator.generate()
    return out


def script_lines(folder: Path) -> List[str]:
    """The script's lines with the folder written as ``<dir>``."""
    text = (folder / "out.sh").read_text()
    return text.replace(str(folder), "<dir>").split("\n")


def config_files(folder: Path) -> Dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.glob("*.json")) if p.name != "base.json"}


def robomimic_default(algo: str) -> Dict[str, Any]:
    from robomimic.config import config_factory

    return json.loads(config_factory(algo).dump())


# -- in process: the plan, the checks and the files without starting Hydra -------------

def make_request(
    cwd: Path,
    params: Optional[List[Dict[str, Any]]] = None,
    cli: Sequence[str] = (),
    fixed: Optional[Dict[str, Any]] = None,
    base_config: Optional[str] = None,
    algo: str = "bc",
    sweep_file: Optional[Dict[str, Any]] = None,
    fixed_lines: Sequence[str] = (),
    robomimic: Optional[str] = None,
    **launch: Any,
):
    """The SweepRequest ``python launcher/run.py`` would build, from plain values.

    ``fixed`` are robomimic overrides (key -> value): merged into the composed config
    as Hydra would, or kept as overrides of a ``base_config``. ``cli`` are swept
    command-line overrides, parsed by Hydra's own parser. ``robomimic``: launch.robomimic
    (default auto: the robomimic this Python imports, 0.3.0 in the tests).
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from launcher.core.keys import set_value
    from launcher.request.hydra_config import SweepRequest
    from launcher.request.launch_options import LaunchOptions
    from launcher.request.overrides import fixed_override, param_from_override
    from launcher.robomimic.selection import select

    parser = OverridesParser.create()
    selected = select(robomimic or "auto", launch.get("python"))
    composed = selected.defaults(algo)
    lines = [f"{k}={json.dumps(v)}" for k, v in (fixed or {}).items()] + list(fixed_lines)
    fixed_overrides = [fixed_override(parser.parse_override(line)) for line in lines]
    if base_config is None:
        for override in fixed_overrides:
            set_value(composed, override.key, override.value)
    options = {
        "mode": "script", "config_dir": str(cwd / "sd" / "configs"), "script_file": str(cwd / "sd" / "run.sh"),
        "train_script": "train.py", "wandb_proj_name": "debug", **launch,
    }
    if robomimic is not None:
        options["robomimic"] = robomimic
    if sweep_file is None and params is not None:
        sweep_file = {"params": params}
    return SweepRequest(
        composed=composed,
        base_config=base_config,
        sweep_file=sweep_file,
        cli_params=[param_from_override(parser.parse_override(line)) for line in cli],
        fixed=fixed_overrides,
        options=LaunchOptions.from_mapping(options, cwd),
        cwd=cwd,
        robomimic=selected,
    )


def write_in_process(request) -> Path:
    """Script mode on ``request``, in this process; returns the config folder."""
    from launcher import modes

    with contextlib.redirect_stdout(io.StringIO()):
        modes.write_script(modes.make_plan(request), request, request.cwd / "sd")
    return request.options.config_dir


# -- run mode in process: the sweeper and its jobs without starting Hydra ----------------

class InProcessLauncher:
    """Hydra's basic launcher reduced to what run mode needs: each worker job in this process,
    told its number and its job folder as the sweeper's overrides say."""

    def __init__(self, sweep_dir: Path) -> None:
        self.sweep_dir = sweep_dir

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> List[Any]:
        from types import SimpleNamespace

        from hydra.core.override_parser.overrides_parser import OverridesParser

        from launcher.run_mode.job import run_worker

        parser = OverridesParser.create()
        results = []
        for lines in job_overrides:
            values = {o.key_or_group: o.value() for o in parser.parse_overrides(list(lines))}
            outcome = run_worker(int(values["launch.worker"]), self.sweep_dir / values["hydra.sweep.subdir"])
            results.append(SimpleNamespace(return_value=outcome))
        return results


def run_mode_in_process(request, sweep_dir: Path) -> str:
    """``launch.mode=run`` on ``request`` with the in-process launcher; what it printed.
    The outcome is in ``<sweep_dir>/manifest.jsonl`` (:func:`manifest_rows`)."""
    from launcher.request.planning import make_plan
    from launcher.run_mode.launch import HydraJobs, launch_sweep

    hydra = HydraJobs(InProcessLauncher(sweep_dir), sweep_dir, None, "", lambda folder: None)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        launch_sweep(make_plan(request), request.options, request.cwd, hydra, request.robomimic)
    return out.getvalue()


def manifest_rows(sweep_dir: Path) -> List[Dict[str, Any]]:
    return [json.loads(line) for line in (sweep_dir / "manifest.jsonl").read_text().splitlines()]
