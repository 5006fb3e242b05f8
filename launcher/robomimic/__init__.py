"""Everything that encodes robomimic's behaviour, in one place that the rest asks.

versions (which robomimics there are: each one's algorithms, schemas and profile, from
recorded data), selection (which one a sweep uses: ``launch.robomimic``), installed (the
robomimic an interpreter imports, its schema read by dump_config.py and cached),
schema_file (the recorded schemas' format), schema (one algorithm's keys, types and
``train.data`` rules), paths (where robomimic is installed, its dataset rule, where its
train.py writes a run), logs (the one reader of its log.txt and TensorBoard files),
tfevents (TensorBoard's file format) and train_command (how a run is trained). It
imports only :mod:`launcher.core`.
"""
