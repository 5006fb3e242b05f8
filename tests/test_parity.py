"""Our script mode against robomimic 0.3.0's own ConfigGenerator, file for file."""
import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

from tests.helpers import (
    RUN_PY,
    config_files,
    emit_ours,
    emit_robomimic,
    robomimic_default,
    script_lines,
    write_sweep,
)

SEED_SWEEP: List[Dict[str, Any]] = [
    {"key": "algo.rnn.enabled", "name": "", "group": 0, "values": [True]},
    {"key": "train.seq_length", "name": "", "group": 0, "values": [10]},
    {"key": "algo.rnn.horizon", "name": "", "group": 0, "values": [10]},
    {"key": "algo.optim_params.policy.learning_rate.initial", "name": "plr", "group": 1, "values": [1e-3, 1e-4]},
    {"key": "algo.gmm.enabled", "name": "gmm", "group": 2, "values": [True, False], "value_names": ["t", "f"]},
    {"key": "algo.rnn.hidden_dim", "name": "rnnd", "group": 3, "values": [400, 1000]},
    {"key": "algo.actor_layer_dims", "name": "mlp", "group": 3, "values": [[1024, 1024], []], "value_names": ["1024", "0"]},
]

# Groups out of numeric order, string group ids, "/" keys, float spellings, None,
# strings, nested lists, a new key in an open sub-config, int value_names and an
# empty name.
AWKWARD_SWEEP: List[Dict[str, Any]] = [
    {"key": "train/batch_size", "name": "bs", "group": 5, "values": [16, 256]},
    {"key": "algo.optim_params.policy.learning_rate.initial", "name": "lr", "group": 1, "values": [1e-5, 0.30000000000000004, 2.0, 1e20]},
    {"key": "algo.optim_params.policy.learning_rate.epoch_schedule", "name": "sched", "group": 1, "values": [[], [100], [[1, 2], 3], [1.5, "x"]]},
    {"key": "train.hdf5_filter_key", "name": "fk", "group": "data", "values": [None, "train"]},
    {"key": "algo.gmm.num_modes", "name": "modes", "group": "data", "values": [5, 10], "value_names": [1, 2]},
    {"key": "algo.rnn.kwargs.bidirectional", "name": "", "group": 5, "values": [True, False]},
    {"key": "experiment.rollout.enabled", "name": "ro", "group": 7, "values": [False]},
]

# Dict values swept with value_names, on an algorithm with its own layout.
OBS_SWEEP: List[Dict[str, Any]] = [
    {
        "key": "observation.modalities.obs",
        "name": "obs",
        "group": 0,
        "values": [
            {"low_dim": ["robot0_eef_pos"], "rgb": [], "depth": [], "scan": []},
            {"low_dim": ["robot0_eef_pos", "object"], "rgb": ["agentview_image"], "depth": [], "scan": []},
        ],
        "value_names": ["ld", "img"],
    },
    {"key": "algo.critic.layer_dims", "name": "critic", "group": 1, "values": [[256, 256], [1024]]},
    {"key": "train.seed", "name": "seed", "group": 2, "values": [1, 2, 3]},
]


def write_base(tmp_path: Path, config: Dict[str, Any]) -> Path:
    path = tmp_path / "base" / "base.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(config, indent=4))
    return path


def bc_rnn_base() -> Dict[str, Any]:
    config = robomimic_default("bc")
    config["experiment"]["name"] = "bc_rnn_hyper"
    return config


@pytest.mark.parametrize(
    "base, params",
    [
        pytest.param(bc_rnn_base(), SEED_SWEEP, id="seed-sweep-full-bc-base"),
        pytest.param(robomimic_default("bc"), AWKWARD_SWEEP, id="awkward-values"),
        pytest.param(robomimic_default("td3_bc"), OBS_SWEEP, id="dict-values-td3_bc"),
    ],
)
def test_base_config_sweep_matches_robomimic_file_for_file(tmp_path, base, params):
    base_file = write_base(tmp_path, base)
    theirs = emit_robomimic(base_file, params, tmp_path / "theirs")
    ours = emit_ours(tmp_path, params, [f"base_config={base_file}"])

    # Same commands as the shell reads them: where a run name needs quoting
    # (spaces, brackets) ours is quoted and robomimic's line is broken.
    ours_lines, theirs_lines = script_lines(ours), script_lines(theirs)
    assert ours_lines[:2] == theirs_lines[:2] == ["#!/bin/bash", ""]
    assert [shlex.split(line) for line in ours_lines[2:] if line] == [
        line.split(" ", 3) for line in theirs_lines[2:] if line
    ]
    ours_files, theirs_files = config_files(ours), config_files(theirs)
    assert list(ours_files) == list(theirs_files)
    for name, text in theirs_files.items():
        assert ours_files[name] == text, name


def test_relative_base_config_path_is_recorded_as_given(tmp_path):
    write_base(tmp_path, bc_rnn_base())
    write_sweep(tmp_path / "user_conf", "s", SEED_SWEEP)
    subprocess.run(
        [sys.executable, RUN_PY, "-m", "--config-dir", "user_conf", "sweep=s",
         "base_config=base/base.json", "launch.config_dir=ours", "hydra.sweep.dir=sd"],
        cwd=tmp_path, check=True, capture_output=True,
    )
    written = sorted((tmp_path / "ours").glob("*.json"))
    assert len(written) == 8
    meta = json.loads(written[0].read_text())["meta"]
    assert meta["hp_base_config_file"] == "base/base.json"
    assert meta["hp_keys"] == ["plr", "gmm", "rnnd", "mlp"]
