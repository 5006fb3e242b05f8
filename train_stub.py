"""A stand-in for robomimic's ``scripts/train.py`` that needs neither torch nor robomimic.

    python train_stub.py --config X.json [--algo ALGO] [--name NAME] [--dataset PATH] [--debug] [--resume]

Why: a sweep should be tried end to end (configs, launching, logs, checkpoints, the
report) in seconds on any machine, against the robomimic that would train it. So the
stub behaves as one robomimic's train.py: the one named by ``ROBOMIMIC_SWEEP_ROBOMIMIC``
(run mode sets it to the sweep's ``launch.robomimic``: a bundled name, or
``installed``), else the robomimic this interpreter imports, else the newest bundled
release (launcher/robomimic/versions.py). It takes that train.py's command line (0.5,
master and dexmimicgen's ``--resume``, dexmimicgen's ``--output`` and
``--auto-remove-exp``, robocasa's ``--eval_only``), is as strict, and writes what it
writes, with synthetic numbers:

* the JSON is merged into the algorithm's defaults under robomimic's key lock (that
  robomimic's recorded schema): unknown keys fail, values are not type-checked
  (robomimic does not either), plain dicts (``train.action_config``) merge one level
  deep, and robomimic's dataset-split asserts apply;
* ``train.data`` is read as that train.py reads it: one path (0.3.0; a list crashes
  it), a list of datasets ``{path, ...}`` (robocasa; a string crashes it), or either
  (0.5, master: a string becomes ``[{"path": ...}]`` in config.json; dexmimicgen);
  each path must exist, and several datasets refuse ``hdf5_cache_mode="all"``;
* output goes to ``<train.output_dir>/<experiment.name>/<YYYYmmddHHMMSS>/``
  (``config.json``, ``logs/log.txt``, ``logs/tb/``, ``models/``, ``videos/``), after
  robomimic's question whether to delete an existing ``<output_dir>/<name>`` (a
  relative ``train.output_dir`` is taken from the working directory; robomimic takes
  it from its package folder);
* ``logs/log.txt`` gets robomimic's blocks: ``Train Epoch N`` and an indent-4 JSON
  block with the metric names of the algorithm being run (diffusion policy's and
  ACT's too), ``Validation Epoch N`` when ``experiment.validate``, ``Epoch N Rollouts
  took ...`` / ``Env: NAME`` blocks when rollouts run, ``Epoch N Memory Usage: X MB``
  (robocasa's loop starts at epoch 0, which only logs that), and ``finished run
  successfully!``;
* ``logs/tb/`` gets the same scalars under robomimic's TensorBoard tags;
* ``models/`` gets one small (non-torch) file per checkpoint robomimic would save,
  under robomimic's name (``model_epoch_N[_best_validation_L][_ENV_success_S].pth``);
  where that train.py does (0.5, master, dexmimicgen), ``last.pth`` and
  ``last_bak.pth`` beside them every epoch, holding the stub's state (epoch, best
  values), which ``--resume`` reads back as robomimic does: the same
  ``<timestamp>`` folder (the newest; 0.5.0 and dexmimicgen require exactly one),
  ``last.pth`` or else ``last_bak.pth``, the epoch after the saved one, log.txt
  appended, a second TensorBoard file, robomimic's ``resuming ...`` lines.

The numbers are deterministic functions of the config: the learning rate (best near
1e-3), the network sizes and the batch size shape the loss curve, every other algo
setting shifts it slightly, and ``train.seed`` adds small noise. Rollout success rates
follow the loss. Nothing sleeps: a run takes milliseconds. The dataset is not read,
except for its env name (``data.attrs["env_args"]``), which is found by scanning the
file's first and last MiB, so that h5py is not needed (default ``Lift``).

Unlike robomimic, which prints ``run failed with error:`` and exits 0, the stub
prints that and exits 1.
"""
import argparse
import json
import math
import os
import re
import shutil
import sys
import time
import zlib
from typing import Any, Dict, FrozenSet, List, Optional, Tuple

from launcher.robomimic.resume import CHECKPOINT, ONLY_FOLDER
from launcher.robomimic.schema import Schema
from launcher.robomimic.tfevents import EventWriter
from launcher.robomimic.versions import BASE_ARGS

Config = Dict[str, Any]
Metrics = Dict[str, float]
DEFAULT_ENV = "Lift"


# --- config -------------------------------------------------------------------------

def merge(defaults: Dict[str, Any], update: Dict[str, Any], plain_dicts: FrozenSet[str] = frozenset(),
          prefix: str = "") -> None:
    """robomimic's ``Config.update``: sections merge key by key, a plain dict
    (``train.action_config``) by ``dict.update``, anything else replaces."""
    for key, value in update.items():
        if isinstance(defaults.get(key), dict) and isinstance(value, dict):
            if prefix + key in plain_dicts:
                defaults[key].update(value)
            else:
                merge(defaults[key], value, plain_dicts, f"{prefix}{key}.")
        else:
            defaults[key] = value


