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


def run_app_failing(args: Sequence[str], cwd: Optional[Path] = None) -> subprocess.CompletedProcess:
    """``python launcher/run.py -m ARGS`` expected to fail; returns the finished process."""
    proc = subprocess.run(
        [sys.executable, RUN_PY, "-m", *args], cwd=cwd, capture_output=True, text=True
    )
    assert proc.returncode != 0, f"expected a failure, got exit 0:\n{proc.stdout}\n{proc.stderr}"
    return proc


def write_sweep(config_dir: Path, name: str, params: List[Dict[str, Any]]) -> None:
    """A user's sweep file at ``<config_dir>/sweep/<name>.yaml``."""
    (config_dir / "sweep").mkdir(parents=True, exist_ok=True)
    (config_dir / "sweep" / f"{name}.yaml").write_text(OmegaConf.to_yaml({"params": params}))


def emit_ours(tmp: Path, params: List[Dict[str, Any]], extra: Sequence[str] = ()) -> Path:
    """Run our script mode on ``params`` (as a sweep file); return the output folder."""
    write_sweep(tmp / "user_conf", "s", params)
    out = tmp / "ours"
    run_app(
        [
            "--config-dir", str(tmp / "user_conf"),
            "sweep=s",
            f"launch.config_dir={out}",
            f"launch.script_file={out / 'out.sh'}",
            f"hydra.sweep.dir={tmp / 'sweep_dir'}",
            *extra,
        ]
    )
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
