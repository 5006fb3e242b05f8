"""TensorBoard's HParams dashboard data, encoded with the standard library alone.

Why: a sweep's report should open in ``tensorboard --logdir SWEEP_DIR/tensorboard`` as
one HParams session per run (its swept values, its metrics, its status), without making
tensorboard or protobuf a dependency of the launcher. The HParams plugin reads three
summaries, each a ``Summary.Value`` whose metadata names the plugin ``hparams`` and
holds a serialized ``HParamsPluginData`` (tensorboard/plugins/hparams/plugin_data.proto)
next to an empty float tensor:

* ``_hparams_/experiment`` (once, in the log dir's root): the hparams with their types
  and domains, and the metrics (scalar tags) to show;
* ``_hparams_/session_start_info`` (in each run's folder, which is the session): the
  run's hparam values;
* ``_hparams_/session_end_info``: its status (success, failure, running).

Metric values are ordinary scalars in the session's folder; the dashboard shows each
tag's last value. The field numbers below are protobuf's wire contract, copied from
tensorboard's ``.proto`` files; tests compare them with tensorboard's own descriptors.
"""
import json
import math
import struct
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from launcher.robomimic import tfevents
from launcher.robomimic.tfevents import _length_delimited, _varint

PLUGIN_NAME = "hparams"
EXPERIMENT_TAG = "_hparams_/experiment"
SESSION_START_INFO_TAG = "_hparams_/session_start_info"
SESSION_END_INFO_TAG = "_hparams_/session_end_info"

# api.proto enums
DATA_TYPE_STRING, DATA_TYPE_BOOL, DATA_TYPE_FLOAT64 = 1, 2, 3
STATUS_UNKNOWN, STATUS_SUCCESS, STATUS_FAILURE, STATUS_RUNNING = 0, 1, 2, 3

# The empty DT_FLOAT tensor of shape [0] that tensorboard's own hparams summaries carry
# (metadata.NULL_TENSOR): dtype (1) = 1, tensor_shape (2) = { dim (2) = { size 0 } }.
NULL_TENSOR = b"\x08\x01\x12\x02\x12\x00"

# message -> [(field number, field name, kind)]; kind is a scalar type or a message name;
# a leading "*" marks a repeated field. Only what the report writes and reads.
SCHEMAS: Dict[str, List[Tuple[int, str, str]]] = {
    "HParamsPluginData": [(1, "version", "int"), (2, "experiment", "Experiment"),
                          (3, "session_start_info", "SessionStartInfo"), (4, "session_end_info", "SessionEndInfo")],
    "Experiment": [(6, "name", "string"), (1, "description", "string"), (2, "user", "string"),
                   (3, "time_created_secs", "double"), (4, "hparam_infos", "*HParamInfo"),
                   (5, "metric_infos", "*MetricInfo")],
    "HParamInfo": [(1, "name", "string"), (2, "display_name", "string"), (3, "description", "string"),
                   (4, "type", "int"), (5, "domain_discrete", "ListValue"), (6, "domain_interval", "Interval"),
                   (7, "differs", "bool")],
    "Interval": [(1, "min_value", "double"), (2, "max_value", "double")],
    "MetricInfo": [(1, "name", "MetricName"), (3, "display_name", "string"), (4, "description", "string"),
                   (5, "dataset_type", "int")],
    "MetricName": [(1, "group", "string"), (2, "tag", "string")],
    "SessionStartInfo": [(1, "hparams", "*HparamsEntry"), (2, "model_uri", "string"), (3, "monitor_url", "string"),
                         (4, "group_name", "string"), (5, "start_time_secs", "double")],
    "HparamsEntry": [(1, "key", "string"), (2, "value", "Value")],
    "SessionEndInfo": [(1, "status", "int"), (2, "end_time_secs", "double")],
    # google/protobuf/struct.proto
    "ListValue": [(1, "values", "*Value")],
    "Value": [(1, "null_value", "int"), (2, "number_value", "double"), (3, "string_value", "string"),
              (4, "bool_value", "bool"), (6, "list_value", "ListValue")],
}
_WIRE = {"int": 0, "bool": 0, "double": 1, "string": 2}


# --- a small protobuf codec over SCHEMAS ---------------------------------------------

def encode(message: str, fields: Mapping[str, Any]) -> bytes:
    """Serialize ``fields`` (a dict by field name; repeated fields as lists) as ``message``.
    Every field present in the dict is written, default or not: a oneof member such as
    ``number_value: 0.0`` must be, to say which member is set."""
    out = []
    for number, name, kind in SCHEMAS[message]:
        if name not in fields:
            continue
        repeated = kind.startswith("*")
        kind = kind.lstrip("*")
        for value in (fields[name] if repeated else [fields[name]]):
            out.append(_encode_field(number, kind, value))
    return b"".join(out)


def _encode_field(number: int, kind: str, value: Any) -> bytes:
    if kind in ("int", "bool"):
        return _varint(number << 3) + _varint(int(value))
    if kind == "double":
        return _varint(number << 3 | 1) + struct.pack("<d", value)
    if kind == "string":
        return _length_delimited(number, value.encode())
    return _length_delimited(number, encode(kind, value))


