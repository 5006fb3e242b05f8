"""robomimic's ``ConfigGenerator`` as a drop-in that checks first and writes fast.

Labs have helper scripts built around robomimic's class (``hyperparam_helper.py``,
robocasa's ``config_gen`` scripts). With ``from launcher import ConfigGenerator``
they keep working unchanged: the class takes robomimic master's and the robocasa
branch's arguments (``base_exp_name``, ``hidename``, ``prepend``,
``values_and_names``, ``override_base_name``, ``extra_flags``) with master's
defaults, and ``generate()`` writes the same configs and script, and prints the
same lines, as theirs. Unlike theirs it first checks the whole sweep (keys and
values against robomimic's schema, group sizes, run names that collide or cannot
be file names) and refuses a bad one with :class:`SweepError` before writing
anything; and it writes through the launcher's renderer and staged writer, so
10,000 configs take a fraction of robomimic's time.

``sweep_file()`` / ``export_sweep(path)`` give the sweep file that reproduces the
generator in the Hydra app (``launcher.import_helper`` uses them).
"""
import argparse
import io
import os
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict, Hashable, List, Optional

from launcher.core.document import base_run_name
from launcher.core.errors import SweepError
from launcher.core.params import Param, param_values
from launcher.core.plan import SweepPlan
from launcher.request.launch_options import LaunchOptions
from launcher.robomimic.paths import installed_train_script
from launcher.robomimic.train_command import TrainCommand

# Where robomimic puts the script when no script_file is given (it does not create ~/tmp).
DEFAULT_SCRIPT_FILE = os.path.join("~", "tmp/tmpp.sh")


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise SweepError(message)


def _optional_str(value: Any, what: str) -> None:
    _require(value is None or isinstance(value, str),
             f"ConfigGenerator: {what} must be a string or None, got {value!r}")


def check_extra_flags(extra_flags: Any) -> None:
    _require(extra_flags is None or isinstance(extra_flags, str),
             f"generate: extra_flags must be a string of shell words, got {extra_flags!r} "
             "(robomimic's robocasa branch silently ignores anything else)")


class ScriptLine:
    """One line of the script, as master and the robocasa branch write it:
    ``python <robomimic>/scripts/train.py --config <json>``, then ``" " + extra_flags``
    verbatim when it is a string (robocasa). Paths are quoted only where the shell
    needs it, so ordinary lines are theirs byte for byte."""

    def __init__(self, train_script: str, extra_flags: Optional[str]) -> None:
        self.command = TrainCommand(python="python", script=train_script)
        self.suffix = "" if extra_flags is None else " " + extra_flags

    def line(self, config_path: str) -> str:
        return self.command.line(config_path) + self.suffix


