"""A config generator in the style of the robocasa branch's scripts/config_gen/:
get_generator() names the wandb project and puts the configs beside the script,
make_generator() adds fixed settings in group -1 (guarded by `key not in
generator.parameters`), datasets as values_and_names, hidden params, a prepended
seed group, changes a value in place, and generates without the base name, with
extra flags for evaluation.

Test data for launcher.import_helper (tests/test_import_helper.py). It needs
robomimic master's or robocasa's ConfigGenerator (or launcher's drop-in).

    python config_gen_helper.py --script DIR/run.sh --name test --env robocasa --mod im --eval
"""
import argparse
import os

from robomimic.utils.hyperparam_utils import ConfigGenerator

DATASETS = [
    ({"path": "a.hdf5", "horizon": 500, "do_eval": True, "filter_key": "50_demos"}, "human-50"),
    ({"path": "b.hdf5", "horizon": 500, "do_eval": False, "filter_key": "3000_demos"}, "mg-3000"),
]


def get_generator(algo_name, config_file, args):
    name = "01-01-" + args.name  # a date prefix, fixed here so that the test is repeatable
    wandb_proj_name = "_".join(part for part in (algo_name, name, args.env, args.mod) if part)
    return ConfigGenerator(
        base_config_file=config_file,
        wandb_proj_name=wandb_proj_name,
        script_file=args.script,
        generated_config_dir=os.path.join(os.path.dirname(args.script), "json"),
    )


def set_env_settings(generator):
    generator.add_param(
        key="train.data",
        name="ds",
        group=123456,
        values_and_names=[([path], label) for path, label in DATASETS],
    )
    if "train.output_dir" not in generator.parameters:
        generator.add_param(key="train.output_dir", name="", group=-1, values=["/expdata/robocasa"])
    generator.add_param(
        key="observation",
        name="obsrandargs",
        group=-1,
        values=[{"encoder": {"rgb": {"obs_randomizer_kwargs": {"crop_height": 116, "num_crops": 1}}}}],
        hidename=True,
    )
    generator.add_param(key="experiment.rollout.n", name="", group=-1, values=[50], value_names=[""])


def set_output_dir(generator, algo_name):
    values = generator.parameters["train.output_dir"].values
    values[0] = values[0] + "/" + algo_name  # in place, as robocasa's helpers do


def set_wandb(generator, debug):
    generator.add_param(key="experiment.logging.log_wandb", name="", group=-1, values=[not debug])


def set_num_seeds(generator, n_seeds):
    generator.add_param(key="train.seed", name="seed", group=-10, values=list(range(1, n_seeds + 1)), prepend=True)


def main(args):
    algo_name = "bc_xfmr"
    generator = get_generator(algo_name, args.config, args)
    set_env_settings(generator)
    set_output_dir(generator, algo_name)
    set_wandb(generator, debug=True)
    set_num_seeds(generator, n_seeds=2)
    generator.generate(override_base_name=True, extra_flags="--eval_only" if args.eval else None)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=str, default="base.json")
    parser.add_argument("--script", type=str, required=True)
    parser.add_argument("--name", type=str, required=True)
    parser.add_argument("--env", type=str, default=None)
    parser.add_argument("--mod", type=str, default=None)
    parser.add_argument("--eval", action="store_true")
    main(parser.parse_args())