def check_keys(schema: Schema, ext: Dict[str, Any], source: str, defaults: Any = None, prefix: str = "") -> None:
    """robomimic's key lock, and only that: ``Config.update`` raises on a key the config
    lacks (outside its open sub-configs) but takes any value, ``null`` for an int too
    (``experiment.save.every_n_epochs: null`` is how robomimic turns that off)."""
    defaults = schema.defaults if defaults is None else defaults
    for key, value in ext.items():
        path = f"{prefix}{key}"
        schema.check_key(path, source)
        default = defaults.get(key) if isinstance(defaults, dict) else None
        if isinstance(default, dict) and isinstance(value, dict):  # check_key takes any key in a plain dict
            check_keys(schema, value, source, default, path + ".")


def load_config(args: argparse.Namespace, robomimic: Any) -> Config:
    if args.config is not None:
        with open(args.config) as f:
            ext_cfg = json.load(f)
        source = args.config
        algo = ext_cfg.get("algo_name")
    else:
        ext_cfg, source, algo = {}, "--algo", args.algo
    schema = robomimic.schema(algo, source)
    check_keys(schema, ext_cfg, source)
    config = json.loads(json.dumps(schema.defaults))
    merge(config, ext_cfg, schema.plain_dicts)
    if args.dataset is not None:
        # 0.5 and master read --dataset as a one-dataset list; the others as the path.
        config["train"]["data"] = robomimic.profile.trained_data(args.dataset)
    if args.name is not None:
        config["experiment"]["name"] = args.name
    if args.output is not None:
        config["train"]["output_dir"] = args.output
    if args.debug:
        config["experiment"].update(epoch_every_n_steps=3, validation_epoch_every_n_steps=3)
        config["experiment"]["rollout"].update(rate=1, n=2, horizon=10)
        config["train"].update(num_epochs=2, output_dir="/tmp/tmp_trained_models")
    return config



def check_splits(config: Config) -> None:
    """robomimic's ``TrainUtils.load_data_for_training`` asserts, with its messages."""
    train, validate = config["train"], config["experiment"]["validate"]
    if train["hdf5_validation_filter_key"] is not None:
        assert validate, "specified validation filter key {}, but config.experiment.validate is not set".format(
            train["hdf5_validation_filter_key"])
    if validate:
        assert not train["hdf5_normalize_obs"], "no support for observation normalization with validation data yet"
        assert train["hdf5_filter_key"] is not None and train["hdf5_validation_filter_key"] is not None, (
            "did not specify filter keys corresponding to train and valid split in dataset"
            " - please fill config.train.hdf5_filter_key and config.train.hdf5_validation_filter_key")


def dataset_paths(config: Config, profile: Any) -> List[str]:
    """The dataset files, found as the robomimic's train.py finds them, failing as it fails:
    0.3.0 expands one path (a list: ``expected str, ... not list``), robocasa iterates a
    list (a string: ``string indices must be integers``), the others take either; 0.5 and
    master rewrite a string as ``[{"path": ...}]``, which config.json then shows."""
    data = config["train"]["data"] = profile.trained_data(config["train"]["data"])
    if profile.data == "path":
        paths = [os.path.expanduser(data)]
    else:
        if isinstance(data, str) and profile.data == "path_or_list":
            data = [{"path": data}]
        paths = [os.path.expanduser(entry["path"]) for entry in data]
    for path in paths:
        if not os.path.exists(path):
            raise Exception("Dataset at provided path {} not found!".format(path))
    if len(paths) > 1:
        # robomimic's MetaDataset: caching "all" of several datasets is not supported (a bare assert).
        assert config["train"]["hdf5_cache_mode"] != "all"
    return paths


# --- files and folders --------------------------------------------------------------

def exp_dirs(config: Config, resume: Optional[str], auto_remove: bool = False) -> Dict[str, str]:
    """robomimic's ``TrainUtils.get_exp_dir``, prompt included. ``resume`` is the profile's
    rule when ``--resume`` was given: the newest ``<timestamp>`` folder, or the only one."""
    time_str = time.strftime("%Y%m%d%H%M%S", time.localtime())
    base_output_dir = os.path.join(os.path.expanduser(config["train"]["output_dir"]), config["experiment"]["name"])
    if resume is not None:
        assert os.path.exists(base_output_dir), \
            "Resuming training run, but output dir {} does not exist".format(base_output_dir)
        subdir_lst = os.listdir(base_output_dir)
        if resume == ONLY_FOLDER:
            assert len(subdir_lst) == 1, \
                "Found more than one subdir {} in output dir {}".format(subdir_lst, base_output_dir)
        time_str = sorted(subdir_lst)[-1]
        assert os.path.isdir(os.path.join(base_output_dir, time_str)), \
            "Found item {} that is not a subdirectory in {}".format(time_str, base_output_dir)
    elif os.path.exists(base_output_dir):
        ans = "y" if auto_remove else input(
            f"WARNING: model directory ({base_output_dir}) already exists! \noverwrite? (y/n)\n")
        if ans == "y":
            print("REMOVING")
            shutil.rmtree(base_output_dir)
    run_dir = os.path.join(base_output_dir, time_str)
    dirs = {name: os.path.join(run_dir, name) for name in ("logs", "models", "videos")}
    dirs["run"] = run_dir
    resuming = resume is not None
    if config["experiment"]["save"]["enabled"]:
        os.makedirs(dirs["models"], exist_ok=resuming)
    os.makedirs(dirs["logs"], exist_ok=resuming)  # like robomimic, fails if this second's folder exists
    os.makedirs(dirs["videos"], exist_ok=resuming)
    return dirs


