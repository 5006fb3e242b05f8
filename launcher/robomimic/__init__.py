"""Everything that encodes robomimic's behaviour, in one place that the rest asks.

schema (which keys an algorithm's config has, from data recorded from robomimic),
paths (where robomimic is installed, its dataset rule, where its train.py writes a
run), logs (the one reader of its log.txt and TensorBoard files), tfevents
(TensorBoard's file format) and train_command (how a run is trained). It imports
only :mod:`launcher.core`.
"""
