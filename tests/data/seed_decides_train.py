"""A train script whose train.seed decides how it ends: 1 succeeds; 2 fails the ordinary way
(a message, exit code 3); 3 fails the way robomimic's train.py does (the message, exit 0)."""
import json
import sys

config = json.load(open(sys.argv[sys.argv.index("--config") + 1]))
seed = config["train"]["seed"]
if seed == 2:
    print("something went wrong", flush=True)
    sys.exit(3)
if seed == 3:
    print("run failed with error:\nCUDA out of memory\n\nTraceback (most recent call last): ...")
    sys.exit(0)
print("finished run successfully!")
