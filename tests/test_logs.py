"""launcher/robomimic/logs.py reads robomimic's log.txt and TensorBoard files into per-epoch
metrics, survives half-written logs, and names a failed run's error.

The log texts below are copied from real robomimic 0.3.0 runs on the demo dataset
(tqdm's carriage returns included); the rollout block is built from the print
statements of robomimic's scripts/train.py, as no robosuite is installed here.
"""
import json
import struct
from pathlib import Path

import pytest

from launcher.robomimic import logs
from launcher.robomimic.logs import Epoch, parse_log, robomimic_error
from tests.test_train_stub import run_dir_of, stub_in_process

# Real robomimic 0.3.0: bc, validation on, epoch_every_n_steps=10 (epoch 2 shortened).
REAL_BC = (
    "**************************************************\n"
    "\n"
    "\r  0%|          | 0/10 [00:00<?, ?it/s]\r 10%|#         | 1/10 [00:00<00:01,  6.42it/s]"
    "\r100%|##########| 10/10 [00:00<00:00, 15.53it/s]\n"
    "Train Epoch 1\n"
    "{\n"
    '    "Cosine_Loss": 0.9334675312042237,\n'
    '    "L1_Loss": 0.09464876800775528,\n'
    '    "L2_Loss": 0.18950803130865096,\n'
    '    "Loss": 0.18950803130865096,\n'
    '    "Optimizer/policy0_lr": 0.0001,\n'
    '    "Policy_Grad_Norms": 0.025237742889930814,\n'
    '    "Time_Data_Loading": 0.0009522557258605957,\n'
    '    "Time_Epoch": 0.011017648379007976,\n'
    '    "Time_Log_Info": 7.315476735432943e-06,\n'
    '    "Time_Process_Batch": 3.8007895151774086e-05,\n'
    '    "Time_Train_Batch": 0.009713073571523031\n'
    "}\n"
    "\r  0%|          | 0/5 [00:00<?, ?it/s]\r 80%|########  | 4/5 [00:00<00:00, 27.38it/s]"
    "\r100%|##########| 5/5 [00:00<00:00, 22.93it/s]\n"
    "Validation Epoch 1\n"
    "{\n"
    '    "Cosine_Loss": 0.9468445658683777,\n'
    '    "L1_Loss": 0.09020954966545106,\n'
    '    "L2_Loss": 0.1805190473794937,\n'
    '    "Loss": 0.1805190473794937,\n'
    '    "Optimizer/policy0_lr": 0.0001,\n'
    '    "Time_Epoch": 0.0036794145901997886\n'
    "}\n"
    "save checkpoint to /tmp/out/bc_val/20261125170528/models/model_epoch_1_best_validation_0.1805190473794937.pth\n"
    "\n"
    "Epoch 1 Memory Usage: 817 MB\n"
    "\n"
    "\r  0%|          | 0/10 [00:00<?, ?it/s]\r100%|##########| 10/10 [00:00<00:00, 11.10it/s]\n"
    "Train Epoch 2\n"
    "{\n"
    '    "Loss": 0.18656500279903412,\n'
    '    "Optimizer/policy0_lr": 0.0001\n'
    "}\n"
    "\n"
    "Epoch 2 Memory Usage: 821 MB\n"
    "\n"
    "finished run successfully!\n"
)

EPOCH_1 = Epoch(
    epoch=1,
    train={"Cosine_Loss": 0.9334675312042237, "L1_Loss": 0.09464876800775528, "L2_Loss": 0.18950803130865096,
           "Loss": 0.18950803130865096, "Optimizer/policy0_lr": 0.0001, "Policy_Grad_Norms": 0.025237742889930814,
           "Time_Data_Loading": 0.0009522557258605957, "Time_Epoch": 0.011017648379007976,
           "Time_Log_Info": 7.315476735432943e-06, "Time_Process_Batch": 3.8007895151774086e-05,
           "Time_Train_Batch": 0.009713073571523031},
    valid={"Cosine_Loss": 0.9468445658683777, "L1_Loss": 0.09020954966545106, "L2_Loss": 0.1805190473794937,
           "Loss": 0.1805190473794937, "Optimizer/policy0_lr": 0.0001, "Time_Epoch": 0.0036794145901997886},
    memory_mb=817.0,
)
EPOCH_2 = Epoch(epoch=2, train={"Loss": 0.18656500279903412, "Optimizer/policy0_lr": 0.0001}, memory_mb=821.0)

