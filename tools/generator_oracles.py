"""Record what robomimic's newer ConfigGenerators write, as test data (a dev tool).

    python -m tools.generator_oracles --robomimic-git DIR    (DIR: a git checkout of robomimic, bare or not)

Two kinds of cases. ``tests/data/generator_cases.json`` is written by hand: every option
of the generators. ``tests/data/generator_version_cases.json`` is written by this tool:
each bundled robomimic's own configs (every algorithm's defaults, from its recorded
schema, and each of its templates that is not just those defaults) swept over
``train.seed`` [1, 2], for the generator that robomimic's configs are made with
(its profile's: master's, robocasa's for the robocasa branch). Templates are read from
each ref of the checkout (``robomimic/exps/templates``, ``robomimic/config/default_templates``)
and loaded there as its train.py loads them (``config_factory(algo).update(json)``
under key lock) in a subprocess that sees only that tree and six; whether robomimic
itself could load each one is recorded in ``tests/data/robomimic_templates/index.json``,
beside the templates that differ from the defaults.

robomimic 0.3.0 (pip) is checked live by the tests. Two later generators exist only
on GitHub: ``master`` (``base_exp_name``, optional ``wandb_proj_name``, ``hidename``,
``prepend``, ``override_base_name``) and the ``robocasa`` branch (``values_and_names``,
``extra_flags``, but no ``base_exp_name``). This tool takes
``robomimic/utils/hyperparam_utils.py`` from each branch of a (bare) git directory
into a temporary folder outside the repository, imports it there and runs it on every
case of ``tests/data/generator_cases.json`` that names the branch. Nothing of
robomimic's source is written into the repository; only what their code produces.

Those files import only the standard library, plus ``import robomimic`` while the
script is written (for ``robomimic.__path__[0]``); an installed robomimic 0.3.0
(``pip install --no-deps robomimic==0.3.0 six``) supplies it. Nothing is stubbed.

A case (one entry of the cases file)::

    {"id": "...", "generators": ["master", "robocasa"], "covers": "...",
     "base": "generator_base_partial.json" | {...inline config...},
     "base_set": {"experiment.name": "x"},      # optional, dotted paths
     "base_delete": ["experiment.logging"],     # optional
     "init": {...ConfigGenerator kwargs...},    # exactly what is passed
     "add_param": [{...add_param kwargs...}, ...],
     "generate": {...generate kwargs...}}

Each run happens in a fresh folder ``<dir>`` that is also the working directory and
``$HOME`` (with ``<dir>/home/tmp`` made, so the default ``~/tmp/tmpp.sh`` works).
The base config is written to ``<dir>/base.json``; in ``init`` the string ``<dir>``
stands for that folder. Cases pass ``base_config_file`` as the relative
``"base.json"`` because the generator copies that string verbatim into every JSON
(``meta.hp_base_config_file``), which keeps the JSON files byte-identical across runs.

Output, per branch and case, in ``tests/data/generators/<branch>/<case id>/``:

- ``configs/<name>.json``: every JSON the generator wrote, verbatim (the last
  version when a name was written twice);
- ``script.sh``: the script, with ``<dir>`` for the run folder and ``<robomimic>``
  for ``robomimic.__path__[0]``;
- ``calls.json``: the calls made, what ``generate()`` returned and printed, every
  JSON write in order (repeats included, paths as the generator passed them), what
  was left in ``<dir>`` afterwards, and the error if a call raised (its type,
  message and the line of their file it came from).

``tests/data/generators/<branch>/`` is rebuilt from scratch on every run.
``--write-base`` (re)writes ``tests/data/generator_base_bc.json`` from
``robomimic.config.config_factory('bc').dump()``.
"""
import argparse
import contextlib
import copy
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any, Dict, List, Optional

from tools.refresh_conf import git

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "tests" / "data"
CASES_FILE = DATA_DIR / "generator_cases.json"
VERSION_CASES_FILE = DATA_DIR / "generator_version_cases.json"
TEMPLATES_DIR = DATA_DIR / "robomimic_templates"
TEMPLATE_FOLDERS = ("robomimic/exps/templates", "robomimic/config/default_templates")
OUT_DIR = DATA_DIR / "generators"
BASE_BC_FILE = DATA_DIR / "generator_base_bc.json"
SOURCE_PATH = "robomimic/utils/hyperparam_utils.py"
BRANCHES = ("master", "robocasa")
DIR_TOKEN = "<dir>"
ROBOMIMIC_TOKEN = "<robomimic>"


