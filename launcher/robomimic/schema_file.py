"""The file format of a recorded robomimic: compact, reviewable, and exact.

A robomimic's config code answers, per algorithm, its defaults (key order matters:
robomimic writes them in that order), its open sub-configs and its plain dicts
(launcher/robomimic/dump_config.py). Stored whole that is 50-60 KB per robomimic of
mostly repeated text: every algorithm shares ``experiment``, ``train``,
``observation`` and ``meta`` with bc, give or take a few leaves. So a file keeps:

* ``shared``: the reference algorithm's (bc's) sections other than ``algo``, once;
* ``layout``: the reference's top-level keys, in order;
* per algorithm: its top-level values that are not shared (``algo_name``, ``algo``,
  and any section whose *shape* differs from the reference's, stored whole: hbc and
  iris nest ``observation`` per sub-policy), under ``own``; and under ``changed``,
  the leaves where a shared section's values differ (same shape, so key order is
  the reference's); an algorithm with other top-level keys is stored ``whole``;
* ``robomimic`` (name, version, where it was recorded from) and ``profile`` (its
  semantics, launcher/robomimic/versions.py).

:func:`unpack` rebuilds every algorithm exactly, key order included;
:func:`pack` refuses to write what would not round-trip. Bundled files live in
``launcher/robomimic/schemas/``; the cache of installed robomimics uses the same format.
"""
import copy
import json
from typing import Any, Dict

FORMAT = 1
Algorithms = Dict[str, Dict[str, Any]]  # algo -> {"defaults", "open", "plain_dicts"}


def same_shape(a: Any, b: Any) -> bool:
    """Whether ``b`` is ``a`` with other leaf values: the same keys in the same order at every level."""
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same_shape(a[k], b[k]) for k in a)
    return not isinstance(a, dict) and not isinstance(b, dict)


def _changed_leaves(reference: Dict[str, Any], value: Dict[str, Any]) -> Dict[str, Any]:
    """The leaves of ``value`` (same shape as ``reference``) that differ, as a nested dict.
    A leaf is never a dict (same shape), so every dict here is a path."""
    out: Dict[str, Any] = {}
    for key, sub in value.items():
        ref = reference[key]
        if isinstance(sub, dict):
            inner = _changed_leaves(ref, sub)
            if inner:
                out[key] = inner
        elif sub != ref or type(sub) is not type(ref):
            out[key] = sub
    return out


def _apply_leaves(target: Dict[str, Any], changed: Dict[str, Any]) -> None:
    for key, sub in changed.items():
        if isinstance(sub, dict):
            _apply_leaves(target[key], sub)
        else:
            target[key] = sub


def reference_algo(algorithms: Algorithms) -> str:
    return "bc" if "bc" in algorithms else next(iter(algorithms))


def pack(algorithms: Algorithms, robomimic: Dict[str, Any], profile: Dict[str, Any]) -> Dict[str, Any]:
    """The compact document for ``algorithms``; raises ValueError if it would not round-trip."""
    reference_name = reference_algo(algorithms)
    reference = algorithms[reference_name]["defaults"]
    shared = {k: v for k, v in reference.items() if isinstance(v, dict) and k != "algo"}
    packed: Dict[str, Any] = {}
    for algo, entry in algorithms.items():
        defaults = entry["defaults"]
        stored: Dict[str, Any]
        if list(defaults) != list(reference):
            stored = {"whole": defaults}  # another top-level layout
        else:
            stored = {"own": {}, "changed": {}}
            for key, value in defaults.items():
                if key in shared and same_shape(shared[key], value):
                    leaves = _changed_leaves(shared[key], value)
                    if leaves:
                        stored["changed"][key] = leaves
                else:
                    stored["own"][key] = value
        packed[algo] = {**stored, "open": entry["open"], "plain_dicts": entry["plain_dicts"]}
    document = {"format": FORMAT, "robomimic": robomimic, "profile": profile, "reference": reference_name,
                "layout": list(reference), "shared": shared, "algorithms": packed}
    if _text(unpack(document)) != _text(algorithms):
        raise ValueError("the compact schema does not round-trip")
    return document


def unpack(document: Dict[str, Any]) -> Algorithms:
    """Every algorithm's ``defaults``, ``open`` and ``plain_dicts``, exactly as recorded."""
    return {algo: unpack_algorithm(document, algo) for algo in document["algorithms"]}


def unpack_algorithm(document: Dict[str, Any], algo: str) -> Dict[str, Any]:
    """One algorithm's entry, built only when it is asked for (a fresh copy each time)."""
    if document.get("format") != FORMAT:
        raise ValueError(f"unknown schema format {document.get('format')!r}")
    entry = document["algorithms"][algo]
    if "whole" in entry:
        defaults = copy.deepcopy(entry["whole"])
    else:
        shared, own = document["shared"], entry["own"]
        defaults = {}
        for key in document["layout"]:
            if key in own:
                defaults[key] = copy.deepcopy(own[key])
            else:
                defaults[key] = copy.deepcopy(shared[key])
                _apply_leaves(defaults[key], entry["changed"].get(key, {}))
    return {"defaults": defaults, "open": list(entry["open"]), "plain_dicts": list(entry["plain_dicts"])}


def _text(algorithms: Algorithms) -> str:
    return json.dumps(algorithms, indent=1)


def read(path: str) -> Dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def text(document: Dict[str, Any]) -> str:
    """The file's text: one key a line, so that a diff between two recordings reads well."""
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"
