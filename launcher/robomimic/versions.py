"""Which robomimic: its algorithms and schemas, and how its train.py and generator behave.

Why: robomimic is not one program. 0.3.0 (the package index's), 0.5.0 and master,
the robocasa and dexmimicgen branches and labs' forks take different keys, read
``train.data`` differently, resume (or not), and name runs by different generator
rules. A sweep must be checked against the robomimic that will train it, so every
question about robomimic goes to a :class:`Robomimic`: data, not code branches.

* Its **schemas**: per algorithm, the defaults (key order kept), the open sub-configs
  and the plain dicts, recorded from robomimic's own ``config_factory``: bundled for
  the robomimics below (``launcher/robomimic/schemas/<name>.json``, written by
  ``python -m tools.refresh_conf``), or read from the installed one
  (:mod:`launcher.robomimic.installed`).
* Its **profile** (:class:`Profile`): the semantics no config dump shows, from its
  *family* (which bundled robomimic it matches by distinctive keys, :func:`family_of`)
  and from its ``scripts/train.py`` (the options it takes, whether it writes
  ``last.pth``).

``launch.robomimic`` picks one (:mod:`launcher.robomimic.selection`): ``auto``,
``installed`` (:mod:`launcher.robomimic.installed`) or a bundled name.
"""
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from launcher.core.errors import SweepError
from launcher.core.keys import get_value, has_key, normalize_key
from launcher.robomimic import schema_file
from launcher.robomimic.schema import Schema

SCHEMAS = Path(__file__).parent / "schemas"

# Bundled robomimics, oldest first. 0.4.0's config code equals 0.3.0's (recorded dumps are byte-equal).
BUNDLED = ("0.3.0", "0.5.0", "master", "robocasa", "dexmimicgen")
NEWEST_RELEASE = "0.5.0"  # launch.robomimic=auto without an importable robomimic
AUTO, INSTALLED = "auto", "installed"
CHOICES = (AUTO, INSTALLED, *BUNDLED)
ENV_VAR = "ROBOMIMIC_SWEEP_ROBOMIMIC"  # run mode tells every training process (the stub reads it)


@dataclass(frozen=True)
class GeneratorRule:
    """How a robomimic's ``ConfigGenerator`` names runs and sets the wandb project by default."""

    name: str
    # "_" after the base name even when it is empty (0.3.0: "_bs_16"); else only between parts.
    leading_separator: bool
    # Written to experiment.logging.wandb_proj_name by default; None leaves the base's value.
    wandb_proj_name: Optional[str]


GENERATORS = {
    "0.3.0": GeneratorRule("0.3.0", leading_separator=True, wandb_proj_name="debug"),
    "master": GeneratorRule("master", leading_separator=False, wandb_proj_name=None),
    "robocasa": GeneratorRule("robocasa", leading_separator=False, wandb_proj_name="debug"),
}


@dataclass(frozen=True)
class Profile:
    """What a robomimic's train.py and generator do that its config dump does not show."""

    family: str  # the bundled robomimic whose semantics it has
    # train.data: "path" (one string; a list crashes train.py), "list" (a list of dataset
    # dicts; a string crashes it), or "path_or_list".
    data: str
    # train.py turns a string train.data (and --dataset) into [{"path": ...}] before it
    # writes config.json, and runs rollouts in one env per dataset (0.5, master).
    data_as_list: bool
    # --resume: None, "only_folder" (<output_dir>/<name>/ must hold exactly one timestamp
    # folder), or "latest_folder" (the newest one).
    resume: Optional[str]
    last_checkpoint: bool  # writes <timestamp folder>/last.pth and last_bak.pth every epoch
    generator: str  # whose ConfigGenerator rules names and defaults follow (GENERATORS)
    first_epoch: int  # robocasa's loop starts at 0 (an epoch with no training)
    train_args: Tuple[str, ...]  # the options its train.py takes

    @staticmethod
    def from_dict(data: Dict[str, Any]) -> "Profile":
        """A recorded profile; a trait recorded before it existed is its family's."""
        return Profile(**{**FAMILIES[data["family"]], **data, "train_args": tuple(data["train_args"])})

    def to_dict(self) -> Dict[str, Any]:
        return {**asdict(self), "train_args": list(self.train_args)}

    def trained_data(self, data: Any) -> Any:
        """``train.data`` as this robomimic's train.py leaves it in config.json."""
        return [{"path": data}] if self.data_as_list and isinstance(data, str) else data


