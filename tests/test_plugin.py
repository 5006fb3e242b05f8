"""Hydra finds the sweeper, and conf/config.yaml selects it."""
from hydra.core.plugins import Plugins
from hydra.plugins.sweeper import Sweeper

from hydra_plugins.robomimic_sweeper.robomimic_sweeper import RobomimicSweeper


def test_discovery():
    names = [p.__name__ for p in Plugins.instance().discover(Sweeper)]
    assert RobomimicSweeper.__name__ in names


def test_primary_config_selects_the_sweeper():
    from hydra import compose, initialize_config_dir

    from tests.helpers import REPO

    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose("config", return_hydra_config=True)
    assert cfg.hydra.sweeper._target_ == "hydra_plugins.robomimic_sweeper.robomimic_sweeper.RobomimicSweeper"


def test_plugin_discovery_imports_none_of_the_launcher():
    """Other Hydra apps in the same environment pay nothing for this plugin."""
    import subprocess
    import sys

    code = ("import sys; from hydra.core.plugins import Plugins; from hydra.plugins.launcher import Launcher; "
            "Plugins.instance().discover(Launcher); "
            "print(sorted(m for m in sys.modules if m == 'launcher' or m.startswith(('launcher.', 'matplotlib', "
            "'submitit', 'joblib'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_stub_and_the_core_do_not_import_hydra():
    """train_stub.py starts in well under 0.1 s beside Python; the core is plain Python."""
    import subprocess
    import sys

    from tests.helpers import REPO

    code = ("import sys, runpy; sys.argv = ['train_stub.py', '--help']\n"
            "import launcher.core.plan, launcher.core.render, launcher.robomimic.schema\n"
            "try:\n    runpy.run_path('train_stub.py', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'hydra', 'omegaconf', 'numpy', 'torch'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO).stdout
    assert out.strip().splitlines()[-1] == "[]"