class Tee:
    """robomimic's ``PrintLogger``: everything printed goes to the terminal and log.txt."""

    def __init__(self, path: str) -> None:
        self.terminal = sys.stdout
        print(f"STDOUT will be forked to {path}")
        self.log_file = open(path, "a")

    def write(self, message: str) -> None:
        self.terminal.write(message)
        self.log_file.write(message)

    def flush(self) -> None:
        self.terminal.flush()
        self.log_file.flush()

    def close(self) -> None:
        self.log_file.close()


def env_name_from_dataset(path: str) -> str:
    """``env_args["env_name"]`` from the raw bytes of an hdf5 file: attributes are stored
    uncompressed, near the start (or, when written last, the end) of the file."""
    pattern = re.compile(rb'"env_name":\s*"([^"\\]{1,200})"')
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 20)
            f.seek(max(0, os.fstat(f.fileno()).st_size - (1 << 20)))
            tail = f.read()
    except OSError:
        return DEFAULT_ENV
    match = pattern.search(head) or pattern.search(tail)
    return match.group(1).decode("utf-8", "replace") if match else DEFAULT_ENV


_STATM: List[int] = []  # an open /proc/self/statm: opening it every epoch costs more than the rest


def memory_mb() -> int:
    """The process's resident memory in MB, as robomimic logs it (psutil's rss / 1e6)."""
    try:
        if not _STATM:
            _STATM.append(os.open("/proc/self/statm", os.O_RDONLY))
        pages = int(os.pread(_STATM[0], 200, 0).split()[1])
        return int(pages * os.sysconf("SC_PAGE_SIZE") / 1000000)
    except (OSError, ValueError, IndexError, AttributeError):
        import resource
        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1000000)


_INVALID_TAG_CHARACTERS = re.compile(r"[^-/\w\.]")


class DataLogger:
    """robomimic's ``DataLogger``: TensorBoard scalars, with tensorboardX's tag cleaning
    and running mean/std/min/max for the keys logged with ``log_stats``."""

    def __init__(self, log_dir: str, enabled: bool) -> None:
        self.tb = EventWriter(os.path.join(log_dir, "tb")) if enabled else None
        self.history: Dict[str, List[float]] = {}

    def record(self, key: str, value: float, epoch: int, log_stats: bool = False) -> None:
        if log_stats or key in self.history:
            self.history.setdefault(key, []).append(value)
        if self.tb is None:
            return
        self.tb.add_scalar(self._clean(key), value, epoch)
        if log_stats:
            for stat, stat_value in self._stats(self.history[key]).items():
                self.tb.add_scalar(self._clean(f"{key}-{stat}"), stat_value, epoch)

    @staticmethod
    def _clean(tag: str) -> str:
        return _INVALID_TAG_CHARACTERS.sub("_", tag).lstrip("/")

    @staticmethod
    def _stats(values: List[float]) -> Dict[str, float]:
        mean = sum(values) / len(values)
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
        return {"mean": mean, "std": std, "min": min(values), "max": max(values)}

    def flush(self) -> None:
        if self.tb is not None:
            self.tb.flush()

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()


# --- synthetic training -------------------------------------------------------------

def _unit(*parts: Any) -> float:
    """A deterministic number in [-1, 1) from ``parts`` (zlib's CRC: hashlib costs 5 ms to import)."""
    return zlib.crc32(repr(parts).encode()) / 2 ** 31 - 1.0


class Curve:
    """How training goes, from the hyperparameters alone: ``level(epoch)`` falls from 1
    towards a floor, at a speed set by the learning rate (best at 1e-3) and the batch
    size, to a floor set by the network sizes; ``noise`` depends on ``train.seed``."""

    def __init__(self, config: Config) -> None:
        algo, train = config["algo"], config["train"]
        self.lr = first_learning_rate(algo)
        lr_quality = math.exp(-0.5 * ((math.log10(self.lr) + 3.0) / 0.75) ** 2) if self.lr > 0 else 0.0
        steps = config["experiment"]["epoch_every_n_steps"] or 100
        self.speed = 0.0015 * (0.05 + lr_quality) * steps * math.sqrt(train["batch_size"] / 100.0)
        capacity = network_size(algo)
        self.capacity = capacity / (capacity + 400.0)
        shift = 1.0 + 0.05 * _unit(json.dumps(algo, sort_keys=True))
        self.floor = (0.03 + 0.3 * (1.0 - self.capacity)) * shift
        self.seed = train["seed"]

    def level(self, epoch: int) -> float:
        return self.floor + (1.0 - self.floor) * math.exp(-self.speed * epoch)

    def noise(self, epoch: int, key: str) -> float:
        return 0.01 * _unit(self.seed, epoch, key)


def first_learning_rate(algo: Config) -> float:
    for net in algo.get("optim_params", {}).values():
        if isinstance(net, dict) and "learning_rate" in net:
            return float(net["learning_rate"]["initial"])
    return 1e-3


def network_size(algo: Config) -> int:
    size = sum(algo.get("actor_layer_dims") or []) + sum((algo.get("critic") or {}).get("layer_dims") or [])
    rnn = algo.get("rnn") or {}
    if rnn.get("enabled"):
        size += rnn.get("hidden_dim", 0) * rnn.get("num_layers", 1)
    return size or 512