class ConfigGenerator:
    """robomimic's ``ConfigGenerator`` (master's and the robocasa branch's signatures,
    master's defaults): ``add_param`` calls, then ``generate()``."""

    def __init__(
        self,
        base_config_file: str,
        base_exp_name: Optional[str] = None,
        wandb_proj_name: Optional[str] = None,
        script_file: Optional[str] = None,
        generated_config_dir: Optional[str] = None,
    ) -> None:
        _require(isinstance(base_config_file, str),
                 f"ConfigGenerator: base_config_file must be a path (a string), got {base_config_file!r}")
        for value, what in ((base_exp_name, "base_exp_name"), (wandb_proj_name, "wandb_proj_name"),
                            (script_file, "script_file"), (generated_config_dir, "generated_config_dir")):
            _optional_str(value, what)
        self.base_config_file = base_config_file
        self.base_exp_name = base_exp_name
        # None (master's default): experiment.logging.wandb_proj_name is left as the base has it.
        self.wandb_proj_name = wandb_proj_name
        self.generated_config_dir = None if generated_config_dir is None else os.path.expanduser(generated_config_dir)
        self.script_file = os.path.expanduser(DEFAULT_SCRIPT_FILE if script_file is None else script_file)
        # Public as in robomimic: helper scripts test `key in generator.parameters` and
        # change `generator.parameters[key].values` in place before generate().
        self.parameters: "OrderedDict[str, argparse.Namespace]" = OrderedDict()
        self._prepended: Dict[str, bool] = {}
        self._origins: Dict[str, str] = {}
        self._calls = 0

    def add_param(
        self,
        key: str,
        name: str,
        group: Hashable,
        values: Optional[list] = None,
        value_names: Optional[list] = None,
        hidename: bool = False,
        prepend: bool = False,
        values_and_names: Optional[list] = None,
    ) -> None:
        """Sweep ``key`` over ``values`` (or ``values_and_names`` pairs); see robomimic's docs.
        Re-adding a key replaces it where it was; ``prepend`` moves it to the front."""
        self._calls += 1
        where = f"add_param #{self._calls} ({key!r})"
        values, value_names, values_and_names = (_listed(v) for v in (values, value_names, values_and_names))
        _require(isinstance(key, str) and bool(key), f"{where}: key must be a non-empty string")
        _require(isinstance(name, str),
                 f"{where}: name must be a string ('' keeps it out of the run name), got {name!r}")
        _require(isinstance(group, Hashable), f"{where}: group must be hashable (an int or a string), got {group!r}")
        values, value_names = param_values(values, value_names, values_and_names, where)
        self.parameters[key] = argparse.Namespace(
            key=key, name=name, group=group, values=values, value_names=value_names, hidename=bool(hidename)
        )
        self._origins[key] = where
        self._prepended[key] = bool(prepend)
        if prepend:
            self.parameters.move_to_end(key, last=False)

    # -- the sweep ----------------------------------------------------------------------

    def params(self) -> List[Param]:
        """The params as they stand now (a helper may have changed values in place)."""
        _require(len(self.parameters) > 0, "ConfigGenerator.generate: no params; call add_param first")
        params = []
        for key, p in self.parameters.items():
            where = self._origins[key]
            values, value_names = param_values(_without_numpy(p.values), _without_numpy(p.value_names), None, where)
            params.append(Param(key=p.key, name=p.name, group=p.group, values=values, value_names=value_names,
                                hidename=bool(getattr(p, "hidename", False)), origin=where))
        return params

    def plan(self, override_base_name: bool = False) -> SweepPlan:
        """The checked sweep: the base JSON read and checked, every key and value too."""
        from launcher.request.planning import base_and_schema, check_dataset_caching, check_params
        from launcher.robomimic.selection import from_environment

        params = self.params()
        # Checked against the robomimic this Python imports, or $ROBOMIMIC_SWEEP_ROBOMIMIC's.
        base, schema = base_and_schema(from_environment(), self.base_config_file, what="base_config_file")
        check_params(schema, params)
        plan = SweepPlan(
            base=base,
            base_name=self._base_name(base, override_base_name),
            params=params,
            base_config_file=self.base_config_file,
            wandb_proj_name=self.wandb_proj_name,
            leading_separator=False,  # master's rule: "_" only between non-empty parts
        )
        check_dataset_caching(plan, schema)
        return plan

    def _base_name(self, base: Dict[str, Any], override_base_name: bool) -> str:
        if override_base_name:
            return ""
        if self.base_exp_name is not None:
            return self.base_exp_name
        return base_run_name(base, f"base_config_file {self.base_config_file}")

    def config_dir(self) -> str:
        """Where the JSONs go: ``generated_config_dir``, else the base config's folder."""
        if self.generated_config_dir:
            return self.generated_config_dir
        return os.path.abspath(os.path.dirname(self.base_config_file))

    def check(self, override_base_name: bool = False) -> SweepPlan:
        """Every check ``generate()`` makes (run names included), writing nothing."""
        from launcher.output.each_run import prepare_runs

        plan = self.plan(bool(override_base_name))
        prepare_runs(plan, self._options())
        return plan

    def _options(self) -> LaunchOptions:
        # Absolute already (so that no ~ is expanded: robomimic does not expand script_file).
        return LaunchOptions.from_mapping({
            "mode": "script", "config_dir": os.path.abspath(self.config_dir()),
            "script_file": os.path.abspath(self.script_file), "train_script": "train.py",
            "overwrite": True,  # robomimic rewrites its files in place; so do we, whole or not at all
        }, Path(os.getcwd()))

    # -- writing ------------------------------------------------------------------------

    def generate(self, override_base_name: bool = False, extra_flags: Optional[str] = None) -> None:
        """Write every run's JSON and the script, as robomimic does, after checking the whole sweep."""
        check_extra_flags(extra_flags)
        plan = self.plan(bool(override_base_name))
        lines = self._write(plan, ScriptLine(_train_script_for_lines(), extra_flags))
        out = io.StringIO()
        out.write(f"Num exps: {len(lines)}\n")
        for line in lines:
            out.write(f"\n{line}\n\n")
        sys.stdout.write(out.getvalue())

    def _write(self, plan: SweepPlan, script_line: ScriptLine) -> List[str]:
        """Every JSON and the script, staged and put in place together; the script's lines."""
        from launcher.output.each_run import write_runs
        from launcher.output.locks import Locks, holder_note
        from launcher.output.staging import NewFolders

        config_dir = self.config_dir()
        options = self._options()
        lines: List[str] = []
        recorder = _RecordingLine(script_line, config_dir, lines)
        with NewFolders() as folders, Locks(holder_note(options.config_dir)) as locks:
            write_runs(plan, options, recorder, locks, folders,  # type: ignore[arg-type]
                       names=("generated_config_dir", "script_file"))
        return lines

    # -- the sweep file -----------------------------------------------------------------

    def sweep_file(self, override_base_name: bool = False) -> Dict[str, Any]:
        """The sweep file (as plain data) that makes the Hydra app write these configs,
        given ``base_config=<base_config_file>``.

        Params are listed in the order the generator uses them. Those that were
        prepended and still lead keep ``prepend: true``, listed so that adding them in
        turn gives the same order again.
        """
        self.params()  # refuse a broken sweep before describing it
        doc: Dict[str, Any] = {}
        if override_base_name:
            doc["hide_base_name"] = True
        elif self.base_exp_name is not None:
            doc["base_name"] = self.base_exp_name
        elif self._base_experiment_name() == "":
            doc["base_name"] = ""  # keeps master's rule: no "_" before the first param
        doc["wandb_proj_name"] = self.wandb_proj_name  # null: not written, as master
        doc["params"] = self._param_entries()
        return doc

    def _base_experiment_name(self) -> Any:
        from launcher.core.keys import get_value
        from launcher.request.planning import load_base_json

        try:
            return get_value(load_base_json(self.base_config_file, "base_config_file"), "experiment.name")
        except SweepError:
            return None  # the app will say what is wrong with the file

    def _param_entries(self) -> List[Dict[str, Any]]:
        keys = list(self.parameters)
        lead = 0
        while lead < len(keys) and self._prepended[keys[lead]]:
            lead += 1
        groups = _portable_groups([p.group for p in self.parameters.values()])
        entries = []
        for i in [*reversed(range(lead)), *range(lead, len(keys))]:
            p = self.parameters[keys[i]]
            entry = {"key": keys[i], "name": p.name, "group": groups[i], "values": _plain(p.values)}
            if p.value_names is not None:
                entry["value_names"] = _plain(p.value_names)
            if getattr(p, "hidename", False):
                entry["hidename"] = True
            if i < lead:
                entry["prepend"] = True
            entries.append(entry)
        return entries

    def export_sweep(self, path: str, override_base_name: bool = False, header: str = "") -> Path:
        """Write :meth:`sweep_file` as YAML to ``path`` (e.g. ``my_conf/sweep/scan.yaml``),
        ``header`` as comment lines on top."""
        from launcher.output.staging import atomic_write

        target = Path(path)
        text = sweep_yaml(self.sweep_file(override_base_name), header)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, text)  # whole or not at all, even on Ctrl-C
        except OSError as e:
            raise SweepError(f"cannot write the sweep file {target}: {e.strerror or e}") from None
        return target