# The families, measured on each tree (the research report, /work/research/robomimic/REPORT.md).
# Decided: dexmimicgen follows master's generator (issue 16, item 5): its own generator
# writes no script, and differs from master's only for an empty base name ("_" first)
# and by always writing its default wandb project "debug", which its defaults hold anyway.
FAMILIES: Dict[str, Dict[str, Any]] = {
    "0.3.0": dict(data="path", data_as_list=False, resume=None, generator="0.3.0", first_epoch=1),
    "0.5.0": dict(data="path_or_list", data_as_list=True, resume="only_folder", generator="master", first_epoch=1),
    "master": dict(data="path_or_list", data_as_list=True, resume="latest_folder", generator="master", first_epoch=1),
    "robocasa": dict(data="list", data_as_list=False, resume=None, generator="robocasa", first_epoch=0),
    "dexmimicgen": dict(data="path_or_list", data_as_list=False, resume="only_folder", generator="master",
                        first_epoch=1),
}
BASE_ARGS = ("--config", "--algo", "--name", "--dataset", "--debug")


def family_of(algorithms: schema_file.Algorithms) -> str:
    """The bundled family a robomimic belongs to, by keys only that family has.

    Version strings cannot tell (robocasa says 0.3.0, master 0.5.0), the keys can:
    ``experiment.mse`` is robocasa's, ``experiment.rollout.mode`` dexmimicgen's,
    ``train.normalize_weights_by_ds_size`` 0.5's; master differs from 0.5.0 in
    diffusion policy's ``train.seq_length`` (16). None of these: 0.3.0's.
    """
    bc = algorithms[schema_file.reference_algo(algorithms)]["defaults"]
    if has_key(bc, "experiment.mse"):
        return "robocasa"
    if has_key(bc, "experiment.rollout.mode"):
        return "dexmimicgen"
    if has_key(bc, "train.normalize_weights_by_ds_size"):
        diffusion = algorithms.get("diffusion_policy", {}).get("defaults", {})
        return "master" if get_value(diffusion, "train.seq_length") == 16 else "0.5.0"
    return "0.3.0"


def train_args(train_py: str) -> Tuple[str, ...]:
    """The options a train.py declares (``parser.add_argument("--resume", ...)``)."""
    return tuple(dict.fromkeys(re.findall(r"add_argument\(\s*[\"'](--[\w-]+)[\"']", train_py)))


def detect_profile(algorithms: schema_file.Algorithms, train_py: str) -> Profile:
    """A robomimic's profile: its family's, with what its train.py itself says about
    ``--resume`` and ``last.pth`` (a fork may have added either)."""
    family = family_of(algorithms)
    args = train_args(train_py) or BASE_ARGS
    traits = dict(FAMILIES[family])
    if "--resume" not in args:
        traits["resume"] = None
    elif traits["resume"] is None:
        traits["resume"] = "only_folder"  # a fork that added it: the stricter rule, 0.5.0's
    return Profile(family=family, last_checkpoint="last.pth" in train_py, train_args=args, **traits)


FAMILY_TITLES = {"0.3.0": "robomimic 0.3.0", "0.5.0": "robomimic 0.5.0", "master": "robomimic master",
                 "robocasa": "robomimic's robocasa branch", "dexmimicgen": "robomimic's dexmimicgen branch"}


