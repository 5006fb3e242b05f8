"""A train script that fails (exit 1) only for runs with an even train.seed."""
import argparse
import json
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--config")
config = json.load(open(parser.parse_args().config))
seed = config["train"]["seed"]
print(f"seed {seed}")
sys.exit(1 if seed % 2 == 0 else 0)