class _RecordingLine:
    """Hands prepare_runs each script line and keeps it for the lines generate() prints.

    The files are written at absolute paths; the lines name them as robomimic does,
    ``os.path.join(<config dir as given>, <name>.json)`` (relative if it was)."""

    def __init__(self, script_line: ScriptLine, config_dir: str, lines: List[str]) -> None:
        self.script_line = script_line
        self.config_dir = config_dir
        self.lines = lines

    def line(self, config_path: str) -> str:
        text = self.script_line.line(os.path.join(self.config_dir, os.path.basename(config_path)))
        self.lines.append(text)
        return text


_warned = []


def _train_script_for_lines() -> str:
    """master's ``<robomimic>/scripts/train.py``; without robomimic installed, robomimic
    0.3.0's plain ``train.py`` (run the script from robomimic/scripts), said once on stderr."""
    script = installed_train_script()  # found without importing robomimic
    if script is not None:
        return str(script)
    if not _warned:
        _warned.append(True)
        print("ConfigGenerator: robomimic is not installed in this Python, so the script calls "
              "train.py (as robomimic 0.3.0's does): run it from robomimic/scripts", file=sys.stderr)
    return "train.py"


def _portable_groups(groups: List[Hashable]) -> List[Hashable]:
    """Group ids a sweep file can hold: ints, strings, floats and bools as they are
    (they compare as in Python: 1, 1.0 and true are one group); any other id (None, a
    tuple) becomes a string no other group uses."""
    taken = {g for g in groups if isinstance(g, (str, int, float))}
    mapped: Dict[Any, str] = {}
    out: List[Hashable] = []
    for group in groups:
        if isinstance(group, (str, int, float)):
            out.append(group)
            continue
        if group not in mapped:
            text = f"group {group!r}"
            while text in taken:
                text += "_"
            taken.add(text)
            mapped[group] = text
        out.append(mapped[group])
    return out


