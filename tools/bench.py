"""Benchmark: our script mode against robomimic 0.3.0's ConfigGenerator, and run-mode overhead.

    python -m tools.bench [--sizes 100 1000 10000] [--repeat 3] [--dirs DIR ...] [--run-mode-runs 16]

Each size N = 10^k runs is a sweep of k groups of 10 values over a full bc base
(robomimic's ``config_factory("bc")``). Both generators run as whole processes
(start-up included), alternately, on the same file system, ``--repeat`` times;
the table shows medians and each side's peak RSS. One table per file system: on
tmpfs the table measures the generators; on a disk, creating 10,000 files costs
both sides the same kernel time, which on ext4 rises for a while after many files
are deleted, so every timed run writes to a fresh folder and nothing is deleted
until the table is done. Installs robomimic 0.3.0's
configs-only part (``pip install --no-deps robomimic==0.3.0 six``) if it is missing.

Run mode: the same ``--run-mode-runs`` configs trained by ``launch.mode=run`` with
train_stub.py, beside a bare ``python train_stub.py --config X`` loop; the
difference per run is the launcher's own overhead. ``--memory-runs 50 400 10000``: the
sweeper's peak memory in run mode at those sizes (a trivial train script, the report
left out: it is measured on its own below), which must stay flat. ``--big-runs 200000``:
how long a huge run-mode sweep takes to start its first training, and the sweeper's
memory after ``--big-launched`` runs, after which the sweep is stopped with SIGTERM (as
a user would) and its exit timed.

``--submit-runs 1000``: a SLURM submission of that many runs, one job array: seconds
of the submission itself (``launcher.run_mode.slurm.submit``) and of a whole
``launch.detach=true`` sweep (start-up, writing every config, submitting). Against the
local cluster when one answers (submitted held, then cancelled), else against a
stand-in ``sbatch`` that only answers. ``--wave``: 16 runs of uneven length (a train
script that sleeps) on 8 joblib workers: the makespan, first training start to last
training end, against the best possible (each run starts the moment a worker frees up,
with no overhead) and against what batches of 8 would take.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

REPO = Path(__file__).resolve().parents[1]
RUN_PY = REPO / "launcher" / "run.py"
STUB = REPO / "train_stub.py"

# Group k of a 10^k-run sweep: a key of bc's config and 10 values for it.
GROUPS: List[Tuple[str, str, List[Any]]] = [
    ("train.seed", "seed", list(range(1, 11))),
    ("algo.optim_params.policy.learning_rate.initial", "lr", [round(10 ** -(2 + i / 3), 8) for i in range(10)]),
    ("algo.actor_layer_dims", "mlp", [[64 * (i + 1)] * 2 for i in range(10)]),
    ("train.batch_size", "bs", [16 * (i + 1) for i in range(10)]),
    ("algo.gmm.num_modes", "modes", list(range(1, 11))),
]

ROBOMIMIC_GENERATOR = """
import contextlib, io, json, sys
from robomimic.utils.hyperparam_utils import ConfigGenerator
base, out, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
generator = ConfigGenerator(base, script_file=out + "/out.sh", generated_config_dir=out)
for p in params:
    generator.add_param(p["key"], p["name"], p["group"], p["values"])
with contextlib.redirect_stdout(io.StringIO()):
    generator.generate()
