"""Record robomimic's schemas into ``launcher/robomimic/schemas/<name>.json`` (a dev tool).

    python -m tools.refresh_conf                                   # the robomimic installed in this Python
    python -m tools.refresh_conf --robomimic-git DIR               # every bundled robomimic, from a checkout
    python -m tools.refresh_conf --robomimic-git DIR v0.5.0=0.5.0 master

Each schema is what robomimic's own ``config_factory`` says about every registered
algorithm (defaults in key order, open sub-configs, plain dicts), printed by
``launcher/robomimic/dump_config.py``, plus the robomimic's profile (its family, from
distinctive keys, and what its ``scripts/train.py`` takes) and where it was recorded
from. ``launcher/robomimic/schema_file.py`` stores it compactly (bc's shared sections
once, each algorithm's own section and differences); the file round-trips exactly.

From a git directory (bare is fine), each ``REF[=NAME]`` (default: the refs below) is
extracted into a temporary folder (``git archive REF robomimic/``) and its config code
is imported there in a subprocess that sees only that tree and ``six`` (``python -S``,
``PYTHONPATH=<tree>:<six>``), so nothing installed leaks in. Without ``--robomimic-git``,
the robomimic this Python imports is recorded under the name of its family
(``--name`` to choose). conf/ has nothing to regenerate: it serves each algorithm
from these files (hydra_plugins/robomimic_sweeper/robomimic_source.py).
"""
import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from launcher.robomimic import schema_file
from launcher.robomimic.installed import make_document, run_dump
from launcher.robomimic.versions import BUNDLED, SCHEMAS, family_of

# The bundled robomimics and the refs they are recorded from (issue 16): a release from its
# tag, a branch from itself.
REFS: Tuple[Tuple[str, str], ...] = tuple((f"v{name}" if name[0].isdigit() else name, name) for name in BUNDLED)


def git(git_dir: str, *args: str, text: bool = False) -> Any:
    """``git --git-dir GIT_DIR ARGS...``'s output: bytes, or ``text``."""
    return subprocess.run(["git", "--git-dir", git_dir, *args], check=True, capture_output=True, text=text).stdout


def six_folder() -> str:
    import six

    return os.path.dirname(six.__file__)


def extract_tree(git_dir: str, ref: str, into: Path) -> str:
    """``ref``'s ``robomimic/`` package into ``into``; its commit."""
    commit = git(git_dir, "rev-parse", f"{ref}^{{commit}}").decode().strip()
    archive = into / "robomimic.tar"
    archive.write_bytes(git(git_dir, "archive", ref, "robomimic/"))
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    archive.unlink()
    return commit


def isolated_env(tree: Path) -> Dict[str, str]:
    """For ``python -S``: only the tree and six are importable (no site-packages)."""
    return {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join([str(tree), six_folder()])}


def record_ref(git_dir: str, ref: str, name: str) -> Dict:
    """The schema document of ``ref``'s robomimic, its config code run in isolation."""
    with tempfile.TemporaryDirectory(prefix="refresh_conf_") as folder:
        tree = Path(folder)
        commit = extract_tree(git_dir, ref, tree)
        dump = run_dump([sys.executable, "-S"], isolated_env(tree), f"{ref} ({commit[:12]})")
        return make_document(dump, name, f"git {ref} (commit {commit})", tree / "robomimic" / "scripts" / "train.py")


def record_installed(name: Optional[str]) -> Tuple[str, Dict]:
    """The robomimic this Python imports, under ``name`` (default: its family)."""
    dump = run_dump([sys.executable], env=None, what="this Python's robomimic")
    name = name or family_of(dump["algorithms"])
    train_py = Path(dump["package"]) / "scripts" / "train.py"
    return name, make_document(dump, name, f"installed robomimic {dump['version']}", train_py)


def write(folder: Path, name: str, document: Dict) -> Path:
    path = folder / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(schema_file.text(document))
    return path


def parse_refs(items: List[str]) -> List[Tuple[str, str]]:
    if not items:
        return list(REFS)
    return [tuple(item.split("=", 1)) if "=" in item else (item, item) for item in items]  # type: ignore[misc]


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--robomimic-git", help="a git directory of robomimic (bare is fine)")
    parser.add_argument("refs", nargs="*", help="REF[=NAME] to record from --robomimic-git (default: all bundled)")
    parser.add_argument("--name", help="the name for the installed robomimic's schema (default: its family)")
    parser.add_argument("--schemas", type=Path, default=SCHEMAS, help="where the schema files go")
    args = parser.parse_args(argv)
    if args.robomimic_git is None:
        if args.refs:
            parser.error("REFs need --robomimic-git")
        name, document = record_installed(args.name)
        print(f"wrote {write(args.schemas, name, document)}")
        return
    for ref, name in parse_refs(args.refs):
        print(f"wrote {write(args.schemas, name, record_ref(args.robomimic_git, ref, name))}")


if __name__ == "__main__":
    main()
