"""The demo dataset that ships with the launcher: robomimic's Lift task, low-dim, a few demos
(tools/make_demo_dataset.py made it). ``dataset=demo`` on the command line trains on it."""
from pathlib import Path

DATASET = Path(__file__).with_name("tiny_lift_low_dim.hdf5")
