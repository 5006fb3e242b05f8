"""The launch fields are defined once (LaunchConf): the options object and --help follow it."""
import dataclasses
import subprocess
import sys

import pytest

from launcher.request.launch_options import READERS, LaunchConf, LaunchOptions, option_fields
from tests.helpers import RUN_PY


def test_every_launch_field_has_a_reader_and_an_option():
    names = [f.name for f in option_fields()]
    assert list(READERS) == names
    options = {f.name for f in dataclasses.fields(LaunchOptions)}
    assert set(names) <= options
    # The options object adds only what it derives, never a field of its own.
    assert options == set(names)


def test_an_unset_field_reads_as_its_default(tmp_path):
    options = LaunchOptions.from_mapping({"config_dir": "c", "script_file": "s.sh"}, tmp_path)
    for f in option_fields():
        if f.name not in ("config_dir", "script_file", "extra_args", "gpus"):
            assert getattr(options, f.name) == f.default, f.name


@pytest.fixture(scope="module")
def help_text() -> str:
    return subprocess.run([sys.executable, RUN_PY, "--help"], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("field", option_fields(), ids=lambda f: f.name)
def test_help_lists_every_option_with_its_help(help_text, field):
    section = help_text.split("== launch options (launch.NAME=value) ==")[1]
    line = next(line for line in section.splitlines() if line.split()[:1] == [field.name])
    assert " ".join(field.metadata["help"].split()[:3]) in line


def test_the_job_only_field_is_not_an_option(help_text):
    assert "run" in {f.name for f in dataclasses.fields(LaunchConf)}
    assert "run" not in READERS
    assert "\n  run " not in help_text