def learning_rate(config: Config, net: str, epoch: int) -> float:
    """The rate robomimic logs during ``epoch``. Schedulers stepped per epoch log the rate
    of the epoch: multistep (``decay_factor`` per ``epoch_schedule`` milestone passed),
    linear (to ``decay_factor`` at ``epoch_schedule[0]``). Those stepped per batch
    (``step_every_batch``: diffusion policy's cosine with warm-up) log the mean over the
    epoch's batches, as robomimic averages every key of a batch's log."""
    schedule = config["algo"].get("optim_params", {}).get(net, {}).get("learning_rate")
    if not schedule:
        return 0.0
    initial, decay = schedule["initial"], schedule.get("decay_factor", 1.0)
    kind = schedule.get("scheduler_type", "multistep")
    milestones = schedule.get("epoch_schedule") or []
    if kind == "linear" and milestones:
        done = min(epoch - 1, milestones[0]) / milestones[0]
        return initial * (1.0 + (decay - 1.0) * done)
    if kind == "cosine" or schedule.get("step_every_batch"):
        steps = config["experiment"]["epoch_every_n_steps"] or 100
        total = steps * config["train"]["num_epochs"]
        factors = [batch_factor(schedule, step, total) for step in range((epoch - 1) * steps + 1, epoch * steps + 1)]
        return initial * sum(factors) / len(factors)
    if kind == "multistep":
        return initial * decay ** sum(1 for milestone in milestones if milestone <= epoch - 1)
    return initial


def batch_factor(schedule: Config, step: int, total: int) -> float:
    """diffusers' cosine schedule with warm-up, after ``step`` batches (robomimic master's
    LambdaLR): linear up to ``warmup_steps``, then half a cosine (``num_cycles``) down."""
    warmup = schedule.get("warmup_steps", 0)
    if step < warmup:
        return step / max(1, warmup)
    if schedule.get("scheduler_type") != "cosine":
        return 1.0
    progress = (step - warmup) / max(1, total - warmup)
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * schedule.get("num_cycles", 0.5) * 2.0 * progress)))


# Metric shapes: "loss" falls with training, "nll" too but below zero, "grad" falls to a
# non-zero level, "neg" is a negative loss that keeps falling (actor losses of Q-learning),
# "rise" grows (Q targets), "const" stays near its scale.
SHAPES = {
    "loss": lambda level, progress: level,
    "grad": lambda level, progress: 0.2 + level,
    "neg": lambda level, progress: -(0.5 + 0.5 * progress),
    "rise": lambda level, progress: 1.0 + progress,
    "const": lambda level, progress: 1.0,
    "nll": lambda level, progress: level - 0.4,  # a negative log-likelihood goes below 0
}


def critics(algo: Config) -> List[int]:
    return list(range(1, (algo.get("critic") or {}).get("ensemble", {}).get("n", 2) + 1))


def metric_spec(config: Config) -> Tuple[List[Tuple[str, str, float]], Dict[str, List[str]], List[str]]:
    """(key, shape, scale) of each logged metric, which keys ``Loss`` sums, and the
    optimizer names whose rates are logged: what robomimic 0.3.0's algorithm logs."""
    algo_name, algo = config["algo_name"], config["algo"]
    if algo_name == "bc":
        return bc_spec(algo)
    if algo_name == "diffusion_policy":  # algo/diffusion_policy.py: Loss is the noise-prediction L2 loss
        return [("Loss", "loss", 0.9), ("Policy_Grad_Norms", "grad", 0.4)], {}, ["policy0"]
    if algo_name == "act":  # robocasa's algo/act.py: Loss = reconstruction + kl_weight * KL
        metrics = [("Reconstruction_Loss", "loss", 0.4), ("KL_Loss", "loss", 0.002), ("Policy_Grad_Norms", "grad", 2.0)]
        return metrics, {"Loss": ["Reconstruction_Loss", "KL_Loss"]}, ["policy0"]
    if algo_name in ("bcq", "td3_bc", "cql"):
        return q_learning_spec(algo_name, algo)
    if algo_name == "iql":
        return iql_spec()
    return [("Loss", "loss", 1.0)], {}, [f"{net}0" for net in algo.get("optim_params", {})]


def bc_spec(algo: Config) -> Tuple[List[Tuple[str, str, float]], Dict[str, List[str]], List[str]]:
    grad = ("Policy_Grad_Norms", "grad", 0.03)
    if algo["gmm"]["enabled"] or algo.get("gaussian", {}).get("enabled"):
        # Loss is the negative log-likelihood of the action under the policy's distribution.
        return [("Loss", "nll", 6.0), grad], {"Log_Likelihood": ["-Loss"]}, ["policy0"]
    if algo.get("vae", {}).get("enabled"):
        extra = "Gumbel_Temperature" if algo["vae"]["prior"]["use_categorical"] else "Encoder_Variance"
        metrics = [("Reconstruction_Loss", "loss", 0.2), ("KL_Loss", "loss", 0.01), (extra, "const", 1.0), grad]
        return metrics, {"Loss": ["Reconstruction_Loss", "KL_Loss"]}, ["policy0"]
    metrics = [("L2_Loss", "loss", 0.2), ("L1_Loss", "loss", 0.1), ("Cosine_Loss", "loss", 0.9), grad]
    parts = ["L2_Loss", "L1_Loss", "Cosine_Loss"]
    if "l1_ns_weight" in algo.get("loss", {}):  # the dexmimicgen branch's extra loss
        metrics.insert(3, ("L1_NS_Loss", "loss", 0.1))
        parts.append("L1_NS_Loss")
    return metrics, {"Loss": parts}, ["policy0"]