"""


def ensure_robomimic() -> None:
    try:
        import robomimic.utils.hyperparam_utils  # noqa: F401
    except ImportError:
        print("installing robomimic 0.3.0 (configs only, no torch) ...", flush=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "robomimic==0.3.0", "six"], check=True
        )


def sweep_params(runs: int) -> List[Dict[str, Any]]:
    groups = len(str(runs)) - 1
    if runs != 10 ** groups or not 1 <= groups <= len(GROUPS):
        raise SystemExit(f"sizes are powers of ten from 10 to {10 ** len(GROUPS)}, got {runs}")
    return [{"key": k, "name": n, "group": g, "values": v} for g, (k, n, v) in enumerate(GROUPS[:groups])]


def timed(cmd: Sequence[str], cwd: Path) -> Tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    os.sync()  # start each run with the disk's write-back settled, for both sides alike
    # stderr to a file, not a pipe read only at the end: a big run-mode sweep's progress lines
    # would fill the pipe and block the sweep.
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            raise SystemExit(f"failed: {' '.join(cmd)}\n{err.read().decode(errors='replace')}")
    return elapsed, usage.ru_maxrss / 1024


def write_inputs(work: Path, runs: int) -> Tuple[Path, Path, List[Dict[str, Any]]]:
    from omegaconf import OmegaConf
    from robomimic.config import config_factory

    base = json.loads(config_factory("bc").dump())
    base["experiment"]["name"] = "bench"
    base_file = work / "base.json"
    base_file.write_text(json.dumps(base, indent=4))
    params = sweep_params(runs)
    conf = work / "conf"
    (conf / "sweep").mkdir(parents=True, exist_ok=True)
    (conf / "sweep" / f"bench{runs}.yaml").write_text(OmegaConf.to_yaml({"params": params}))
    return base_file, conf, params


def bench_script_mode(work: Path, runs: int, repeat: int) -> Dict[str, float]:
    base_file, conf, params = write_inputs(work, runs)
    samples: Dict[str, List[Tuple[float, float]]] = {"robomimic": [], "ours": []}
    for attempt in range(repeat):
        theirs_out, ours_out = work / f"robomimic_{runs}_{attempt}", work / f"ours_{runs}_{attempt}"
        theirs_out.mkdir()
        robomimic_cmd = [sys.executable, "-c", ROBOMIMIC_GENERATOR, str(base_file), str(theirs_out), json.dumps(params)]
        ours_cmd = [
            sys.executable, str(RUN_PY), "-m", "--config-dir", str(conf), f"sweep=bench{runs}",
            f"base_config={base_file}", f"launch.config_dir={ours_out}",
            f"launch.script_file={ours_out / 'out.sh'}", f"hydra.sweep.dir={work / f'sweep_dir_{runs}_{attempt}'}",
        ]
        samples["robomimic"].append(timed(robomimic_cmd, work))
        samples["ours"].append(timed(ours_cmd, work))
    same = all(
        (theirs_out / p.name).read_bytes() == p.read_bytes() for p in ours_out.glob("*.json")
    ) and len(list(ours_out.glob("*.json"))) == runs
    if not same:
        raise SystemExit(f"{runs} runs: our configs differ from robomimic's")
    median = {side: statistics.median(t for t, _ in s) for side, s in samples.items()}
    return {
        "runs": runs,
        "robomimic_s": median["robomimic"],
        "ours_s": median["ours"],
        "ratio": median["ours"] / median["robomimic"],
        "robomimic_mib": max(m for _, m in samples["robomimic"]),
        "ours_mib": max(m for _, m in samples["ours"]),
    }


def bench_run_mode(work: Path, runs: int) -> Dict[str, float]:
    """Per-run seconds: a bare stub loop vs launch.mode=run over the same configs."""
    dataset = work / "demo.hdf5"
    dataset.write_bytes(b"bench")
    sweep = [f"train.seed=range(1,{runs + 1})", f"train.data={dataset}", "train.num_epochs=10"]
    configs = work / "run_configs"
    shutil.rmtree(configs, ignore_errors=True)
    subprocess.run([sys.executable, str(RUN_PY), "-m", *sweep, f"train.output_dir={work / 'bare_trained'}",
                    f"launch.config_dir={configs}",
                    f"launch.script_file={work / 'run.sh'}", f"hydra.sweep.dir={work / 'sd_script'}"],
                   check=True, capture_output=True)
    start = time.perf_counter()
    for config in sorted(configs.glob("*.json")):
        subprocess.run([sys.executable, str(STUB), "--config", str(config)], cwd=work, check=True,
                       capture_output=True, stdin=subprocess.DEVNULL)
    bare = (time.perf_counter() - start) / runs
    start = time.perf_counter()
    subprocess.run([sys.executable, str(RUN_PY), "-m", *sweep, "launch.mode=run", f"launch.train_script={STUB}",
                    f"train.output_dir={work / 'trained'}", f"launch.config_dir={work / 'run_mode_configs'}",
                    f"hydra.sweep.dir={work / 'sd_run'}"], cwd=work, check=True, capture_output=True)
    launched = (time.perf_counter() - start) / runs
    return {"runs": runs, "bare_s": bare, "launched_s": launched, "overhead_s": launched - bare}


TRIVIAL_TRAIN = """import os, sys, time
with open(os.environ["BENCH_STARTS"], "a") as f:
    f.write(f"{time.time()}\\n")
