"""The training command in run.sh: robomimic's own line by default, a real interpreter when asked."""
import sys
from pathlib import Path

import pytest

from launcher.modes import write_script
from launcher.request.planning import make_plan
from launcher.robomimic.train_command import robomimic_train_script
from tests.helpers import REPO, make_request

SEEDS = [{"key": "train.seed", "name": "seed", "group": 0, "values": [1, 2]}]


def script_lines(tmp_path: Path, **launch) -> list:
    request = make_request(tmp_path, params=SEEDS, **launch)
    write_script(make_plan(request), request, tmp_path / "sd")
    return (tmp_path / "sd" / "run.sh").read_text().splitlines()[2:]


@pytest.mark.parametrize(
    "launch, expected",
    [
        pytest.param({}, "python train.py --config {config}", id="robomimic's-own-line"),
        pytest.param({"python": "/opt/env/bin/python"}, "/opt/env/bin/python train.py --config {config}",
                     id="launch.python"),
        pytest.param({"train_script": "robomimic"}, f"{sys.executable} {{robomimic}} --config {{config}}",
                     id="robomimic-with-its-interpreter"),
        pytest.param({"train_script": "robomimic", "python": "/opt/env/bin/python"},
                     "/opt/env/bin/python {robomimic} --config {config}", id="robomimic-with-launch.python"),
        pytest.param({"train_script": "stub"},
                     f"ROBOMIMIC_SWEEP_ROBOMIMIC=installed {sys.executable} {REPO / 'train_stub.py'} "
                     "--config {config}",
                     id="the-shipped-stub-with-its-interpreter-as-the-robomimic-checked-against"),
        pytest.param({"extra_args": ["--debug", "a b"]}, "python train.py --config {config} --debug 'a b'",
                     id="extra-args-list"),
    ],
)
def test_script_lines(tmp_path, launch, expected):
    lines = script_lines(tmp_path, **launch)
    config = tmp_path / "sd" / "configs" / "test_seed_1.json"
    assert lines[0] == expected.format(config=config, robomimic=robomimic_train_script())