# Real robomimic 0.3.0: bc with algo.gmm.enabled=true, num_modes=0 (log.txt's last lines).
REAL_CRASH = (
    "\r  0%|          | 0/10 [00:00<?, ?it/s]\r  0%|          | 0/10 [00:00<?, ?it/s]\n"
    "run failed with error:\n"
    "cannot reshape tensor of 0 elements into shape [-1, 0, 7] because the unspecified dimension size -1 "
    "can be any value and is ambiguous\n"
    "\n"
    "Traceback (most recent call last):\n"
    '  File "/site-packages/robomimic/scripts/train.py", line 377, in main\n'
    "    train(config, device=device)\n"
    "RuntimeError: cannot reshape tensor of 0 elements into shape [-1, 0, 7] because the unspecified "
    "dimension size -1 can be any value and is ambiguous\n"
    "\n"
)

# robomimic 0.3.0 scripts/train.py, the rollout summary of one env:
#   print("\nEpoch {} Rollouts took {}s (avg) with results:".format(epoch, rollout_logs["time"]))
#   print('Env: {}'.format(env_name))
#   print(json.dumps(rollout_logs, sort_keys=True, indent=4))
ROLLOUT = {"Horizon": 142.5, "Return": 0.5, "Success_Rate": 0.5, "Time_Episode": 0.02, "time": 0.6}
ROLLOUT_TEXT = (
    "rollout: env=Lift, horizon=400, use_goals=False, num_episodes=2\n"
    "\r  0%|          | 0/2 [00:00<?, ?it/s]\r100%|##########| 2/2 [00:01<00:00,  1.66it/s]\n"
    "\nEpoch 2 Rollouts took 0.6s (avg) with results:\n"
    "Env: Lift\n" + json.dumps(ROLLOUT, sort_keys=True, indent=4) + "\n"
    "\nEpoch 2 Rollouts took 0.6s (avg) with results:\n"
    "Env: PickPlaceCan\n" + json.dumps({**ROLLOUT, "Success_Rate": 0.0}, sort_keys=True, indent=4) + "\n"
)


def test_real_bc_log_with_validation_and_tqdm_noise():
    run = parse_log(REAL_BC)
    assert run.epochs == (EPOCH_1, EPOCH_2)
    assert (run.finished, run.error, run.failed) == (True, None, False)


def test_universal_newlines_read_the_same(tmp_path):
    """read_log opens in text mode, where tqdm's lone carriage returns become line ends."""
    path = tmp_path / "log.txt"
    path.write_bytes(REAL_BC.encode())
    assert logs.read_log(str(path)) == parse_log(REAL_BC)


def test_rollout_blocks_per_env():
    run = parse_log(REAL_BC.replace("\nEpoch 2 Memory Usage", ROLLOUT_TEXT + "\nEpoch 2 Memory Usage"))
    assert run.epochs[1].rollout == {"Lift": ROLLOUT, "PickPlaceCan": {**ROLLOUT, "Success_Rate": 0.0}}
    assert logs.metric_series(run, "rollout", "Success_Rate", "Lift") == [(2, 0.5)]


def test_a_log_cut_inside_a_json_block_keeps_what_was_complete():
    cut = REAL_BC[:REAL_BC.index('    "L2_Loss": 0.1805190473794937')]
    run = parse_log(cut)
    assert run.epochs == (Epoch(epoch=1, train=EPOCH_1.train),)
    assert (run.finished, run.error) == (False, None)


def test_a_line_redrawn_with_carriage_returns_reads_as_its_last_part():
    redrawn = REAL_BC.replace("\nTrain Epoch 2\n", "\r 10%|#         | 1/10 [00:00<00:02,  4.50it/s]\rTrain Epoch 2\n")
    assert parse_log(redrawn).epochs == (EPOCH_1, EPOCH_2)