print("finished run successfully!")
"""


def _run_mode_command(work: Path, tag: str, runs: int, train_script: Path) -> List[str]:
    """``launch.mode=run`` of ``runs`` seeds training ``train_script`` on a stand-in dataset,
    into ``work/trained_<tag>``, its sweep dir ``work/sd_<tag>``."""
    dataset = work / "demo.hdf5"
    dataset.write_bytes(b"bench")
    return [sys.executable, str(RUN_PY), f"train.seed=range(0,{runs})", "launch.mode=run",
            f"launch.train_script={train_script}", f"train.data={dataset}",
            f"train.output_dir={work / f'trained_{tag}'}", f"hydra.sweep.dir={work / f'sd_{tag}'}"]


def _run_mode_sweep(work: Path, tag: str, runs: int) -> Tuple[List[str], Path]:
    train = work / "trivial_train.py"
    train.write_text(TRIVIAL_TRAIN)
    return _run_mode_command(work, tag, runs, train), work / f"starts_{tag}.txt"


def bench_run_mode_memory(work: Path, sizes: Sequence[int]) -> List[Tuple[int, float, float]]:
    """(runs, seconds, sweeper peak MiB) of whole run-mode sweeps with a trivial train script;
    the report at the end is left out (its own memory is the report bench's)."""
    results = []
    for runs in sizes:
        cmd, starts = _run_mode_sweep(work, f"mem{runs}", runs)
        cmd.append("launch.report=false")
        os.environ["BENCH_STARTS"] = str(starts)
        seconds, peak = timed(cmd, work)
        results.append((runs, seconds, peak))
    return results


def bench_big_sweep(work: Path, runs: int, launched: int) -> Dict[str, float]:
    """A huge run-mode sweep: seconds to its first training, MiB after ``launched`` runs, stop time."""
    cmd, starts = _run_mode_sweep(work, "big", runs)
    env = dict(os.environ, BENCH_STARTS=str(starts))
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first = None
    while True:
        count = len(starts.read_text().splitlines()) if starts.exists() else 0
        if count and first is None:
            first = time.perf_counter() - start
        if count >= launched or proc.poll() is not None:
            break
        time.sleep(0.05)
    rss = _rss_mib(proc.pid)
    stop = time.perf_counter()
    proc.terminate()
    proc.wait()
    return {"runs": runs, "first_s": first or float("nan"), "launched": launched, "rss_mib": rss,
            "hwm_mib": rss, "stop_s": time.perf_counter() - stop, "exit": proc.returncode}


FAKE_SBATCH = """#!/bin/sh
# A stand-in for sbatch: takes the script, queues nothing, answers as sbatch does.
cat > /dev/null
echo "Submitted batch job $$"
"""


def _slurm_answers() -> bool:
    try:
        return subprocess.run(["sinfo", "-h"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def bench_submission(work: Path, runs: int) -> Dict[str, Any]:
    """Seconds to submit ``runs`` runs as one array: the submission alone, and a whole detached sweep."""
    sys.path.insert(0, str(REPO))
    from launcher.run_mode import slurm
    from launcher.run_mode.job import slurm_task
    from launcher.run_mode.state import LaunchDir, RunEntry

    real = _slurm_answers()
    env = dict(os.environ, PYTHONPATH=str(REPO))
    if not real:
        fake = work / "fake_bin"
        fake.mkdir(exist_ok=True)
        (fake / "sbatch").write_text(FAKE_SBATCH)
        (fake / "sbatch").chmod(0o755)
        env["PATH"] = f"{fake}{os.pathsep}{env['PATH']}"
    old_path = os.environ["PATH"]
    os.environ["PATH"] = env["PATH"]
    try:
        launch = LaunchDir.create(work / "submit_sd")
        launch.save_runs(RunEntry(f"run_{i}") for i in range(runs))
        params = {"submitit_folder": str(work / "submit_sd" / ".submitit" / "%j"), "timeout_min": 60,
                  "array_parallelism": 64, "additional_parameters": {"hold": True}}
        start = time.perf_counter()
        arrays = slurm.submit(params, slurm_task, str(work / "submit_sd"), launch.launch_id, runs, "rmsweep-bench",
                              say=lambda line: None)
        submit_s = time.perf_counter() - start
    finally:
        os.environ["PATH"] = old_path
    if real:
        slurm.cancel([a["id"] for a in arrays])
    cmd = _run_mode_command(work, "submit", runs, STUB) + [
        "hydra/launcher=submitit_slurm", "launch.detach=true", "+hydra.launcher.additional_parameters={hold:true}"]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
    sweep_s = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"the detached sweep failed:\n{done.stderr}")
    status = [sys.executable, "-m", "launcher.status", str(work / "sd_submit")]
    queued_s, _ = timed(status, REPO) if real else (float("nan"), 0.0)
    if real:
        sweep_arrays = json.loads(next((work / "sd_submit" / ".sweep").glob("*/slurm.json")).read_text())
        slurm.cancel([a["id"] for a in sweep_arrays["arrays"]])
    ended_s, _ = timed(status, REPO) if real else (float("nan"), 0.0)
    return {"runs": runs, "arrays": len(arrays), "submit_s": submit_s, "sweep_s": sweep_s,
            "status_queued_s": queued_s, "status_ended_s": ended_s,
            "against": "the local SLURM cluster, held then cancelled" if real else "a stand-in sbatch"}


# Seconds each run sleeps, in sweep order: uneven, as runs of a real sweep are; about the
# issue's scale (its 16 runs took 14.6 s in one batch, 20.9 s in batches of 8).
WAVE_DURATIONS = [18, 12, 12, 12, 6, 6, 6, 6, 12, 6, 6, 6, 6, 6, 6, 6]
WAVE_WORKERS = 8
SLEEPING_TRAIN = """import json, os, sys, time
config = json.load(open(sys.argv[sys.argv.index("--config") + 1]))
start = time.time()
time.sleep(json.loads(os.environ["BENCH_DURATIONS"])[config["train"]["seed"]])
with open(os.environ["BENCH_STARTS"], "a") as f:
    f.write(f"{start} {time.time()}\\n")
print("finished run successfully!")
"""


def greedy_makespan(durations: Sequence[float], workers: int) -> float:
    """Each run, in order, starts the moment a worker frees up; no overhead."""
    import heapq

    free = [0.0] * workers
    for d in durations:
        heapq.heappush(free, heapq.heappop(free) + d)
    return max(free)


def bench_wave(work: Path) -> Dict[str, float]:
    """The issue's wave-barrier case: 16 uneven runs on 8 joblib workers."""
    train = work / "sleeping_train.py"
    train.write_text(SLEEPING_TRAIN)
    spans = work / "wave_spans.txt"
    env = dict(os.environ, BENCH_DURATIONS=json.dumps(WAVE_DURATIONS), BENCH_STARTS=str(spans),
               PYTHONPATH=str(REPO))
    cmd = _run_mode_command(work, "wave", len(WAVE_DURATIONS), train) + [
        "hydra/launcher=joblib", f"hydra.launcher.n_jobs={WAVE_WORKERS}", "launch.report=false"]
    subprocess.run(cmd, cwd=work, env=env, check=True, capture_output=True)
    times = sorted(tuple(map(float, line.split())) for line in spans.read_text().splitlines())
    makespan = max(end for _, end in times) - times[0][0]
    stagger = times[WAVE_WORKERS - 1][0] - times[0][0]  # the workers' start-up, spread over 2 cores
    best = greedy_makespan(WAVE_DURATIONS, WAVE_WORKERS)
    waves = sum(max(WAVE_DURATIONS[i:i + WAVE_WORKERS]) for i in range(0, len(WAVE_DURATIONS), WAVE_WORKERS))
    return {"makespan_s": makespan, "best_s": best, "ratio": makespan / best, "waves_s": waves, "stagger_s": stagger}


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return int(fields["VmHWM"].split()[0]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--dirs", type=Path, nargs="+", default=default_dirs(),
        help="file systems to measure on, one table each (default: /dev/shm if it is a tmpfs, and the temp dir)",
    )
    parser.add_argument("--run-mode-runs", type=int, default=16)
    parser.add_argument("--memory-runs", type=int, nargs="*", default=[50, 400, 10000])
    parser.add_argument("--submit-runs", type=int, default=1000, help="runs of the SLURM submission bench (0: skip)")
    parser.add_argument("--wave", action=argparse.BooleanOptionalAction, default=True,
                        help="the 16-runs-on-8-workers makespan bench")
    parser.add_argument("--big-runs", type=int, default=200000)
    parser.add_argument("--big-launched", type=int, default=300)
    parser.add_argument("--report-runs", type=int, default=1000, help="runs of 50 epochs for the report (0: skip)")
    args = parser.parse_args()
    ensure_robomimic()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"median of {args.repeat}")
    for root in args.dirs:
        work = Path(tempfile.mkdtemp(prefix="robomimic-sweep-bench-", dir=root))
        try:
            print(f"\non {filesystem(work)} ({work}):")
            print("| runs | robomimic s | ours s | ratio | robomimic peak MiB | ours peak MiB |")
            print("|---:|---:|---:|---:|---:|---:|")
            small_s, small_mib = bench_small(work)
            print(f"| 16 (ours only) | | {small_s:.2f} | | | {small_mib:.1f} |", flush=True)
            for runs in args.sizes:
                r = bench_script_mode(work, runs, args.repeat)
                print(f"| {r['runs']:,} | {r['robomimic_s']:.2f} | {r['ours_s']:.2f} | {r['ratio']:.2f} "
                      f"| {r['robomimic_mib']:.1f} | {r['ours_mib']:.1f} |", flush=True)
            if args.run_mode_runs and root == args.dirs[-1]:
                r = bench_run_mode(work, args.run_mode_runs)
                print()
                print("| run mode, runs | bare train_stub.py s/run | launch.mode=run s/run | launcher overhead s/run |")
                print("|---:|---:|---:|---:|")
                print(f"| {r['runs']} | {r['bare_s']:.3f} | {r['launched_s']:.3f} | {r['overhead_s']:.3f} |")
            if args.memory_runs and root == args.dirs[-1]:
                print()
                print("| run mode, runs (trivial train script) | seconds | sweeper peak MiB |")
                print("|---:|---:|---:|")
                for runs, seconds, peak in bench_run_mode_memory(work, args.memory_runs):
                    print(f"| {runs:,} | {seconds:.1f} | {peak:.1f} |", flush=True)
            if args.submit_runs and root == args.dirs[-1]:
                r = bench_submission(work, args.submit_runs)
                print()
                print(f"| SLURM submission, runs (against {r['against']}) | arrays | submission s | "
                      "whole detached sweep s | launcher.status s, all queued | launcher.status s, all cancelled |")
                print("|---:|---:|---:|---:|---:|---:|")
                print(f"| {r['runs']:,} | {r['arrays']} | {r['submit_s']:.2f} | {r['sweep_s']:.2f} | "
                      f"{r['status_queued_s']:.2f} | {r['status_ended_s']:.2f} |", flush=True)
            if args.wave and root == args.dirs[-1]:
                r = bench_wave(work)
                print()
                print(f"| 16 uneven runs on {WAVE_WORKERS} joblib workers | makespan s | best possible s | ratio | "
                      f"batches of {WAVE_WORKERS} s | s until the {WAVE_WORKERS}th worker's first training |")
                print("|---|---:|---:|---:|---:|---:|")
                print(f"| {WAVE_DURATIONS} | {r['makespan_s']:.2f} | {r['best_s']:.2f} | {r['ratio']:.3f} | "
                      f"{r['waves_s']:.2f} | {r['stagger_s']:.2f} |", flush=True)
            if args.big_runs and root == args.dirs[-1]:
                r = bench_big_sweep(work, args.big_runs, args.big_launched)
                print()
                print("| run mode, runs | s to first training | peak MiB after N launched | N | "
                      "s from SIGTERM to exit | exit code |")
                print("|---:|---:|---:|---:|---:|---:|")
                print(f"| {r['runs']:,} | {r['first_s']:.1f} | {r['hwm_mib']:.1f} | {r['launched']} | "
                      f"{r['stop_s']:.1f} | {r['exit']} |", flush=True)
            if args.report_runs and root == args.dirs[-1]:
                r = bench_report(work, args.report_runs)
                print()
                print("| report, runs x epochs | read s | python -m launcher.report s | peak MiB |")
                print("|---:|---:|---:|---:|")
                print(f"| {r['runs']:,} x {r['epochs']} | {r['read_s']:.2f} | {r['whole_s']:.2f} | "
                      f"{r['peak_mib']:.1f} |", flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def default_dirs() -> List[Path]:
    dirs = [Path("/dev/shm")] if filesystem(Path("/dev/shm")).startswith("tmpfs") else []
    return dirs + [Path(tempfile.gettempdir())]


def filesystem(path: Path) -> str:
    """The file system type and device that hold ``path`` (from /proc/mounts)."""
    best = ("", "unknown", "")
    try:
        with open("/proc/mounts") as f:
            for line in f:
                device, mount, fstype = line.split()[:3]
                if str(path.resolve()).startswith(mount) and len(mount) > len(best[0]):
                    best = (mount, fstype, device)
    except OSError:
        pass
    return f"{best[1]} {best[2]}".strip()


def bench_small(work: Path) -> Tuple[float, float]:
    """Our script mode on a 16-run sweep: the reference for flat memory."""
    out = work / "small_out"
    return timed([sys.executable, str(RUN_PY), "-m", "train.seed=range(1,17)", f"launch.config_dir={out}",
                  f"launch.script_file={out / 'out.sh'}", f"hydra.sweep.dir={work / 'small_sd'}"], work)


REPORT_EPOCHS = 50
REPORT_DISTINCT = 20  # distinct stub trainings; the rest of the runs are copies of them


def bench_report(work: Path, runs: int = 1000) -> Dict[str, float]:
    """The report on a run-mode sweep of ``runs`` finished runs of 50 epochs (validation
    every epoch, rollouts every 5): seconds to read every run, and seconds for the whole
    ``python -m launcher.report`` (reading, tables, plots, TensorBoard, start-up included)."""
    sweep_dir = _report_sweep(work / "report", runs)
    sys.path.insert(0, str(REPO))
    from launcher.report.write import read_report

    start = time.perf_counter()
    report = read_report(str(sweep_dir))
    read_s = time.perf_counter() - start
    assert len(report.runs) == runs and all(r.metrics.get("epochs") == REPORT_EPOCHS for r in report.runs)
    whole_s, peak = timed([sys.executable, "-m", "launcher.report", str(sweep_dir)], REPO)
    return {"runs": runs, "epochs": REPORT_EPOCHS, "read_s": read_s, "whole_s": whole_s, "peak_mib": peak}


def _report_sweep(folder: Path, runs: int) -> Path:
    """A run-mode sweep dir (manifest.jsonl) whose runs are train_stub.py's output: a few
    distinct trainings, each copied to many run folders under their own names."""
    import contextlib
    import io

    sys.path.insert(0, str(REPO))
    import train_stub
    from launcher.robomimic.versions import bundled

    dataset = folder / "demo.hdf5"
    folder.mkdir(parents=True)
    dataset.write_bytes(b"bench")
    distinct = []
    for i in range(REPORT_DISTINCT):
        config = bundled("0.3.0").defaults("bc")
        config["experiment"].update(name=f"distinct_{i}", validate=True)
        config["experiment"]["rollout"].update(enabled=True, rate=5)
        config["algo"]["optim_params"]["policy"]["learning_rate"]["initial"] = 10 ** -(2 + i % 5 / 2)
        config["train"].update(data=str(dataset), output_dir=str(folder / "distinct"), num_epochs=REPORT_EPOCHS,
                               seed=i, hdf5_filter_key="train", hdf5_validation_filter_key="valid")
        path = folder / f"distinct_{i}.json"
        path.write_text(json.dumps(config))
        with contextlib.redirect_stdout(io.StringIO()):
            train_stub.main(train_stub.parser().parse_args(["--config", str(path)]))
        (run_dir,) = (folder / "distinct" / f"distinct_{i}").iterdir()
        distinct.append(run_dir)
    sweep_dir = folder / "sd"
    sweep_dir.mkdir()
    rows = []
    for index in range(runs):
        lr, dim, seed = 10 ** -(2 + index % 5 / 2), 64 * (1 + index // 5 % 20), index // 100
        name = f"bench_lr_{lr:g}_dim_{dim}_seed_{seed}"
        output_dir = folder / "trained" / name / "20260101000000"
        shutil.copytree(distinct[index % REPORT_DISTINCT], output_dir)
        rows.append(json.dumps({
            "index": index, "name": name, "status": "succeeded",
            "params": {"algo.optim_params.policy.learning_rate.initial": lr, "algo.actor_layer_dims": [dim, dim],
                       "train.seed": seed},
            "config": str(sweep_dir / "configs" / f"{name}.json"), "log": str(sweep_dir / "logs" / f"{name}.log"),
            "exit_code": 0, "duration_s": 1.0, "output_dir": str(output_dir), "gpu": None, "reason": ""}))
    (sweep_dir / "manifest.jsonl").write_text("\n".join(rows) + "\n")
    return sweep_dir


if __name__ == "__main__":
    main()