def extract(git_dir: str, branch: str, into: Path) -> Dict[str, Any]:
    """Copy one branch's hyperparam_utils.py into ``into`` and import it."""
    source = git(git_dir, "show", "{}:{}".format(branch, SOURCE_PATH), text=True)
    path = into / "hyperparam_utils_{}.py".format(branch.replace("-", "_").replace(".", "_"))
    path.write_text(source)
    module_name = "_oracle_" + path.stem
    spec = importlib.util.spec_from_file_location(module_name, str(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {
        "module": module,
        "path": str(path),
        "commit": git(git_dir, "rev-parse", branch, text=True).strip(),
        "blob": git(git_dir, "rev-parse", "{}:{}".format(branch, SOURCE_PATH), text=True).strip(),
    }


def dotted_parent(config: Dict[str, Any], dotted: str):
    parts = dotted.split(".")
    node = config
    for part in parts[:-1]:
        node = node[part]
    return node, parts[-1]


def make_base(case: Dict[str, Any]) -> Dict[str, Any]:
    """The case's base config: a file in tests/data, a bundled robomimic's defaults of an
    algorithm (``{"robomimic": NAME, "algo": ALGO}``), a recorded template
    (``{"template": "NAME/FILE"}``), or the config itself."""
    base = case["base"]
    if isinstance(base, str):
        config = json.loads((DATA_DIR / base).read_text())
    elif "robomimic" in base and "algo" in base:
        from launcher.robomimic.versions import bundled

        config = bundled(base["robomimic"]).defaults(base["algo"])
    elif "template" in base:
        config = json.loads((TEMPLATES_DIR / base["template"]).read_text())
    else:
        config = copy.deepcopy(base)
    for dotted, value in case.get("base_set", {}).items():
        node, last = dotted_parent(config, dotted)
        node[last] = value
    for dotted in case.get("base_delete", []):
        node, last = dotted_parent(config, dotted)
        del node[last]
    return config


def with_dir(value: Any, run_dir: str) -> Any:
    if isinstance(value, str):
        return value.replace(DIR_TOKEN, run_dir)
    if isinstance(value, dict):
        return {k: with_dir(v, run_dir) for k, v in value.items()}
    if isinstance(value, list):
        return [with_dir(v, run_dir) for v in value]
    return value


class Masker:
    """Replace the run folder and robomimic's package folder by tokens."""

    def __init__(self, run_dir: str, robomimic_dir: str):
        self.pairs = [(robomimic_dir, ROBOMIMIC_TOKEN), (run_dir, DIR_TOKEN)]

    def __call__(self, text: str) -> str:
        for real, token in self.pairs:
            text = text.replace(real, token)
        return text

    def leaks(self, text: str) -> bool:
        return any(real in text for real, _ in self.pairs)


def error_record(stage: str, exc: BaseException, source_path: str, mask: Masker) -> Dict[str, Any]:
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == source_path:
            line = frame.lineno
    return {"stage": stage, "type": type(exc).__name__, "message": mask(str(exc)), "line": line}


def run_case(gen: Dict[str, Any], branch: str, case: Dict[str, Any], work: Path, dest: Path,
             robomimic_dir: str) -> None:
    module = gen["module"]
    run_dir = os.path.realpath(tempfile.mkdtemp(prefix="run_", dir=str(work)))
    mask = Masker(run_dir, robomimic_dir)
    home = os.path.join(run_dir, "home")
    os.makedirs(os.path.join(home, "tmp"))
    Path(run_dir, "base.json").write_text(json.dumps(make_base(case), indent=4))

    writes: List[str] = []
    original_save_json = module.save_json

    def recording_save_json(config, json_file):
        writes.append(json_file)
        return original_save_json(config, json_file)

    init_kwargs = with_dir(case.get("init", {}), run_dir)
    record: Dict[str, Any] = {
        "case": case["id"],
        "generator": branch,
        "commit": gen["commit"],
        "source": "{} (blob {})".format(SOURCE_PATH, gen["blob"]),
        "cwd": DIR_TOKEN,
        "home": DIR_TOKEN + "/home",
        "base_config": "base.json (this case's base, written with json.dumps(indent=4))",
        "init": case.get("init", {}),
        "add_param": case.get("add_param", []),
        "generate": case.get("generate", {}),
    }
    stdout = io.StringIO()
    error = None
    generator = None
    old_cwd, old_home = os.getcwd(), os.environ.get("HOME")
    module.save_json = recording_save_json
    try:
        os.chdir(run_dir)
        os.environ["HOME"] = home
        with contextlib.redirect_stdout(stdout):
            stage = "init"
            try:
                generator = module.ConfigGenerator(**init_kwargs)
                for i, call in enumerate(case.get("add_param", [])):
                    stage = "add_param[{}]".format(i)
                    generator.add_param(**call)
                stage = "generate"
                returned = generator.generate(**case.get("generate", {}))
                record["returned"] = repr(returned)
            except Exception as exc:  # the generator's own assertion and key errors
                error = error_record(stage, exc, gen["path"], mask)
    finally:
        module.save_json = original_save_json
        os.chdir(old_cwd)
        if old_home is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = old_home

    dest.mkdir(parents=True)
    config_names: List[str] = []
    for path in writes:
        full = os.path.join(run_dir, path)
        name = os.path.basename(full)
        if name in config_names:
            continue
        data = Path(full).read_bytes()
        if mask.leaks(data.decode("utf-8")):
            raise SystemExit("case {}: {} holds a temporary path; pass relative paths".format(case["id"], name))
        (dest / "configs").mkdir(exist_ok=True)
        (dest / "configs" / name).write_bytes(data)
        config_names.append(name)

    script_name = None
    script_file = getattr(generator, "script_file", None) if generator is not None else None
    if script_file is not None and os.path.exists(script_file):
        (dest / "script.sh").write_text(mask(Path(script_file).read_text()))
        script_name = "script.sh"
        record["script_file"] = mask(script_file)

    record["stdout"] = mask(stdout.getvalue())
    record["writes"] = [mask(p) for p in writes]
    record["left_in_dir"] = left_in_dir(run_dir)
    record["configs"] = config_names
    record["script"] = script_name
    record["error"] = error
    (dest / "calls.json").write_text(json.dumps(record, indent=2) + "\n")


def left_in_dir(run_dir: str) -> List[str]:
    """Every file and folder the run left in ``<dir>`` (folders end in '/')."""
    found: List[str] = []
    for root, dirs, files in os.walk(run_dir):
        rel = os.path.relpath(root, run_dir)
        for d in dirs:
            found.append(os.path.normpath(os.path.join(rel, d)) + "/")
        for f in files:
            found.append(os.path.normpath(os.path.join(rel, f)))
    return sorted(found)


# Loads each template given on the command line as robomimic's train.py does; prints the results.
_LOAD_TEMPLATES = """
import json, sys
from robomimic.config import config_factory
results = {}
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            ext_cfg = json.load(f)
        config = config_factory(ext_cfg["algo_name"])
        with config.values_unlocked():
            config.update(ext_cfg)
        results[path] = None
    except Exception as e:
        results[path] = "{}: {}".format(type(e).__name__, e)
print(json.dumps(results))
"""


def record_templates(git_dir: str) -> Dict[str, Any]:
    """Each bundled robomimic's templates: whether robomimic itself loads each, and the
    ones that are not just an algorithm's defaults, into tests/data/robomimic_templates/."""
    from launcher.robomimic.versions import bundled
    from tools.refresh_conf import REFS, extract_tree, isolated_env

    if TEMPLATES_DIR.exists():
        shutil.rmtree(TEMPLATES_DIR)
    index: Dict[str, Any] = {}
    for ref, name in REFS:
        with tempfile.TemporaryDirectory(prefix="templates_") as tree:
            commit = extract_tree(git_dir, ref, Path(tree))
            paths = sorted(str(p) for folder in TEMPLATE_FOLDERS for p in (Path(tree) / folder).glob("*.json"))
            proc = subprocess.run([sys.executable, "-S", "-c", _LOAD_TEMPLATES, *paths], capture_output=True,
                                  text=True, env=isolated_env(Path(tree)), check=True)
            errors = json.loads(proc.stdout.strip().splitlines()[-1])
            entries = {}
            for path in paths:
                relative = os.path.relpath(path, os.path.join(tree, "robomimic"))
                config = json.loads(Path(path).read_text())
                algo = config.get("algo_name")
                equal = algo in bundled(name).algorithms() and config == bundled(name).defaults(algo)
                entry = {"algo_name": algo, "error": errors[path], "equals_defaults": equal}
                if not entry["equals_defaults"]:
                    entry["file"] = f"{name}/{relative.replace('/', '__')}"
                    target = TEMPLATES_DIR / entry["file"]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target)
                entries[relative] = entry
            index[name] = {"ref": ref, "commit": commit, "templates": entries}
    (TEMPLATES_DIR / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    return index


def version_cases(index: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Each bundled robomimic's own configs (but 0.3.0's: the tests run its generator live),
    swept over train.seed, for its profile's generator."""
    from launcher.robomimic.versions import BUNDLED, bundled

    cases = []
    for name in BUNDLED:
        robomimic = bundled(name)
        if robomimic.generator.name == "0.3.0":
            continue
        bases = [(f"{algo} defaults", {"robomimic": name, "algo": algo}) for algo in robomimic.algorithms()]
        bases += [(f"template {path}", {"template": entry["file"]})
                  for path, entry in index[name]["templates"].items()
                  if entry["error"] is None and not entry["equals_defaults"]]
        for what, base in bases:
            cases.append({
                "id": f"{name}-" + what.replace(" defaults", "").replace("template ", "").replace("/", "__"),
                "generators": [robomimic.generator.name],
                "robomimic": name,
                "covers": f"robomimic {name}'s {what}, swept over train.seed=1,2 with the generator's defaults",
                "base": base,
                "init": {"base_config_file": "base.json", "script_file": "<dir>/run.sh",
                         "generated_config_dir": "<dir>/configs"},
                "add_param": [{"key": "train.seed", "name": "seed", "group": 0, "values": [1, 2]}],
                "generate": {},
            })
    return cases


def write_base_bc() -> None:
    from robomimic.config import config_factory

    BASE_BC_FILE.write_text(config_factory("bc").dump())
    print("wrote", BASE_BC_FILE)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--robomimic-git", required=True, help="robomimic git directory (bare is fine)")
    parser.add_argument("--cases", default=str(CASES_FILE))
    parser.add_argument("--out", default=str(OUT_DIR))
    parser.add_argument("--branches", default=",".join(BRANCHES), help="comma-separated branches or tags")
    parser.add_argument("--write-base", action="store_true", help="(re)write " + BASE_BC_FILE.name)
    args = parser.parse_args(argv)

    if args.write_base:
        write_base_bc()
    import robomimic

    robomimic_dir = robomimic.__path__[0]
    index = record_templates(args.robomimic_git)
    recorded = version_cases(index)
    VERSION_CASES_FILE.write_text(json.dumps(recorded, indent=1) + "\n")
    cases = json.loads(Path(args.cases).read_text()) + recorded
    ids = [case["id"] for case in cases]
    if len(ids) != len(set(ids)):
        raise SystemExit("duplicate case ids")
    out = Path(args.out)
    work = Path(tempfile.mkdtemp(prefix="generator_oracles_"))
    try:
        for branch in args.branches.split(","):
            gen = extract(args.robomimic_git, branch, work)
            branch_out = out / branch
            if branch_out.exists():
                shutil.rmtree(branch_out)
            count = 0
            for case in cases:
                if branch in case["generators"]:
                    run_case(gen, branch, case, work, branch_out / case["id"], robomimic_dir)
                    count += 1
            print("{}: {} cases (commit {}) -> {}".format(branch, count, gen["commit"][:12], branch_out))
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    sys.exit(main())
