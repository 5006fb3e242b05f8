"""conf/ composes robomimic 0.3.0's own defaults for every algorithm, key order included."""
import json

import pytest
from hydra import compose, initialize_config_dir

from launcher.request.hydra_config import robomimic_section
from tests.helpers import REPO, robomimic_default
from tools.refresh_conf import ALGORITHMS, generate


def composed(algo: str):
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        return robomimic_section(compose("config", overrides=[f"algo={algo}"]))


@pytest.mark.parametrize("algo", ALGORITHMS)
def test_composed_config_is_robomimics_default(algo):
    # Compared as JSON text so that key order counts.
    assert json.dumps(composed(algo), indent=4) == json.dumps(robomimic_default(algo), indent=4)


def test_conf_is_what_refresh_conf_writes_today(tmp_path):
    """conf/ has not drifted from the generator (or been edited by hand)."""
    written = generate(tmp_path)
    assert written
    for path in written:
        shipped = REPO / "conf" / path.relative_to(tmp_path)
        assert shipped.read_text() == path.read_text(), shipped


STANDARD_LAYOUT = [a for a in ALGORITHMS if a not in ("hbc", "iris")]


@pytest.mark.parametrize("algo", STANDARD_LAYOUT)
@pytest.mark.parametrize("obs", ["low_dim", "image"])
def test_obs_presets_are_robomimics_paper_settings(algo, obs):
    import robomimic.scripts.generate_paper_configs as paper
    from robomimic.config import config_factory

    expected = config_factory(algo)
    getattr(paper, f"modify_config_for_default_{obs}_exp")(expected)
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        ours = robomimic_section(compose("config", overrides=[f"algo={algo}", f"obs={obs}"]))
    assert json.dumps(ours, indent=4) == json.dumps(json.loads(expected.dump()), indent=4)


def test_bc_rnn_preset_sets_the_guides_rnn_settings():
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        ours = robomimic_section(compose("config", overrides=["preset=bc_rnn"]))
    expected = robomimic_default("bc")
    expected["algo"]["rnn"].update(enabled=True, horizon=10)
    expected["train"]["seq_length"] = 10
    assert json.dumps(ours, indent=4) == json.dumps(expected, indent=4)


def test_dataset_demo_names_the_shipped_dataset_wherever_it_is_installed():
    from launcher.demo import DATASET

    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        ours = robomimic_section(compose("config", overrides=["dataset=demo"]))
    assert ours["train"]["data"] == str(DATASET) and DATASET.is_file()