def test_a_killed_attempt_followed_by_a_rerun_in_the_same_file():
    """A launcher's per-run log can hold a killed attempt, cut mid-block, then the rerun."""
    killed = REAL_BC[:REAL_BC.index('    "L2_Loss": 0.18950803130865096')]
    run = parse_log(killed + REAL_BC)
    assert run.epochs == (EPOCH_1, EPOCH_2) and run.finished


# Real robomimic master: bc trained 2 epochs, then --resume with num_epochs 3: log.txt is
# appended (the second attempt's start, the model summary and macro warnings cut out here).
REAL_MASTER_RESUMED = (
    "saved backup of latest model at /runs/master/bc_cpu/20261203133036/last_bak.pth\n\n\n"
    "Epoch 2 Memory Usage: 439 MB\n\n"
    "finished run successfully!\n\n"
    "============= Initialized Observation Utils with Obs Spec =============\n\n"
    "**************************************************\n"
    "resuming from ckpt at /runs/master/bc_cpu/20261203133036/last.pth\n"
    "**************************************************\n\n"
    "**************************************************\n"
    "resuming training from epoch 3\n"
    "**************************************************\n"
    "  0%|          | 0/5 [00:00<?, ?it/s]100%|##########| 5/5 [00:00<00:00, 36.16it/s]"
    "100%|##########| 5/5 [00:00<00:00, 36.08it/s]\n"
    "Train Epoch 3\n"
    "{\n"
    '    "Cosine_Loss": 0.9389090657234191,\n'
    '    "L1_Loss": 0.0957176923751831,\n'
    '    "L2_Loss": 0.1927410989999771,\n'
    '    "Loss": 0.1927410989999771,\n'
    '    "Optimizer/policy0_lr": 0.0001,\n'
    '    "Policy_Grad_Norms": 0.13989879168511835,\n'
    '    "Time_Data_Loading": 8.437236150105794e-05,\n'
    '    "Time_Epoch": 0.0023271322250366213,\n'
    '    "Time_Log_Info": 2.2570292154947917e-06,\n'
    '    "Time_Process_Batch": 1.2393792470296224e-05,\n'
    '    "Time_Train_Batch": 0.002204414208730062\n'
    "}\n\n"
    "saving latest model at /runs/master/bc_cpu/20261203133036/last.pth...\n\n"
    "save checkpoint to /runs/master/bc_cpu/20261203133036/last.pth\n\n"
    "saved backup of latest model at /runs/master/bc_cpu/20261203133036/last_bak.pth\n\n\n"
    "Epoch 3 Memory Usage: 452 MB\n\n"
    "finished run successfully!\n"
)


def test_a_resumed_run_appends_its_epochs_and_its_verdict():
    run = parse_log(REAL_MASTER_RESUMED)
    assert [e.epoch for e in run.epochs] == [2, 3] and run.finished and not run.failed
    assert run.epochs[1].train["Loss"] == 0.1927410989999771 and run.epochs[1].memory_mb == 452


def test_the_last_attempts_verdict_is_the_runs():
    failed_first = REAL_CRASH + REAL_MASTER_RESUMED
    assert parse_log(failed_first).finished and robomimic_error(failed_first) is None
    failed_last = REAL_MASTER_RESUMED + REAL_CRASH
    run = parse_log(failed_last)
    assert run.failed and not run.finished and robomimic_error(failed_last).startswith("cannot reshape tensor")


@pytest.mark.parametrize("step", [1, 7, 13], ids=lambda s: f"every {s} chars")
def test_no_prefix_of_a_log_raises(step):
    previous = 0
    for end in range(0, len(REAL_BC) + 1, step):
        run = parse_log(REAL_BC[:end])
        read = sum(bool(e.train) + bool(e.valid) for e in run.epochs)
        assert read >= previous  # reading more text never loses a block
        previous = read
    assert previous == 3


def test_garbage_is_no_error():
    junk = "Train Epoch x\n{\n\x00\x01\nValidation Epoch 3\n{\n    \"Loss\": [1,\n}\nEpoch 3 Memory Usage: lots MB\n"
    assert parse_log(junk).epochs == ()


