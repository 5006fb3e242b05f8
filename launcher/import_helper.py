"""``python -m launcher.import_helper [--out DIR/sweep/NAME.yaml] [--overwrite] HELPER.py [HELPER ARGS...]``

Labs keep their sweeps in ``hyperparam_helper.py``-style scripts around robomimic's
``ConfigGenerator``. Rewriting one as a sweep file by hand is where mistakes creep
in, so this runs the script itself, unchanged, with a recording
:class:`~launcher.generator.ConfigGenerator` in place of robomimic's, however the
script imports it (``import robomimic.utils.hyperparam_utils as HyperparamUtils``,
``from robomimic.utils.hyperparam_utils import ConfigGenerator``, ...): a finder at
the front of ``sys.meta_path`` serves that module. Its ``generate()`` checks the
sweep as ours always does and records it; nothing else is written. Then the sweep
file that reproduces it goes to ``--out``, and the command that runs it is printed,
with the base config, folders and ``extra_flags`` the script used.

``--out PATH`` and ``--overwrite`` (replace an existing sweep file) come before the
script; everything after the script is its own arguments, as ``python -m cProfile``
passes them. The older form, with ``--out`` at the end, still works, with a note.
"""
import argparse
import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import runpy
import shlex
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from launcher.core.errors import SweepError
from launcher.core.keys import get_value, set_value
from launcher.generator import ConfigGenerator, check_extra_flags, sweep_yaml
from launcher.robomimic.versions import ENV_VAR

HYPERPARAM_UTILS = "robomimic.utils.hyperparam_utils"
RUN_PY = Path(__file__).resolve().with_name("run.py")


@dataclass(frozen=True)
class Generated:
    """One ``generate()`` call of the helper: the generator and its arguments."""

    generator: ConfigGenerator
    override_base_name: bool
    extra_flags: Optional[str]
    runs: int


class RecordingGenerator(ConfigGenerator):
    """The helper's ConfigGenerator: ``generate()`` checks and records, and writes nothing."""

    recorded: List[Generated] = []

    def generate(self, override_base_name: bool = False, extra_flags: Optional[str] = None) -> None:
        check_extra_flags(extra_flags)
        plan = self.check(bool(override_base_name))
        self.recorded.append(Generated(self, bool(override_base_name), extra_flags, plan.count_runs()[0]))


# -- the stand-in module ------------------------------------------------------------------

def load_json(json_file: str, verbose: bool = True) -> Dict[str, Any]:
    with open(json_file) as f:
        return json.load(f)


def save_json(config: Dict[str, Any], json_file: str) -> None:
    with open(json_file, "w") as f:
        json.dump(config, f, sort_keys=False, indent=4)


def get_value_for_key(dic: Dict[str, Any], k: str) -> Any:
    return get_value(dic, k)


def set_value_for_key(dic: Dict[str, Any], k: str, v: Any) -> None:
    set_value(dic, k, v)


