"""conf/ composes robomimic 0.3.0's own defaults for every algorithm, key order included."""
import json

import pytest
from hydra import compose, initialize_config_dir

from launcher.app_config import robomimic_section
from launcher.refresh_conf import ALGORITHMS, generate
from tests.helpers import REPO, robomimic_default


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
