"""Our sweeper inside Hydra's own test harness (hydra_sweep_runner), as BatchedSweeperTestSuite
checks sweepers: returns, overrides and the sweep's output folder. Run mode hands every run
over at once (no batch waits for its slowest run), so the sweep returns one batch."""
from pathlib import Path

from launcher.run import task
from tests.helpers import REPO


def test_run_mode_returns_every_run_in_one_batch(hydra_sweep_runner, tmpdir):
    dataset = Path(tmpdir) / "demo.hdf5"
    dataset.write_bytes(b"x")
    sweep = hydra_sweep_runner(
        calling_file=str(REPO / "launcher" / "run.py"),
        calling_module=None,
        task_function=task,
        config_path="../conf",
        config_name="config",
        overrides=[
            "train.seed=tag(name:seed,choice(1,2))",
            "algo.gmm.enabled=tag(name:gmm,value_names:t|f,choice(true,false))",
            "launch.mode=run",
            f"launch.train_script={REPO / 'train_stub.py'}",
            f"train.data={dataset}",
            f"train.output_dir={tmpdir}/trained",
            "hydra.sweeper.max_batch_size=2",
            "train.num_epochs=5",
            "launch.report=false",
            "hydra.job.chdir=false",  # as launcher/run.py (version_base 1.3); the harness sets no version_base
        ],
        temp_dir=tmpdir,
    )
    with sweep:
        assert sweep.returns is not None
        assert [len(batch) for batch in sweep.returns] == [4]
        flat = [r for batch in sweep.returns for r in batch]
        assert [r.name for r in flat] == [f"test_seed_{s}_gmm_{g}" for s in (1, 2) for g in ("t", "f")]
        assert all(r.status == "succeeded" for r in flat)
        assert (Path(sweep.temp_dir) / "multirun.yaml").exists()