def test_a_real_crash_gives_robomimics_error_line():
    run = parse_log(REAL_BC.replace("finished run successfully!\n", "") + REAL_CRASH)
    assert run.failed and not run.finished
    assert run.error.startswith("cannot reshape tensor of 0 elements") and run.error.endswith("is ambiguous")
    assert robomimic_error(REAL_CRASH) == (
        "cannot reshape tensor of 0 elements into shape [-1, 0, 7] because the unspecified dimension "
        "size -1 can be any value and is ambiguous")


ERRORS = {
    "no failure": ("training...\nfinished run successfully!\n", None),
    "failure line after an unfinished tqdm bar": (
        " 30%|###       | 3/10 [00:00<00:01,  6.42it/s]run failed with error:\n"
        "Dataset at provided path /x.hdf5 not found!\n\nTraceback (most recent call last):\n", 
        "Dataset at provided path /x.hdf5 not found!"),
    "bare assert: the exception line": (
        "run failed with error:\n\n\nTraceback (most recent call last):\n  File \"x.py\", line 1\n"
        "AssertionError\n", "AssertionError"),
    "quoted KeyError message": (
        "run failed with error:\n\"Unable to synchronously open object (object 'no_such_key' doesn't exist)\"\n",
        "\"Unable to synchronously open object (object 'no_such_key' doesn't exist)\""),
    "nothing after the line": ("run failed with error:\n", None),
}


@pytest.mark.parametrize("text,expected", ERRORS.values(), ids=ERRORS.keys())
def test_robomimic_error(text, expected):
    assert robomimic_error(text) == expected


@pytest.mark.parametrize("text,expected", ERRORS.values(), ids=ERRORS.keys())
def test_a_log_file_is_judged_as_its_text(tmp_path, text, expected):
    """The bounded verdict of a file says what robomimic_error says of its whole text."""
    (tmp_path / "log.txt").write_text(text)
    verdict = logs.log_verdict(str(tmp_path / "log.txt"))
    assert (verdict.failed, verdict.error, verdict.finished) == (
        "run failed with error:" in text, expected, "finished run successfully!" in text)


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def rounded(metrics):
    return {k: f32(v) for k, v in metrics.items()}


@pytest.fixture(scope="module")
def stub_run(tmp_path_factory) -> Path:
    """One train_stub.py run: bc, 3 epochs, validation and rollouts (2 envs) every epoch."""
    tmp = tmp_path_factory.mktemp("stub")
    config = {"algo_name": "bc", "experiment": {
        "name": "logs", "validate": True, "additional_envs": ["PickPlaceCan"],
        "rollout": {"enabled": True, "rate": 1, "n": 10}},
        "train": {"num_epochs": 3, "hdf5_filter_key": "train", "hdf5_validation_filter_key": "valid"}}
    assert stub_in_process(tmp, config) == 0
    return run_dir_of(tmp, "logs")


def test_stub_log_parses_into_every_section(stub_run):
    run = logs.read_run(str(stub_run))
    assert run.finished and [e.epoch for e in run.epochs] == [1, 2, 3]
    for e in run.epochs:
        assert {"Loss", "L2_Loss", "Policy_Grad_Norms", "Time_Epoch"} <= set(e.train)
        assert "Loss" in e.valid and "Policy_Grad_Norms" not in e.valid
        assert set(e.rollout) == {"Lift", "PickPlaceCan"}
        assert set(e.rollout["Lift"]) == set(ROLLOUT)
        assert e.memory_mb > 0


def test_stub_tensorboard_agrees_with_its_log(stub_run):
    from_log = logs.read_log(str(stub_run / "logs" / "log.txt")).epochs
    from_tb = logs.read_tb(str(stub_run / "logs" / "tb"))
    assert [e.epoch for e in from_tb] == [1, 2, 3]
    for a, b in zip(from_log, from_tb):
        assert b.train == rounded(a.train) and b.valid == rounded(a.valid)
        assert {env: rounded(m) for env, m in a.rollout.items()} == b.rollout
        assert b.memory_mb == a.memory_mb