def _is_numpy(value: Any) -> bool:
    return type(value).__module__ == "numpy" and hasattr(value, "tolist")


def _listed(values: Any) -> Any:
    """A numpy array of values (``np.logspace(-4, -3, 2)``, which robomimic iterates) as a list;
    a list stays the very list given (robomimic keeps it by reference)."""
    return values.tolist() if _is_numpy(values) else values


def _without_numpy(value: Any) -> Any:
    """``value`` with numpy arrays and numbers as Python's lists and numbers: what
    robomimic's ``json.dump`` writes for them, and what our checks and YAML take."""
    if _is_numpy(value):
        return value.tolist()
    if isinstance(value, list):
        return [_without_numpy(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_without_numpy(v) for v in value)
    if isinstance(value, dict):
        return {k: _without_numpy(v) for k, v in value.items()}
    return value


def _plain(value: Any) -> Any:
    """``value`` with tuples as lists, as robomimic's JSON has them, and no numpy."""
    if _is_numpy(value):
        return _plain(value.tolist())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _escaped(value: Any) -> Any:
    """``value`` with ``${`` escaped, so that OmegaConf does not take it for an interpolation."""
    if isinstance(value, (list, tuple)):
        return [_escaped(v) for v in value]
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, str):
        return value.replace("${", "\\${")
    return value


def sweep_yaml(doc: Dict[str, Any], header: str = "") -> str:
    """A sweep file's text: block style, short lists inline, strings quoted where
    OmegaConf would read them as something else."""
    import re

    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    # OmegaConf reads 1e-3 as a float where YAML 1.1 (PyYAML) sees a string: quote such strings.
    Dumper.add_implicit_resolver(
        "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$"), list("-+0123456789")
    )
    body = yaml.dump(_escaped(doc), Dumper=Dumper, sort_keys=False, default_flow_style=None, allow_unicode=True,
                     width=4096)
    comments = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    return comments + body
