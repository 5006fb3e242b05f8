"""A stand-in for robomimic's ``scripts/train.py`` that needs neither torch nor robomimic.

    python train_stub.py --config X.json [--algo ALGO] [--name NAME] [--dataset PATH] [--debug]

Same command line, same strictness and the same output layout as robomimic 0.3.0:

* the JSON is merged into the algorithm's defaults under robomimic's key lock
  (an unknown key is an error, except in the sub-configs robomimic leaves open),
  using the launcher's schema (launcher/robomimic_schema.json);
* ``train.data`` must be an existing file (it is not read);
* output goes to ``<train.output_dir>/<experiment.name>/<YYYYmmddHHMMSS>/`` with
  ``config.json``, ``logs/log.txt``, ``logs/tb/``, ``models/`` and ``videos/``; if
  ``<train.output_dir>/<experiment.name>`` exists it asks on stdin whether to delete
  it, as robomimic does (a relative ``train.output_dir`` is taken from the working
  directory; robomimic takes it from its package folder);
* ``logs/log.txt`` gets one ``Train Epoch N`` line per epoch with robomimic's metric
  names and a deterministic synthetic loss computed from the hyperparameters.

Unlike robomimic, which prints ``run failed with error:`` and exits 0, the stub
prints that and exits 1.
"""
import argparse
import datetime
import hashlib
import json
import math
import os
import shutil
import sys
import time
import traceback
from typing import Any, Dict

from launcher.schema import Schema


def merge(defaults: Dict[str, Any], update: Dict[str, Any]) -> None:
    """robomimic's ``Config.update``: sections merge key by key, anything else replaces."""
    for key, value in update.items():
        if isinstance(defaults.get(key), dict) and isinstance(value, dict):
            merge(defaults[key], value)
        else:
            defaults[key] = value


def load_config(args: argparse.Namespace) -> Dict[str, Any]:
    if args.config is not None:
        with open(args.config) as f:
            ext_cfg = json.load(f)
        source = args.config
        algo = ext_cfg.get("algo_name")
    else:
        ext_cfg, source, algo = {}, "--algo", args.algo
    schema = Schema.for_algo(algo, source)
    schema.check_config(ext_cfg, source)
    config = json.loads(json.dumps(schema.defaults))
    merge(config, ext_cfg)
    if args.dataset is not None:
        config["train"]["data"] = args.dataset
    if args.name is not None:
        config["experiment"]["name"] = args.name
    if args.debug:
        config["experiment"].update(epoch_every_n_steps=3, validation_epoch_every_n_steps=3)
        config["experiment"]["rollout"].update(rate=1, n=2, horizon=10)
        config["train"].update(num_epochs=2, output_dir="/tmp/tmp_trained_models")
    return config


def exp_dirs(config: Dict[str, Any]) -> Dict[str, str]:
    """robomimic's ``TrainUtils.get_exp_dir``, prompt included."""
    time_str = datetime.datetime.fromtimestamp(time.time()).strftime("%Y%m%d%H%M%S")
    base_output_dir = os.path.join(os.path.expanduser(config["train"]["output_dir"]), config["experiment"]["name"])
    if os.path.exists(base_output_dir):
        ans = input(f"WARNING: model directory ({base_output_dir}) already exists! \noverwrite? (y/n)\n")
        if ans == "y":
            print("REMOVING")
            shutil.rmtree(base_output_dir)
    run_dir = os.path.join(base_output_dir, time_str)
    dirs = {
        "run": run_dir,
        "logs": os.path.join(run_dir, "logs"),
        "models": os.path.join(run_dir, "models"),
        "videos": os.path.join(run_dir, "videos"),
    }
    os.makedirs(dirs["logs"])  # like robomimic, fails if this second's folder exists
    os.makedirs(os.path.join(dirs["logs"], "tb"))
    os.makedirs(dirs["videos"])
    if config["experiment"]["save"]["enabled"]:
        os.makedirs(dirs["models"])
    return dirs


def synthetic_loss(config: Dict[str, Any], epoch: int) -> float:
    """Decays from a level and at a rate that depend only on the hyperparameters."""
    digest = hashlib.sha256(
        json.dumps([config["algo"], config["train"]["seed"], config["train"]["batch_size"]], sort_keys=True).encode()
    ).digest()
    start = 1.0 + digest[0] / 255.0
    floor = 0.01 + digest[1] / 2550.0
    rate = 0.002 + digest[2] / 25500.0
    return floor + start * math.exp(-rate * epoch)


def learning_rate(config: Dict[str, Any]) -> Any:
    optim = config["algo"].get("optim_params", {})
    for net in optim.values():
        if isinstance(net, dict) and "learning_rate" in net:
            return net["learning_rate"]["initial"]
    return None


def train(config: Dict[str, Any]) -> None:
    data = os.path.expanduser(str(config["train"]["data"]))
    if config["train"]["data"] is None or not os.path.isfile(data):
        raise FileNotFoundError(f"dataset not found: {config['train']['data']}")
    dirs = exp_dirs(config)
    with open(os.path.join(dirs["run"], "config.json"), "w") as f:
        json.dump(config, f, indent=4)
    lr = learning_rate(config)
    with open(os.path.join(dirs["logs"], "log.txt"), "w") as log:
        log.write(f"\n============= New Training Run with Config =============\n{json.dumps(config, indent=4)}\n\n")
        for epoch in range(1, config["train"]["num_epochs"] + 1):
            loss = synthetic_loss(config, epoch)
            step_log = {"Loss": loss, "Policy/Loss": loss, "Optimizer/policy0_lr": lr}
            log.write(f"Train Epoch {epoch} {json.dumps(step_log, sort_keys=True)}\n")
    print(f"trained {config['train']['num_epochs']} epochs, output in {dirs['run']}")


def main(args: argparse.Namespace) -> int:
    try:
        config = load_config(args)
        train(config)
    except Exception as e:
        # robomimic's message, which the launcher also watches for.
        print("run failed with error:\n{}\n\n{}".format(e, traceback.format_exc()))
        return 1
    print("finished run successfully!")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="stand-in for robomimic's train.py")
    parser.add_argument("--config", type=str, default=None)
    parser.add_argument("--algo", type=str)
    parser.add_argument("--name", type=str, default=None)
    parser.add_argument("--dataset", type=str, default=None)
    parser.add_argument("--debug", action="store_true")
    sys.exit(main(parser.parse_args()))