def loss_weights(config: Config) -> Dict[str, float]:
    """The weights robomimic multiplies each logged loss by in ``Loss``."""
    algo = config["algo"]
    if config["algo_name"] == "bc":
        loss = algo.get("loss", {})
        names = {"L2_Loss": "l2_weight", "L1_Loss": "l1_weight", "Cosine_Loss": "cos_weight",
                 "L1_NS_Loss": "l1_ns_weight"}
        return {key: float(loss[name]) for key, name in names.items() if name in loss}
    if config["algo_name"] == "act":
        return {"KL_Loss": float(algo.get("act", {}).get("kl_weight", 1.0))}
    return {}


def q_learning_spec(algo_name: str, algo: Config) -> Tuple[List[Tuple[str, str, float]], Dict[str, List[str]], List[str]]:
    metrics: List[Tuple[str, str, float]] = []
    optimizers = [f"critic{i - 1}0" for i in critics(algo)]
    for i in critics(algo):
        metrics += [(f"Critic/Critic{i}_Loss", "loss", 0.15), (f"Critic/Critic{i}_Grad_Norms", "grad", 0.5)]
    metrics.append(("Critic/Done_Mask_Percentage", "const", 98.4))
    summed = [f"Critic/Critic{i}_Loss" for i in critics(algo)]
    if algo_name != "cql":
        metrics.append(("Critic/Q_Targets", "rise", 0.3))
    if algo_name == "bcq":
        metrics += [("Action_Sampler/Reconsruction_Loss", "loss", 0.19), ("Action_Sampler/KL_Loss", "loss", 0.005),
                    ("Action_Sampler/Encoder_Variance", "const", 1.0), ("Action_Sampler/Grad_Norms", "grad", 0.05)]
        summed.append("Action_Sampler/Loss")
        optimizers.insert(0, "action_sampler0")
    if algo_name != "bcq" or algo["actor"]["enabled"]:
        metrics += [("Actor/Loss", "neg", 2.3), ("Actor/Grad_Norms", "grad", 5.0)]
        summed.append("Actor/Loss")
        optimizers.insert(0, "actor0")
    if algo_name == "cql":
        metrics += cql_extras(algo, optimizers)
    parts = {"Loss": summed}
    if algo_name == "bcq":
        parts["Action_Sampler/Loss"] = ["Action_Sampler/Reconsruction_Loss", "Action_Sampler/KL_Loss"]
    return metrics, parts, sorted(optimizers)


def cql_extras(algo: Config, optimizers: List[str]) -> List[Tuple[str, str, float]]:
    metrics = [("Entropy_Weight", "const", 1.0), ("Entropy_Weight_Loss", "neg", 0.03),
               ("Entropy_Grad_Norms", "grad", 100.0), ("Critic/CQL_Weight", "const", 1.0),
               ("Critic/CQL_Weight_Loss", "neg", 3.0), ("Critic/CQL_Grad_Norms", "grad", 8.0)]
    if algo["actor"].get("target_entropy") is not None:
        optimizers.append("entropy0")
    gap = algo["critic"].get("target_q_gap")
    if gap is not None and gap >= 0.0:
        optimizers.append("cql0")
    return metrics


def iql_spec() -> Tuple[List[Tuple[str, str, float]], Dict[str, List[str]], List[str]]:
    metrics = [("actor/loss", "loss", 5.2), ("actor/log_prob", "loss", -5.3), ("critic/critic1_loss", "loss", 0.3),
               ("critic/critic1_pred", "rise", 0.1), ("vf/v_loss", "loss", 0.0003)]
    for group, scale in (("adv/adv", -0.02), ("adv/adv_weight", 0.98), ("vf/q_pred", -0.08), ("vf/v_pred", -0.05)):
        metrics += [(f"{group}/{stat}", "const", scale * factor)
                    for stat, factor in (("max", 0.5), ("mean", 1.0), ("min", 1.5), ("std", 0.3))]
    return metrics, {}, []


OPTIMIZER_NETS = {"policy0": "policy", "action_sampler0": "action_sampler", "actor0": "actor",
                  "entropy0": "actor", "cql0": "critic"}


