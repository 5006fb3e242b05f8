"""robomimic's own hyperparameter-helper guide, reproduced from the shipped sweep=bc_rnn_hyper."""
import json
import re
from pathlib import Path
from typing import Any, Dict, List

from tests.helpers import REPO, config_files, emit_robomimic, run_app

SEED_DOC = Path(__file__).parent / "data" / "robomimic_hyperparam_helper.md"
GUIDE_DIR = "/tmp/gen_configs"


def after_command(command: str) -> str:
    """The guide's text after the shell command ``command``, from the next line on."""
    text = SEED_DOC.read_text()
    return text[text.index(command) + len(command) + 1:]


def guide_base() -> Dict[str, Any]:
    """The JSON block shown after ``cat base.json`` (the command's own block closes first)."""
    match = re.search(r"```json\n(.*?)```", after_command(f"$ cat {GUIDE_DIR}/base.json"), re.S)
    assert match is not None
    return json.loads(match.group(1))


def guide_script_lines(folder: Path) -> List[str]:
    """The output of ``cat out.sh``, in the same block as the command."""
    output = after_command(f"$ cat {GUIDE_DIR}/out.sh")
    output = output[: output.index("```")].strip("\n")
    return output.replace(GUIDE_DIR, str(folder)).split("\n")


def run_guide(tmp_path: Path) -> Path:
    folder = tmp_path / "gen_configs"
    folder.mkdir()
    (folder / "base.json").write_text(json.dumps(guide_base(), indent=4))
    run_app(
        [
            "sweep=bc_rnn_hyper",
            f"base_config={folder / 'base.json'}",
            f"launch.config_dir={folder}",
            f"launch.script_file={folder / 'out.sh'}",
            f"hydra.sweep.dir={tmp_path / 'sweep'}",
        ]
    )
    return folder


def test_guide_script_reproduces_character_for_character(tmp_path):
    folder = run_guide(tmp_path)
    expected = guide_script_lines(folder)
    assert len([line for line in expected if line.startswith("python")]) == 8
    assert (folder / "out.sh").read_text() == "\n".join(expected) + "\n"


def test_guide_configs_match_robomimic_on_the_same_base(tmp_path):
    """robomimic 0.3.0 crashes on the guide's base (no experiment.logging to put
    wandb_proj_name in). Give its copy that section, then take it out again: the
    rest must be what robomimic writes."""
    ours = config_files(run_guide(tmp_path))

    from tests.test_parity import SEED_SWEEP

    base = guide_base()
    base["experiment"]["logging"] = {}
    theirs_dir = tmp_path / "theirs"
    theirs_dir.mkdir()
    (theirs_dir / "base.json").write_text(json.dumps(base, indent=4))
    theirs = {}
    for name, text in config_files(emit_robomimic(theirs_dir / "base.json", SEED_SWEEP, theirs_dir)).items():
        config = json.loads(text)
        del config["experiment"]["logging"]
        config["meta"]["hp_base_config_file"] = str(tmp_path / "gen_configs" / "base.json")
        theirs[name] = json.dumps(config, indent=4)
    assert ours == theirs


def test_shipped_sweep_file_is_the_guides_generator():
    """conf/sweep/bc_rnn_hyper.yaml holds the guide's add_param calls, in order."""
    from omegaconf import OmegaConf

    from tests.test_parity import SEED_SWEEP

    shipped = OmegaConf.to_container(OmegaConf.load(REPO / "conf" / "sweep" / "bc_rnn_hyper.yaml"))
    assert shipped == {"params": SEED_SWEEP}