def decode(message: str, data: bytes) -> Dict[str, Any]:
    """The fields of a serialized ``message`` by name; repeated fields as lists, unknown
    fields dropped."""
    by_number = {number: (name, kind) for number, name, kind in SCHEMAS[message]}
    out: Dict[str, Any] = {}
    for number, wire, raw in tfevents._fields(data):
        if number not in by_number:
            continue
        name, kind = by_number[number]
        repeated = kind.startswith("*")
        kind = kind.lstrip("*")
        if wire != _WIRE.get(kind, 2):
            continue
        value = _decode_field(kind, raw)
        if repeated:
            out.setdefault(name, []).append(value)
        else:
            out[name] = value
    return out


def _decode_field(kind: str, raw: Any) -> Any:
    if kind == "int":
        return raw
    if kind == "bool":
        return bool(raw)
    if kind == "double":
        return struct.unpack("<d", raw)[0]
    if kind == "string":
        return raw.decode("utf-8", "replace")
    return decode(kind, raw)


# --- what the report writes -----------------------------------------------------------

def hparam_value(value: Any, as_string: bool) -> Dict[str, Any]:
    """A ``google.protobuf.Value`` for one swept value: numbers and bools as themselves;
    anything else (lists, null), or every value of a key whose values mix types, as its
    JSON text, as the report's tables show it."""
    if as_string:
        return {"string_value": value if isinstance(value, str) else json.dumps(value)}
    if isinstance(value, bool):
        return {"bool_value": value}
    return {"number_value": float(value)}


def value_type(values: Iterable[Any]) -> int:
    """The one HParams data type that fits all of a key's values."""
    values = list(values)
    if values and all(isinstance(v, bool) for v in values):
        return DATA_TYPE_BOOL
    if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
        return DATA_TYPE_FLOAT64
    return DATA_TYPE_STRING


def hparam_info(key: str, values: Sequence[Any]) -> Dict[str, Any]:
    kind = value_type(values)
    info: Dict[str, Any] = {"name": key, "type": kind, "differs": len({json.dumps(v) for v in values}) > 1}
    if kind == DATA_TYPE_FLOAT64:
        info["domain_interval"] = {"min_value": float(min(values)), "max_value": float(max(values))}
    else:
        distinct = list(dict.fromkeys(json.dumps(v) for v in values))
        info["domain_discrete"] = {"values": [hparam_value(json.loads(v), kind == DATA_TYPE_STRING)
                                              for v in distinct]}
    return info


def experiment_value(hparams: Mapping[str, Sequence[Any]], metrics: Sequence[str], created: float) -> bytes:
    """The ``_hparams_/experiment`` summary value: ``hparams`` maps each key to its
    values across the runs; ``metrics`` are scalar tags in each session's folder."""
    experiment = {
        "time_created_secs": created,
        "hparam_infos": [hparam_info(key, values) for key, values in hparams.items()],
        "metric_infos": [{"name": {"group": "", "tag": tag}, "display_name": tag} for tag in metrics],
    }
    return _plugin_value(EXPERIMENT_TAG, {"experiment": experiment})


def session_start_value(hparams: Mapping[str, Any], string_keys: Iterable[str], start_time: float,
                        group_name: str = "") -> bytes:
    """``_hparams_/session_start_info``: one run's values (``string_keys`` are the keys
    the experiment declared as strings)."""
    strings = set(string_keys)
    info: Dict[str, Any] = {
        "hparams": [{"key": key, "value": hparam_value(value, key in strings)} for key, value in hparams.items()],
        "start_time_secs": start_time,
    }
    if group_name:
        info["group_name"] = group_name
    return _plugin_value(SESSION_START_INFO_TAG, {"session_start_info": info})


def session_end_value(status: int, end_time: Optional[float]) -> bytes:
    info: Dict[str, Any] = {"status": status}
    if end_time is not None:
        info["end_time_secs"] = end_time
    return _plugin_value(SESSION_END_INFO_TAG, {"session_end_info": info})


def _plugin_value(tag: str, plugin_data: Mapping[str, Any]) -> bytes:
    content = encode("HParamsPluginData", plugin_data)
    return tfevents.summary_value(tag, tfevents.plugin_metadata(PLUGIN_NAME, content), NULL_TENSOR)


# --- reading it back --------------------------------------------------------------------

def read_hparams(path: str) -> Dict[str, Dict[str, Any]]:
    """The HParams summaries of one event file, ``{tag: decoded HParamsPluginData}``
    (a later summary of the same tag wins)."""
    return {tag: decode("HParamsPluginData", content)
            for tag, _, content in tfevents.read_plugin_data(path, PLUGIN_NAME)}


def python_value(value: Mapping[str, Any]) -> Any:
    """A decoded ``google.protobuf.Value`` as Python."""
    for key in ("number_value", "string_value", "bool_value"):
        if key in value:
            return value[key]
    return None