class Trainer:
    """Synthetic epochs: the numbers robomimic would log, from the :class:`Curve`."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.curve = Curve(config)
        self.metrics, self.sums, self.optimizers = metric_spec(config)

    def epoch_log(self, epoch: int, validate: bool) -> Metrics:
        level = self.curve.level(epoch)
        progress = (1.0 - level) / (1.0 - self.curve.floor) if self.curve.floor < 1.0 else 0.0
        gap = 1.0 + 0.1 * self.curve.capacity if validate else 1.0  # bigger nets overfit more
        log: Metrics = {}
        for key, shape, scale in self.metrics:
            if validate and self._train_only(key):
                continue
            value = scale * SHAPES[shape](level * gap, progress)
            log[key] = value * (1.0 + self.curve.noise(epoch, ("valid/" if validate else "") + key))
        for total, parts in self.sums.items():
            log[total] = self._weighted_sum(parts, log)
        for name in self.optimizers:
            net = OPTIMIZER_NETS.get(name, re.sub(r"\d+$", "", name))
            log[f"Optimizer/{name}_lr"] = learning_rate(self.config, net, epoch)
        return log

    def _train_only(self, key: str) -> bool:
        return "Grad_Norms" in key or key.startswith("Critic/CQL_")

    def _weighted_sum(self, parts: List[str], log: Metrics) -> float:
        weights = loss_weights(self.config)
        total = 0.0
        for part in parts:
            sign, key = (-1.0, part[1:]) if part.startswith("-") else (1.0, part)
            total += sign * log.get(key, 0.0) * weights.get(key, 1.0)
        return total

    def rollout_log(self, epoch: int, env: str) -> Metrics:
        """Per-env rollout results: a success rate (a multiple of 1/n, as a mean of n
        episodes is) that rises as the loss falls, and the return and horizon it implies."""
        rollout = self.config["experiment"]["rollout"]
        n, horizon = max(1, rollout["n"]), rollout["horizon"]
        skill = (1.0 - self.curve.level(epoch)) * (1.0 - self.curve.floor) + 0.05 * _unit(self.curve.seed, epoch, env)
        successes = min(n, max(0, round(skill * n)))
        rate = successes / n
        steps = rate * 0.35 * horizon + (1.0 - rate) * horizon
        seconds = 0.002 * steps
        return {"Return": rate, "Horizon": steps, "Success_Rate": rate, "time": seconds, "Time_Episode": n * seconds / 60.0}


# --- the training loop, as robomimic's ----------------------------------------------

def timing(log: Metrics, started: float) -> Metrics:
    """robomimic's ``Time_*`` keys (minutes); here only the epoch's own time is real."""
    minutes = (time.time() - started) / 60.0
    shares = {"Data_Loading": 0.1, "Process_Batch": 0.05, "Train_Batch": 0.8, "Log_Info": 0.05}
    log.update({f"Time_{k}": minutes * share for k, share in shares.items()})
    log["Time_Epoch"] = minutes
    return log


def print_block(title: str, log: Metrics) -> None:
    print(title)
    print(json.dumps(log, sort_keys=True, indent=4))


def record(logger: DataLogger, section: str, log: Metrics, epoch: int) -> None:
    for k, v in log.items():
        if k.startswith("Time_"):
            logger.record(f"Timing_Stats/{section}_{k[5:]}", v, epoch)
        else:
            logger.record(f"{'Train' if section == 'Train' else 'Valid'}/{k}", v, epoch)


class Saver:
    """robomimic's checkpoint decisions and names, epoch by epoch."""

    def __init__(self, config: Config, models_dir: str, envs: List[str]) -> None:
        self.save = config["experiment"]["save"]
        self.dir = models_dir
        self.last_time = time.time()
        self.best_valid: Optional[float] = None
        self.best_return = {env: -math.inf for env in envs}
        self.best_success = {env: -1.0 for env in envs}

    def recurring(self, epoch: int) -> Tuple[bool, Optional[str]]:
        if not self.save["enabled"]:
            return False, None
        every_s, every_e = self.save["every_n_seconds"], self.save["every_n_epochs"]
        due = ((every_s is not None and time.time() - self.last_time > every_s)
               or (every_e is not None and epoch > 0 and epoch % every_e == 0)
               or epoch in self.save["epochs"])
        if due:
            self.last_time = time.time()
        return due, "time" if due else None

    def on_validation(self, name: str, loss: Optional[float]) -> Tuple[str, bool]:
        if loss is None or not (self.best_valid is None or loss <= self.best_valid):
            return name, False
        self.best_valid = loss
        if self.save["enabled"] and self.save["on_best_validation"]:
            return name + f"_best_validation_{loss}", True
        return name, False

    def on_rollouts(self, name: str, logs: Dict[str, Metrics]) -> Tuple[str, bool, Optional[str]]:
        save, reason = False, None
        for env, log in logs.items():
            if log["Return"] > self.best_return[env]:
                self.best_return[env] = log["Return"]
                if self.save["on_best_rollout_return"]:
                    name, save, reason = name + f"_{env}_return_{self.best_return[env]}", True, "return"
            if log["Success_Rate"] > self.best_success[env]:
                self.best_success[env] = log["Success_Rate"]
                if self.save["on_best_rollout_success_rate"]:
                    name, save, reason = name + f"_{env}_success_{self.best_success[env]}", True, "success"
        return name, save, reason

    def write(self, name: str, config: Config, epoch: int) -> None:
        path = os.path.join(self.dir, name + ".pth")
        with open(path, "w") as f:
            json.dump({"stub": "train_stub.py, not a torch checkpoint", "algo_name": config["algo_name"],
                       "epoch": epoch, "experiment": config["experiment"]["name"]}, f)
        print(f"save checkpoint to {path}")

    def state(self, epoch: int) -> Dict[str, Any]:
        """robomimic's ``variable_state``: what ``--resume`` restores."""
        return {"epoch": epoch, "best_valid_loss": self.best_valid, "best_return": self.best_return,
                "best_success_rate": self.best_success}

    def restore(self, state: Dict[str, Any]) -> int:
        """Take a saved ``variable_state`` back; the epoch to continue from."""
        self.best_valid = state["best_valid_loss"]
        self.best_return.update(state["best_return"] or {})
        self.best_success.update(state["best_success_rate"] or {})
        return int(state["epoch"]) + 1