class _StandIn(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves ``robomimic.utils.hyperparam_utils`` with the recording generator, and
    empty ``robomimic`` / ``robomimic.utils`` packages where robomimic is not installed."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Optional[importlib.machinery.ModuleSpec]:
        if fullname == HYPERPARAM_UTILS:
            return importlib.util.spec_from_loader(fullname, self)
        if fullname in ("robomimic", "robomimic.utils") and not self._found_elsewhere(fullname, path):
            return importlib.util.spec_from_loader(fullname, self, is_package=True)
        return None

    def _found_elsewhere(self, fullname: str, path: Any) -> bool:
        return any(getattr(finder, "find_spec", None) and finder.find_spec(fullname, path) is not None
                   for finder in sys.meta_path if finder is not self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Optional[types.ModuleType]:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        if module.__name__ != HYPERPARAM_UTILS:
            module.__path__ = []  # an empty package, so that its submodules can be imported
            return
        module.__doc__ = "launcher.import_helper's stand-in for robomimic's hyperparam_utils"
        module.ConfigGenerator = RecordingGenerator  # type: ignore[attr-defined]
        for function in (load_json, save_json, get_value_for_key, set_value_for_key):
            setattr(module, function.__name__, function)


@contextlib.contextmanager
def standing_in() -> Iterator[None]:
    """robomimic's ``hyperparam_utils`` (and ``launcher.ConfigGenerator``) replaced by the
    recorder while the block runs; the modules as they were afterwards."""
    import launcher

    saved = {name: sys.modules.pop(name) for name in list(sys.modules) if name == HYPERPARAM_UTILS}
    parent = sys.modules.get("robomimic.utils")
    parent_attr = parent.__dict__.pop("hyperparam_utils", None) if parent is not None else None
    finder = _StandIn()
    sys.meta_path.insert(0, finder)
    launcher.ConfigGenerator = RecordingGenerator  # type: ignore[attr-defined]
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        del launcher.ConfigGenerator
        sys.modules.pop(HYPERPARAM_UTILS, None)
        sys.modules.update(saved)
        for name in ("robomimic", "robomimic.utils"):
            if getattr(sys.modules.get(name), "__loader__", None) is finder:
                del sys.modules[name]
        parent = sys.modules.get("robomimic.utils")
        if parent is not None:
            parent.__dict__.pop("hyperparam_utils", None)
            if parent_attr is not None:
                parent.hyperparam_utils = parent_attr  # type: ignore[attr-defined]


@contextlib.contextmanager
def exits_end_only_the_helper() -> Iterator[None]:
    """The helper runs in this process, so its ``os._exit(0)`` (after ``generate()``, say)
    would end the import too, with status 0 and nothing written. While it runs,
    ``os._exit(n)`` in this process is ``sys.exit(n)``; a process the helper forked still
    ends as it asks."""
    real, importer = os._exit, os.getpid()

    def helper_exit(code: int) -> None:
        if os.getpid() != importer:
            real(code)
        raise SystemExit(code)

    os._exit = helper_exit  # type: ignore[assignment]
    try:
        yield
    finally:
        os._exit = real


def run_helper(helper: str, args: Sequence[str]) -> Generated:
    """Run ``helper`` as ``python HELPER ARGS`` would, with the recorder standing in; its one sweep."""
    if not os.path.isfile(helper):
        raise SweepError(f"no such helper script: {helper}")
    RecordingGenerator.recorded = []
    old_argv, old_path = sys.argv, list(sys.path)
    sys.argv = [helper, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(helper)))
    try:
        with standing_in(), exits_end_only_the_helper():
            runpy.run_path(helper, run_name="__main__")
    except SystemExit as stop:
        if stop.code not in (None, 0):
            raise SweepError(f"{helper} exited with status {stop.code}; nothing was imported") from None
    finally:
        sys.argv, sys.path[:] = old_argv, old_path
    recorded = RecordingGenerator.recorded
    if len(recorded) != 1:
        raise SweepError(
            f"{helper} called ConfigGenerator.generate() {len(recorded)} times; "
            "an import takes one sweep (call the helper once per sweep)"
        )
    return recorded[0]


# -- the sweep file and the command ----------------------------------------------------------

def hydra_value(text: str) -> str:
    """``text`` as the value of a Hydra override that reads back as that string: bare
    where Hydra's grammar takes it so, else single-quoted with Hydra's escapes (a run
    of backslashes before a quote doubled, ``${`` escaped so that it is not an
    interpolation). Hydra's own parser decides."""
    target = text.replace("${", "\\${")  # what OmegaConf then reads as the plain text
    if _reads_back(target, target):
        return target
    from launcher.request.overrides import hydra_quote

    return hydra_quote(target)


def _reads_back(value: str, text: str) -> bool:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        override = OverridesParser.create().parse_override(f"key={value}")
    except Exception:  # Hydra's grammar errors have several types
        return False
    return not override.is_sweep_override() and override.value() == text and isinstance(override.value(), str)


def sweep_target(out: str) -> Tuple[Path, str]:
    """``DIR/sweep/NAME.yaml`` -> (DIR, NAME), which ``--config-dir DIR sweep=NAME`` finds."""
    path = Path(out)
    if path.suffix != ".yaml" or path.parent.name != "sweep":
        raise SweepError(
            f"--out {out}: give DIR/sweep/NAME.yaml, so that `--config-dir DIR sweep=NAME` finds it"
        )
    if path.is_dir():
        raise SweepError(f"--out {out} is a folder; give the sweep file to write, DIR/sweep/NAME.yaml")
    return path.parent.parent, path.stem


def run_command(generated: Generated, out: str) -> List[str]:
    """The app's command line that writes what the helper's generator wrote."""
    generator = generated.generator
    config_dir, name = sweep_target(out)
    run_py = os.path.relpath(RUN_PY)
    args = ["python", run_py if not run_py.startswith("..") else str(RUN_PY), "--config-dir", str(config_dir),
            f"sweep={name}", f"base_config={hydra_value(generator.base_config_file)}"]
    algo = _base_algo(generator)
    if algo not in (None, "bc"):
        args.append(f"algo={algo}")  # Hydra then takes that algorithm's keys in overrides
    args += [f"launch.config_dir={hydra_value(generator.config_dir())}",
             f"launch.script_file={hydra_value(generator.script_file)}"]
    if generated.extra_flags:
        args.append(f"launch.extra_args={hydra_value(generated.extra_flags)}")
    chosen = os.environ.get(ENV_VAR)
    if chosen:  # the sweep was checked against this robomimic; the app must be too
        args.append(f"launch.robomimic={hydra_value(chosen)}")
    return args


def _base_algo(generator: ConfigGenerator) -> Any:
    from launcher.request.planning import load_base_json

    return load_base_json(generator.base_config_file, "base_config_file").get("algo_name")


def summary(helper: str, generated: Generated, out: str, command: str) -> List[str]:
    generator = generated.generator
    flags = "none" if generated.extra_flags is None else repr(generated.extra_flags)
    lines = [
        f"the sweep of {helper}: {generated.runs} run{'s' if generated.runs != 1 else ''}",
        f"  base config:  {generator.base_config_file}",
        f"  configs to:   {generator.config_dir()}",
        f"  script:       {generator.script_file}",
        f"  extra_flags:  {flags}",
        "  wandb_proj_name: " + (repr(generator.wandb_proj_name) if generator.wandb_proj_name is not None else
                                 "not given: the base's value stays (robomimic master; 0.3.0 wrote 'debug')"),
    ]
    if generated.extra_flags == "":
        lines.append("  (an empty extra_flags only adds a space at the end of robomimic's lines; left out)")
    elif generated.extra_flags:
        quoted = _quoted_words(generated.extra_flags)
        if quoted != generated.extra_flags:
            lines.append(f"  (the app passes extra_flags as quoted words: {quoted}; "
                         "robocasa's script let the shell read them)")
    lines += [f"Run it from {os.getcwd()} with:", f"  {command}"]
    return lines


def _quoted_words(flags: str) -> str:
    """``flags`` as run.sh writes ``launch.extra_args=<flags>``."""
    try:
        return " ".join(shlex.quote(word) for word in shlex.split(flags))
    except ValueError as e:
        raise SweepError(f"generate(extra_flags={flags!r}) cannot be split into shell words: {e}") from None


def import_helper(helper: str, helper_args: Sequence[str], out: str, overwrite: bool = False) -> List[str]:
    """Run the helper, write its sweep file to ``out``; the lines to tell the user."""
    sweep_target(out)
    generated = run_helper(helper, helper_args)
    command = " ".join(shlex.quote(arg) for arg in run_command(generated, out))
    invoked = " ".join(shlex.quote(a) for a in ["python", "-m", "launcher.import_helper", "--out", out, helper,
                                                   *helper_args])
    info = summary(helper, generated, out, command)
    header = "\n".join([f"Imported with: {invoked}", *info])
    new = sweep_yaml(generated.generator.sweep_file(generated.override_base_name), header)
    if Path(out).exists() and not overwrite and _text_of(out) != new:
        raise SweepError(f"--out {out} exists with other content; add --overwrite to replace it")
    generated.generator.export_sweep(out, generated.override_base_name, header)
    return [f"Wrote {out}: {info[0]}", *info[1:]]


def _text_of(path: str) -> Optional[str]:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # unreadable: other content, as far as we can tell


USAGE = "python -m launcher.import_helper [--out PATH] [--overwrite] HELPER.py [HELPER ARGS...]"
DEPRECATED_FORM = ("note: --out and --overwrite after the helper's arguments are deprecated; put them first: "
                   + USAGE)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m launcher.import_helper",
        description="Run a hyperparam_helper.py-style script as it is and write the sweep file that gives "
                    "the same configs.")
    parser.add_argument("--out", metavar="PATH", help="the sweep file to write, DIR/sweep/NAME.yaml, used as "
                                                      "--config-dir DIR sweep=NAME (default: sweeps/sweep/<the "
                                                      "helper's name>.yaml)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing sweep file")
    parser.add_argument("helper", help="the helper script")
    # Everything after the helper is the helper's, as python -m cProfile passes a script its arguments.
    parser.add_argument("helper_args", nargs=argparse.REMAINDER, help="the helper's own arguments")
    return parser