@dataclass(frozen=True, eq=False)
class Robomimic:
    """One robomimic: its name, version, where its schema comes from, its algorithms, its profile."""

    name: str  # a bundled name, or "installed"
    version: str  # robomimic.__version__
    folder: Optional[str]  # the installed package folder; None for a bundled schema
    profile: Profile
    document: Dict[str, Any] = field(repr=False)  # the recorded schema file (schema_file's format)
    _schemas: Dict[str, Schema] = field(default_factory=dict, repr=False)

    @property
    def key(self) -> Tuple[str, Optional[str], str]:
        """What tells two robomimics apart."""
        return self.name, self.folder, self.version

    @property
    def title(self) -> str:
        """How messages name it: ``robomimic 0.5.0``, ``robomimic's robocasa branch``,
        ``the installed robomimic 0.3.0 (robocasa branch)``."""
        if self.folder is None:
            return FAMILY_TITLES[self.name]
        family = self.profile.family
        suffix = "" if family == self.version else f" ({FAMILY_TITLES[family]})"
        return f"the installed robomimic {self.version}{suffix}"

    def describe(self) -> str:
        """Where its schema came from, for the "Wrote N configs" line and the sweep's records."""
        if self.folder is None:
            return f"{self.title}, bundled schema"
        family = self.profile.family
        like = "" if family == self.version else f" (like {FAMILY_TITLES[family]})"
        return f"robomimic {self.version} installed at {self.folder}{like}"

    def record(self) -> Dict[str, Any]:
        """What a sweep records about it (robomimic.json, run mode's settings)."""
        return {"name": self.name, "version": self.version, "folder": self.folder, "title": self.title,
                "recorded_from": self.document.get("robomimic", {}).get("recorded_from"),
                "profile": self.profile.to_dict()}

    @property
    def selection(self) -> str:
        """The ``launch.robomimic`` value that picks it again (a bundled name, or ``installed``):
        what run mode tells each training in ENV_VAR."""
        return INSTALLED if self.folder is not None else self.name

    @property
    def generator(self) -> GeneratorRule:
        return GENERATORS[self.profile.generator]

    def algorithms(self) -> List[str]:
        """Its registered algorithms, in registration order."""
        return list(self.document["algorithms"])

    def schema(self, algo: Any, source: str) -> Schema:
        """The schema of ``algo``; a SweepError listing the choices if it has no such algorithm."""
        if algo not in self.document["algorithms"]:
            message = (f"{source}: algo_name {algo!r} is not an algorithm of {self.title}; "
                       f"choose one of {', '.join(self.algorithms())}")
            raise SweepError(message + others_with_algorithm(self, algo))
        if algo not in self._schemas:
            entry = schema_file.unpack_algorithm(self.document, algo)
            self._schemas[algo] = Schema(
                algo=algo, defaults=entry["defaults"], open_paths=frozenset(entry["open"]),
                plain_dicts=frozenset(entry["plain_dicts"]), owner=self.title, data_form=self.profile.data,
                elsewhere=lambda key, algo=algo: others_with_key(self, algo, key),
            )
        return self._schemas[algo]

    def defaults(self, algo: str) -> Dict[str, Any]:
        """A fresh copy of ``algo``'s defaults (what conf/ composes for ``algo=<name>``)."""
        return schema_file.unpack_algorithm(self.document, algo)["defaults"]


def from_document(document: Dict[str, Any], folder: Optional[str] = None) -> Robomimic:
    about = document["robomimic"]
    return Robomimic(name=about["name"], version=about["version"], folder=folder,
                     profile=Profile.from_dict(document["profile"]), document=document)


_BUNDLED: Dict[str, Robomimic] = {}


def bundled(name: str) -> Robomimic:
    """A bundled robomimic, read once per process."""
    if name not in _BUNDLED:
        _BUNDLED[name] = from_document(schema_file.read(str(SCHEMAS / f"{name}.json")))
    return _BUNDLED[name]


def _others(robomimic: Robomimic, has: Callable[[Robomimic], bool]) -> str:
    """``; robomimic's robocasa branch has it: launch.robomimic=robocasa`` for the other
    bundled robomimics where ``has`` holds; "" if none."""
    names = [n for n in BUNDLED if n != robomimic.name and has(bundled(n))]
    if not names:
        return ""
    titles = [bundled(n).title for n in names]
    who = titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]
    verb = "has" if len(names) == 1 else "have"
    return f"; {who} {verb} it: launch.robomimic={' or '.join(names)}"


def others_with_key(robomimic: Robomimic, algo: str, key: str) -> str:
    def has(other: Robomimic) -> bool:
        return algo in other.document["algorithms"] and has_key(other.defaults(algo), normalize_key(key))

    return _others(robomimic, has)


def others_with_algorithm(robomimic: Robomimic, algo: Any) -> str:
    return _others(robomimic, lambda other: algo in other.document["algorithms"])


def checked_against(robomimic: Robomimic) -> str:
    """How a sweep's lines name the robomimic its configs were checked against."""
    return f"checked against {robomimic.describe()}"
