"""Print what an importable robomimic's config code says about every registered algorithm.

    <python> dump_config.py        (writes one JSON object to stdout)

Why a standalone script: the launcher checks a sweep against the robomimic that will
train it, which lives in the training interpreter (``launch.python``), not necessarily
in the launcher's own. This file is run *by that interpreter*, so it imports only
robomimic's config code and the standard library (robomimic's config code needs only
``six``; torch is not touched). ``tools/refresh_conf.py`` runs it on a source tree
(``PYTHONPATH=<tree>``) to record the bundled schemas; the launcher runs it on an
installed robomimic and caches the answer (launcher/robomimic/installed.py).

For each algorithm in ``REGISTERED_CONFIGS`` (so a fork's own algorithm is included),
in registration order:

* ``defaults``: ``json.loads(config_factory(algo).dump())``, key order kept;
* ``open``: the sub-configs that take new keys (not key-locked: ``do_not_lock_keys``,
  and everything below them, since ``lock_keys`` does not recurse past them);
* ``plain_dicts``: values that are plain dicts, not sub-configs (``train.action_config``
  in 0.5+): ``Config.update`` merges them with ``dict.update``, one level deep, so they
  take any key too.
"""
import contextlib
import json
import os
import sys

# Run as a script, this folder comes first on sys.path; its modules must not hide anything.
if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]


def _walk(config, prefix, open_paths, plain_dicts, config_class):
    for key, value in config.items():
        if isinstance(value, config_class):
            if not value.is_key_locked:
                open_paths.append(prefix + key)
            _walk(value, prefix + key + ".", open_paths, plain_dicts, config_class)
        elif isinstance(value, dict):
            plain_dicts.append(prefix + key)


def dump():
    # robomimic prints warnings to stdout at import (no private macro file, isaacgym, ...).
    with contextlib.redirect_stdout(sys.stderr):
        import robomimic
        from robomimic.config import config_factory
        from robomimic.config.base_config import REGISTERED_CONFIGS
        from robomimic.config.config import Config

    algorithms = {}
    for algo in REGISTERED_CONFIGS:
        config = config_factory(algo)
        open_paths, plain_dicts = [], []
        _walk(config, "", open_paths, plain_dicts, Config)
        algorithms[algo] = {"defaults": json.loads(config.dump()), "open": open_paths, "plain_dicts": plain_dicts}
    return {
        "version": getattr(robomimic, "__version__", "unknown"),
        "package": os.path.dirname(os.path.abspath(robomimic.__file__)),
        "algorithms": algorithms,
    }


if __name__ == "__main__":
    json.dump(dump(), sys.stdout)