def parse_args(argv: Sequence[str]) -> Tuple[str, List[str], str, bool]:
    """(helper, its args, --out, --overwrite). Our options go before the helper; the old form, with
    them at the end of the command line, still works and gets a note on stderr."""
    args = _parser().parse_args(argv)
    trailing = _trailing_options(args.helper_args) if args.out is None else None
    if trailing is not None:
        helper_args, out, overwrite = trailing
        print(DEPRECATED_FORM, file=sys.stderr)
        return args.helper, helper_args, out, overwrite or args.overwrite
    out = args.out if args.out is not None else default_out(args.helper)
    return args.helper, list(args.helper_args), out, args.overwrite


def default_out(helper: str) -> str:
    """``sweeps/sweep/<helper name>.yaml``: ``--config-dir sweeps sweep=<helper name>`` runs it."""
    return os.path.join("sweeps", "sweep", f"{Path(helper).stem}.yaml")


def _trailing_options(helper_args: Sequence[str]) -> Optional[Tuple[List[str], str, bool]]:
    """The deprecated form: ``--out PATH`` (or ``--out=PATH``) and ``--overwrite`` at the end of
    the command line are ours, the rest the helper's: (its args, --out, --overwrite), or None if
    the command line does not end with an --out."""
    args, out, overwrite = list(helper_args), None, False
    while args:
        if args[-1] == "--overwrite" and not overwrite:
            overwrite = True
            args.pop()
        elif args[-1].startswith("--out=") and out is None:
            out = args.pop()[len("--out="):]
        elif len(args) >= 2 and args[-2] == "--out" and out is None:
            out = args[-1]
            del args[-2:]
        else:
            break
    if out is None and args and args[-1] == "--out":
        raise SweepError("--out needs a path: --out DIR/sweep/NAME.yaml")
    return None if out is None else (args, out, overwrite)


def main(argv: Optional[Sequence[str]] = None) -> int:
    try:
        helper, helper_args, out, overwrite = parse_args(sys.argv[1:] if argv is None else argv)
        lines = import_helper(helper, helper_args, out, overwrite)
    except SweepError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; no sweep file was written", file=sys.stderr)
        return 130
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