def test_a_run_without_log_txt_is_read_from_tensorboard(tmp_path):
    config = {"algo_name": "bc", "experiment": {"name": "quiet", "logging": {"terminal_output_to_txt": False}},
              "train": {"num_epochs": 2}}
    assert stub_in_process(tmp_path, config) == 0
    run_dir = run_dir_of(tmp_path, "quiet")
    assert not (run_dir / "logs" / "log.txt").exists()
    run = logs.read_run(str(run_dir))
    assert [e.epoch for e in run.epochs] == [1, 2] and "Loss" in run.epochs[0].train
    assert (run.finished, run.error) == (False, None)  # TensorBoard cannot tell


# --- huge logs: judged and read with flat memory ---------------------------------------------

MB = 1 << 20


def peak_memory(read, *args):
    """What ``read(*args)`` returns, and the most memory Python held while it ran."""
    import tracemalloc

    tracemalloc.start()
    try:
        value = read(*args)
        return value, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def huge_log(tmp_path: Path, middle: bytes, end: str) -> Path:
    """REAL_BC's first epoch, ``middle`` (megabytes of output), then ``end``."""
    path = tmp_path / "log.txt"
    with open(path, "wb") as f:
        f.write(REAL_BC[:REAL_BC.index("Train Epoch 2")].encode())
        f.write(middle)
        f.write(end.encode())
    return path


ONE_LINE = b"x" * (12 * MB) + b"\n"  # a training that printed one endless line
MANY_LINES = b"step 123 of 456: still going, nothing to see here\n" * (6 * MB // 52)
ENDS = {
    "succeeded": ("\r100%|##########| 10/10 [00:00<00:00, 11.10it/s]\nTrain Epoch 2\n{\n    \"Loss\": 0.5\n}\n"
                  "finished run successfully!\n", None),
    "robomimic's exit-0 failure": ("run failed with error:\nCUDA out of memory\n\nTraceback (most recent call last):\n"
                                   + "  File \"train.py\", line 1\n" * 20000 + "RuntimeError: CUDA out of memory\n",
                                   "CUDA out of memory"),
}


@pytest.mark.parametrize("middle", [ONE_LINE, MANY_LINES], ids=["one-12MB-line", "6MB-of-lines"])
@pytest.mark.parametrize("end", ENDS, ids=list(ENDS))
def test_a_huge_log_is_judged_and_read_in_bounded_memory(tmp_path, middle, end):
    text, error = ENDS[end]
    path = huge_log(tmp_path, middle, text)
    verdict, peak = peak_memory(logs.log_verdict, str(path))
    assert (verdict.finished, verdict.error) == (error is None, error)
    assert peak < 2 * MB, f"judging held {peak / MB:.1f} MB of a {path.stat().st_size / MB:.0f} MB log"
    run, peak = peak_memory(logs.read_log, str(path))
    assert [e.epoch for e in run.epochs] == ([1, 2] if error is None else [1]) and run.epochs[0] == EPOCH_1
    assert run.finished == (error is None) and (run.error or "").startswith(error or "")
    assert peak < 2 * MB, f"reading held {peak / MB:.1f} MB of a {path.stat().st_size / MB:.0f} MB log"


def test_a_run_that_ends_on_an_endless_line_names_its_end(tmp_path):
    path = huge_log(tmp_path, b"", "y" * (3 * MB) + "Killed: out of memory\n")
    verdict = logs.log_verdict(str(path))
    assert verdict.last_line.endswith("Killed: out of memory") and len(verdict.last_line) <= 303


@pytest.mark.parametrize("at", range(0, 40, 3))
def test_a_line_across_two_chunks_is_found(tmp_path, monkeypatch, at):
    """The log is searched a chunk at a time: a failure line split between two is still found."""
    monkeypatch.setattr(logs, "CHUNK", 16)
    path = tmp_path / "log.txt"
    path.write_text("." * at + "run failed with error:\nbad batch\n")
    assert logs.log_verdict(str(path)).error == "bad batch"


def test_a_line_longer_than_the_limit_keeps_its_end_where_the_header_is():
    block = "Train Epoch {}\n{{\n    \"Loss\": {}\n}}\n"
    text = block.format(1, 1.0) + "#" * (3 * logs.LINE_CHARS + 5) + "]" + block.format(2, 2.0)
    assert [e.train for e in parse_log(text).epochs] == [{"Loss": 1.0}, {"Loss": 2.0}]