class Latest:
    """``<timestamp folder>/last.pth`` and ``last_bak.pth`` (0.5, master, dexmimicgen): written
    every epoch, the copy kept in case a run dies while writing the first; what ``--resume`` reads."""

    def __init__(self, run_dir: str) -> None:
        self.path = os.path.join(run_dir, CHECKPOINT)
        self.backup = os.path.join(run_dir, "last_bak.pth")

    def save(self, config: Config, state: Dict[str, Any]) -> None:
        print("\nsaving latest model at {}...\n".format(self.path))
        with open(self.path, "w") as f:
            json.dump({"stub": "train_stub.py, not a torch checkpoint", "algo_name": config["algo_name"],
                       "variable_state": state}, f)
        print(f"save checkpoint to {self.path}")
        shutil.copyfile(self.path, self.backup)
        print("\nsaved backup of latest model at {}\n".format(self.backup))

    def load(self) -> Dict[str, Any]:
        print("*" * 50)
        print("resuming from ckpt at {}".format(self.path))
        try:
            state = self._read(self.path)
        except Exception as e:
            print("got error: {} when loading from {}".format(e, self.path))
            print("trying backup path {}".format(self.backup))
            state = self._read(self.backup)
        print("*" * 50)
        return state

    @staticmethod
    def _read(path: str) -> Dict[str, Any]:
        with open(path) as f:
            return json.load(f)["variable_state"]


def rollout_envs(config: Config, profile: Any, dataset: str) -> List[str]:
    """The envs rollouts run in, by the names the log uses: 0.5 and master make one per
    dataset to evaluate (``eval``), named by its ``key`` or its file's stem; the others
    ``experiment.env`` or the dataset's env, then ``experiment.additional_envs``."""
    experiment = config["experiment"]
    if profile.data_as_list:
        datasets = config["train"]["data"][:1] if experiment["env"] is not None else config["train"]["data"]
        return [entry.get("key") or os.path.splitext(os.path.basename(entry["path"]))[0]
                for entry in datasets if entry.get("eval", True)]
    env = experiment["env"] or env_name_from_dataset(dataset)
    return [env] + list(experiment.get("additional_envs") or [])


def use_goals(config: Config) -> bool:
    """robomimic's ``config.use_goals``: whether any goal observation is configured."""
    goal = config["observation"]["modalities"].get("goal") or {}
    return any(len(keys) > 0 for keys in goal.values())


def run_rollouts(trainer: Trainer, logger: DataLogger, envs: List[str], epoch: int) -> Dict[str, Metrics]:
    rollout = trainer.config["experiment"]["rollout"]
    logs = {}
    for env in envs:
        print("rollout: env={}, horizon={}, use_goals={}, num_episodes={}".format(
            env, rollout["horizon"], use_goals(trainer.config), rollout["n"]))
        logs[env] = trainer.rollout_log(epoch, env)
    for env, log in logs.items():
        for k, v in log.items():
            if k.startswith("Time_"):
                logger.record(f"Timing_Stats/Rollout_{env}_{k[5:]}", v, epoch)
            else:
                logger.record(f"Rollout/{k}/{env}", v, epoch, log_stats=True)
        print("\nEpoch {} Rollouts took {}s (avg) with results:".format(epoch, log["time"]))
        print(f"Env: {env}")
        print(json.dumps(log, sort_keys=True, indent=4))
    return logs


def learn(trainer: Trainer, logger: DataLogger, saver: Saver, epoch: int) -> Tuple[str, bool, Optional[str]]:
    """The epoch's training and validation: the checkpoint's name so far, whether to save, why."""
    started = time.time()
    train_log = timing(trainer.epoch_log(epoch, validate=False), started)
    name = f"model_epoch_{epoch}"
    should_save, reason = saver.recurring(epoch)
    print_block(f"Train Epoch {epoch}", train_log)
    record(logger, "Train", train_log, epoch)
    if trainer.config["experiment"]["validate"]:
        valid_log = timing(trainer.epoch_log(epoch, validate=True), time.time())
        record(logger, "Valid", valid_log, epoch)
        print_block(f"Validation Epoch {epoch}", valid_log)
        name, better = saver.on_validation(name, valid_log.get("Loss"))
        if better:
            should_save, reason = True, reason or "valid"
    return name, should_save, reason


def run_epoch(trainer: Trainer, logger: DataLogger, saver: Saver, envs: List[str], epoch: int,
              latest: Optional[Latest], learns: bool = True) -> None:
    """One epoch of robomimic's loop; ``learns`` is False for robocasa's epoch 0 and ``--eval_only``."""
    experiment = trainer.config["experiment"]
    name, should_save, reason = f"model_epoch_{epoch}", False, None
    if learns:
        name, should_save, reason = learn(trainer, logger, saver, epoch)
    rollout = experiment["rollout"]
    due = epoch % rollout["rate"] == 0 or (should_save and reason == "time")
    if rollout["enabled"] and epoch > rollout["warmstart"] and due:
        name, save, _ = saver.on_rollouts(name, run_rollouts(trainer, logger, envs, epoch))
        should_save = (experiment["save"]["enabled"] and save) or should_save
    if should_save:
        saver.write(name, trainer.config, epoch)
    if latest is not None:
        latest.save(trainer.config, saver.state(epoch))
    memory = memory_mb()
    logger.record("System/RAM Usage (MB)", memory, epoch)
    print(f"\nEpoch {epoch} Memory Usage: {memory} MB\n")
    # Whole epochs reach log.txt and TensorBoard as they end, for whoever watches the run.
    logger.flush()
    sys.stdout.flush()


