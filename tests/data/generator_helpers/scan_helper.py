"""A lab's hyperparameter scan for robomimic, written the way robomimic's
scripts/hyperparam_helper.py is: a make_generator() function and --config/--script.

Test data for launcher.import_helper (tests/test_import_helper.py); it runs
unchanged with robomimic 0.3.0's ConfigGenerator too.

    python scan_helper.py --config /path/to/base.json --script /path/to/run.sh
"""
import argparse

import robomimic
import robomimic.utils.hyperparam_utils as HyperparamUtils


def make_generator(config_file, script_file):
    generator = HyperparamUtils.ConfigGenerator(base_config_file=config_file, script_file=script_file)

    # BC-RNN, horizon 10, for every run (empty names keep them out of the run names)
    for key, value in (("algo.rnn.enabled", True), ("train.seq_length", 10), ("algo.rnn.horizon", 10)):
        generator.add_param(key=key, name="", group=0, values=[value])

    # policy learning rate
    generator.add_param(
        key="algo.optim_params.policy.learning_rate.initial",
        name="plr",
        group=1,
        values=[1e-3, 1e-4],
    )

    # GMM on / off
    generator.add_param(key="algo.gmm.enabled", name="gmm", group=2, values=[True, False], value_names=["t", "f"])

    # a small RNN with a deep MLP, or a big RNN with none: zipped in group 3
    generator.add_param(key="algo.rnn.hidden_dim", name="rnnd", group=3, values=[400, 1000])
    generator.add_param(
        key="algo.actor_layer_dims",
        name="mlp",
        group=3,
        values=[[1024, 1024], []],
        value_names=["1024", "0"],
    )
    return generator


def main(args):
    generator = make_generator(config_file=args.config, script_file=args.script)
    generator.generate()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", type=str, help="the base config; the configs go next to it")
    parser.add_argument("--script", type=str, help="the script that trains every run")
    main(parser.parse_args())
