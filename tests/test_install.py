"""The wheel carries the whole launcher: every package of the tree, conf/ and the stub.

pyproject.toml lists the packages by hand (conf/ is mapped into the wheel as
launcher.conf, so no automatic finder can be used); this holds the list to the tree.
tests/integration/test_install.py installs the wheel for real and runs it.
"""
import sys

import pytest

from tests.helpers import REPO

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

SETUPTOOLS = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_of_the_tree_is_in_the_wheel():
    found = {".".join(p.parent.relative_to(REPO).parts) for p in REPO.glob("launcher/**/*.py")}
    found |= {".".join(p.parent.relative_to(REPO).parts) for p in REPO.glob("hydra_plugins/**/*.py")}
    found.discard("")
    assert found | {"launcher.conf"} == set(SETUPTOOLS["packages"])


def test_conf_and_the_stub_ship_from_where_the_checkout_keeps_them():
    assert SETUPTOOLS["package-dir"] == {"launcher.conf": "conf"}
    assert SETUPTOOLS["py-modules"] == ["train_stub"]
    assert (REPO / "conf" / "config.yaml").is_file() and (REPO / "train_stub.py").is_file()
