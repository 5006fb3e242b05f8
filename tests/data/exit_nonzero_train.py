"""A train script that fails the ordinary way: a message and exit code 3."""
import sys

print("something went wrong", flush=True)
sys.exit(3)