def train(config: Config, profile: Any, args: argparse.Namespace) -> None:
    print("\n============= New Training Run with Config =============")
    print(json.dumps(config, indent=4))
    print("")
    resume = profile.resume if args.resume else None
    dirs = exp_dirs(config, resume, args.auto_remove_exp)
    if config["experiment"]["logging"]["terminal_output_to_txt"]:
        sys.stdout = sys.stderr = Tee(os.path.join(dirs["logs"], "log.txt"))
    paths = dataset_paths(config, profile)
    print("\n============= Loaded Environment Metadata =============")
    print("train_stub.py: synthetic training, the dataset is not read")
    envs = rollout_envs(config, profile, paths[0]) if config["experiment"]["rollout"]["enabled"] else []
    logger = DataLogger(dirs["logs"], config["experiment"]["logging"]["log_tb"])
    check_splits(config)
    latest = Latest(dirs["run"])
    state = latest.load() if resume else None
    with open(os.path.join(dirs["run"], "config.json"), "w") as f:
        json.dump(config, f, indent=4)
    trainer, saver = Trainer(config), Saver(config, dirs["models"], envs)
    start = profile.first_epoch
    if state is not None:
        start = saver.restore(state)
        print("*" * 50)
        print("resuming training from epoch {}".format(start))
        print("*" * 50)
    saves_latest = latest if profile.last_checkpoint else None
    try:
        for epoch in range(start, config["train"]["num_epochs"] + 1):
            run_epoch(trainer, logger, saver, envs, epoch, saves_latest, learns=epoch > 0 and not args.eval_only)
    finally:
        logger.close()


def selected_robomimic() -> Any:
    """The robomimic to behave as: ``$ROBOMIMIC_SWEEP_ROBOMIMIC`` (run mode sets it), else
    the one this interpreter imports, else the newest bundled release."""
    from launcher.robomimic.selection import from_environment

    return from_environment()


# robomimic's train.py options, all of them, as their argparse declares them: (flag, keywords).
# Every train.py takes versions.BASE_ARGS; the others only some, and the stub refuses those
# that the selected robomimic's train.py lacks (refuse_options).
OPTIONS: Tuple[Tuple[str, Dict[str, Any]], ...] = (
    ("--config", dict(type=str, default=None)),
    ("--algo", dict(type=str)),
    ("--name", dict(type=str, default=None)),
    ("--dataset", dict(type=str, default=None)),
    ("--debug", dict(action="store_true")),
    ("--resume", dict(action="store_true", help="0.5, master, dexmimicgen: continue the run")),
    ("--output", dict(type=str, default=None, help="dexmimicgen: train.output_dir")),
    ("--auto-remove-exp", dict(action="store_true", help="dexmimicgen: replace an earlier run unasked")),
    ("--eval_only", dict(action="store_true", help="robocasa: no training, only rollouts")),
)


class UsageError(Exception):
    """An option this robomimic's train.py does not have: argparse's error, exit 2."""


def refuse_options(args: argparse.Namespace, train_args: Tuple[str, ...]) -> None:
    """The options given that only some robomimics take and this one's train.py lacks, refused."""
    unknown = [flag for flag, _ in OPTIONS if flag not in BASE_ARGS and flag not in train_args
               and getattr(args, flag[2:].replace("-", "_")) not in (None, False)]  # argparse's dest
    if unknown:
        raise UsageError(f"unrecognized arguments: {' '.join(unknown)}")


def main(args: argparse.Namespace) -> int:
    stdout, stderr = sys.stdout, sys.stderr
    try:
        robomimic = selected_robomimic()
        refuse_options(args, robomimic.profile.train_args)
        config = load_config(args, robomimic)
        train(config, robomimic.profile, args)
    except UsageError as e:
        print(f"usage: train_stub.py [-h] [--config CONFIG] ...\ntrain_stub.py: error: {e}", file=sys.stderr)
        return 2
    except Exception as e:
        import traceback  # only on failure: it costs 5 ms to import

        # robomimic's message, which the launcher also watches for; into log.txt too.
        print("run failed with error:\n{}\n\n{}".format(e, traceback.format_exc()))
        return 1
    else:
        print("finished run successfully!")
        return 0
    finally:
        if isinstance(sys.stdout, Tee):  # so that a caller in the same process gets its stdout back
            sys.stdout.close()
        sys.stdout, sys.stderr = stdout, stderr


def parser() -> argparse.ArgumentParser:
    """robomimic's train.py options, all of them; those the selected robomimic lacks are refused."""
    parser = argparse.ArgumentParser(description="stand-in for robomimic's train.py")
    for flag, keywords in OPTIONS:
        parser.add_argument(flag, **keywords)
    return parser


if __name__ == "__main__":
    sys.exit(main(parser().parse_args()))
