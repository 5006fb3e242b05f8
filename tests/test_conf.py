"""conf/ composes the selected robomimic's own defaults for every algorithm, key order included.

``algo=<name>`` is served by robomimic:// (hydra_plugins/robomimic_sweeper/robomimic_source.py)
from the selected robomimic's schema. The installed robomimic (0.3.0 in the tests) is
held to its live ``config_factory``; the bundled ones to their recorded schemas, which
tests/test_versions.py holds to robomimic.
"""
import json

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException

from launcher.request.hydra_config import robomimic_section
from launcher.robomimic import selection, versions
from tests.helpers import REPO, robomimic_default


@pytest.fixture
def composing():
    """Compose with a given robomimic, as launcher/run.py does from launch.robomimic=NAME."""
    def use(name: str) -> versions.Robomimic:
        robomimic = selection.select(name)
        selection.compose_with(name, None, robomimic)
        return robomimic

    yield use
    selection.compose_with(selection.AUTO, None)


def composed(*overrides: str):
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        return robomimic_section(compose("config", overrides=list(overrides)))


def as_text(config) -> str:
    return json.dumps(config, indent=4)  # compared as text, so that key order counts


@pytest.mark.parametrize("algo", selection.select("auto").algorithms())
def test_composed_config_is_the_installed_robomimics_default(algo):
    assert as_text(composed(f"algo={algo}")) == as_text(robomimic_default(algo))


ALGORITHMS = [pytest.param(name, algo, id=f"{name}-{algo}")
              for name in versions.BUNDLED for algo in versions.bundled(name).algorithms()]


@pytest.mark.parametrize("name, algo", ALGORITHMS)
def test_every_algorithm_of_every_robomimic_reaches_hydra_unchanged(name, algo):
    """What robomimic:// hands Hydra for algo=<name> (an OmegaConf node of the recorded
    defaults) reads back as those defaults, key order and value types included."""
    from omegaconf import OmegaConf

    from hydra_plugins.robomimic_sweeper.robomimic_source import RobomimicConfigSource

    selection.compose_with(name, None, versions.bundled(name))
    try:
        loaded = RobomimicConfigSource("robomimic-hydra-sweeper", "robomimic://").load_config(f"algo/{algo}")
    finally:
        selection.compose_with(selection.AUTO, None)
    assert loaded.header["package"] == "_global_"
    assert as_text(OmegaConf.to_container(loaded.config)) == as_text(versions.bundled(name).defaults(algo))


@pytest.mark.parametrize("name", versions.BUNDLED)
def test_composed_config_is_the_selected_robomimics_default(composing, name):
    robomimic = composing(name)
    assert as_text(composed("algo=bc")) == as_text(robomimic.defaults("bc"))


@pytest.mark.parametrize("name, algo", [("0.5.0", "diffusion_policy"), ("master", "diffusion_policy"),
                                        ("robocasa", "diffusion_policy"), ("robocasa", "act")])
def test_new_algorithms_compose_where_robomimic_has_them(composing, name, algo):
    composing(name)
    config = composed(f"algo={algo}")
    assert config["algo_name"] == algo and config["algo"] == versions.bundled(name).defaults(algo)["algo"]


@pytest.mark.parametrize("algo", ["diffusion_policy", "act"])
def test_an_algorithm_the_robomimic_lacks_is_refused_with_its_choices(composing, algo):
    composing("0.3.0")
    with pytest.raises(ConfigCompositionException) as err:
        composed(f"algo={algo}")
    message = str(err.value)
    assert f"Could not find 'algo/{algo}'" in message
    assert all(f"\t{choice}" in message for choice in ("bc", "bcq", "cql", "gl", "hbc", "iql", "iris", "td3_bc"))


STANDARD_LAYOUT = [a for a in versions.bundled("0.3.0").algorithms() if a not in ("hbc", "iris")]


@pytest.mark.parametrize("algo", STANDARD_LAYOUT)
@pytest.mark.parametrize("obs", ["low_dim", "image"])
def test_obs_presets_are_robomimics_paper_settings(algo, obs):
    import robomimic.scripts.generate_paper_configs as paper
    from robomimic.config import config_factory

    expected = config_factory(algo)
    getattr(paper, f"modify_config_for_default_{obs}_exp")(expected)
    ours = composed(f"algo={algo}", f"obs={obs}")
    assert as_text(ours) == as_text(json.loads(expected.dump()))


@pytest.mark.parametrize("name", versions.BUNDLED)
def test_presets_compose_under_every_robomimic_and_pass_its_checks(composing, name):
    """The presets set keys every bundled robomimic's bc has; robomimic's key lock holds
    (obs=low_dim sets a subset of obs=image's keys)."""
    robomimic = composing(name)
    config = composed("algo=bc", "obs=image", "preset=bc_rnn")
    robomimic.schema("bc", "test").check_config(config, "obs=image preset=bc_rnn")
    assert list(config) == list(robomimic.defaults("bc"))
    assert config["algo"]["rnn"]["enabled"] and config["observation"]["modalities"]["obs"]["rgb"]


OBS_FITS = [pytest.param(name, algo, id=f"{name}-{algo}") for name in versions.BUNDLED
            for algo in versions.bundled(name).algorithms() if algo not in ("hbc", "iris")]


@pytest.mark.parametrize("name, algo", OBS_FITS)
def test_obs_presets_fit_every_standard_algorithm_of_every_robomimic(name, algo):
    """obs=low_dim|image set only keys (of the right types) that each of these algorithms has."""
    from omegaconf import OmegaConf

    schema = versions.bundled(name).schema(algo, "test")
    for obs in ("low_dim", "image"):
        preset = OmegaConf.to_container(OmegaConf.load(REPO / "conf" / "obs" / f"{obs}.yaml"))
        schema.check_config(preset, f"obs={obs}")


def test_bc_rnn_preset_sets_the_guides_rnn_settings():
    expected = robomimic_default("bc")
    expected["algo"]["rnn"].update(enabled=True, horizon=10)
    expected["train"]["seq_length"] = 10
    assert as_text(composed("preset=bc_rnn")) == as_text(expected)


def test_dataset_demo_names_the_shipped_dataset_wherever_it_is_installed():
    from launcher.demo import DATASET

    assert composed("dataset=demo")["train"]["data"] == str(DATASET) and DATASET.is_file()


def test_dataset_demo_is_a_one_dataset_list_where_train_py_reads_only_lists(composing):
    from launcher.demo import DATASET

    composing("robocasa")
    assert composed("dataset=demo")["train"]["data"] == [{"path": str(DATASET)}]
