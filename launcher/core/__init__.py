"""The pure core: robomimic's ConfigGenerator semantics with no Hydra, no OmegaConf, no files.

keys (one walker of ``a.b.c`` paths), params (grouped expansion and run names),
document (one run's robomimic JSON), render (the same JSON, fast), plan (a whole
sweep, ready to expand), status (the one type for a run's state) and errors (the
one exception for the user). Everything else builds on it; it imports nothing else.
"""
