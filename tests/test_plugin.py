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
