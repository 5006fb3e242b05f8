"""The pure core: robomimic's ConfigGenerator semantics with no Hydra, no OmegaConf, no files.

keys (one walker of ``a.b.c`` paths), params (grouped expansion and run names),
document (one run's robomimic JSON), schema (what robomimic's train.py accepts),
render (the same JSON, fast) and plan (a whole checked sweep). Everything above
this package (the checks, the files, run mode, the Hydra glue) builds on it.
"""
