"""A lost terminal or a killed sweeper costs a sweep nothing (issue 17). The sweep runs in the
foreground of an interactive bash on a pseudo-terminal, and the terminal goes away (its master side
closed), as when an SSH session drops: bash then hangs up the sweep's whole process group, the
sweeper, joblib's workers and (through their parent's death) the trainings, unless they survive it.
A SIGKILLed local sweeper leaves its workers training, and the same command attaches to them."""
import fcntl
import json
import os
import pty
import shlex
import subprocess
import termios
import threading
import time

import pytest

from tests.integration.cluster import (
    SLEEPY,
    cluster_answers,
    env,
    manifest,
    no_leftovers,
    sweep,
    wait_for,
)

pytestmark = pytest.mark.integration


def in_a_terminal(command: str, environment: dict) -> int:
    """Start ``command`` in the foreground of an interactive bash on a new pty; the master fd.
    What the terminal shows is read (and dropped) by a thread, as a terminal would."""
    master, slave = pty.openpty()

    def controlling_terminal() -> None:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    subprocess.Popen(["bash", "--norc", "--noprofile", "-i"], stdin=slave, stdout=slave, stderr=slave,
                     env=environment, start_new_session=True, preexec_fn=controlling_terminal, close_fds=True)
    os.close(slave)

    def drain() -> None:
        try:
            while os.read(master, 4096):
                pass
        except OSError:
            pass  # closed: the hangup

    threading.Thread(target=drain, daemon=True).start()
    os.write(master, (command + "\n").encode())
    return master


@pytest.mark.parametrize("launcher", ["joblib", pytest.param("submitit_slurm", marks=pytest.mark.skipif(
    not cluster_answers(), reason="no SLURM cluster"))])
def test_a_lost_terminal_keeps_the_runs_and_the_sweeper_watching(tmp_path, launcher):
    sd = tmp_path / "sd"
    extra = ["hydra.launcher.n_jobs=2"] if launcher == "joblib" else ["hydra.launcher.array_parallelism=2"]
    args = sweep(tmp_path, "train.seed=1,2,3", f"launch.train_script={SLEEPY}", "launch.report=false", *extra,
                 launcher=launcher)
    master = in_a_terminal(" ".join(shlex.quote(a) for a in args), env(tmp_path, SLEEPY_SECONDS="6"))
    wait_for("two runs training", lambda: len(list((tmp_path / "marks").glob("*.pid"))) >= 2, timeout=180)
    os.close(master)  # the terminal is gone
    time.sleep(2)
    wait_for("the sweep to end", lambda: (sd / "manifest.jsonl").is_file()
             and set(manifest(sd)["status"]) <= {"succeeded", "failed", "interrupted"}, timeout=240, every=1)
    table = manifest(sd)
    assert set(table["status"]) == {"succeeded"}, list(table["reason"])
    trained = [json.loads(line)["name"] for line in (tmp_path / "marks" / "runs.jsonl").read_text().splitlines()]
    assert sorted(trained) == ["test_seed_1", "test_seed_2", "test_seed_3"], "each run trained to its end, once"
    log = (sd / "sweeper.log").read_text()
    assert "the terminal is gone; the sweep goes on" in log and "3 done, 0 failed" in log, log
    no_leftovers(tmp_path)


def test_a_killed_local_sweeper_leaves_its_workers_training_and_the_same_command_attaches(tmp_path):
    """SIGKILL reaches the sweeper only: joblib's workers go on, run after run, and record them."""
    sd = tmp_path / "sd"
    args = sweep(tmp_path, "train.seed=1,2,3,4,5", f"launch.train_script={SLEEPY}", "launch.report=false",
                 "hydra.launcher.n_jobs=2", launcher="joblib")
    environment = env(tmp_path, SLEEPY_SECONDS="4")
    first = subprocess.Popen(args, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             stdin=subprocess.DEVNULL)
    wait_for("two runs training", lambda: len(list((tmp_path / "marks").glob("*.pid"))) >= 2, timeout=60)
    first.kill()
    first.wait()
    again = subprocess.run(args, env=environment, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert again.returncode == 0, again.stderr
    assert "still queued or running from an earlier launch" in again.stdout, again.stdout
    assert "Launching" not in again.stdout, "nothing trained twice"
    assert set(manifest(sd)["status"]) <= {"succeeded", "skipped"}
    trained = sorted(json.loads(line)["name"] for line in (tmp_path / "marks" / "runs.jsonl").read_text().splitlines())
    assert trained == [f"test_seed_{i}" for i in range(1, 6)], "each run trained to its end, once"
    no_leftovers(tmp_path)
