"""TensorBoard event files, written and read with the standard library alone.

Why: robomimic logs its metrics to ``logs/tb/`` through tensorboardX, train_stub.py must
write the same files, and the launcher's report reads them back, including from runs
that wrote no ``log.txt``. Neither may pull in tensorboard, tensorboardX, protobuf or
numpy: the stub must start in milliseconds and the launcher must not depend on a
training stack.

The format (TensorFlow's TFRecord framing around ``Event`` protobufs):

* a record is ``uint64 length``, ``uint32 masked_crc32c(length)``, ``data``,
  ``uint32 masked_crc32c(data)``, all little-endian;
* ``data`` is an ``Event``: ``wall_time`` (1, double), ``step`` (2, int64),
  ``file_version`` (3, string), ``summary`` (5, a ``Summary``);
* a ``Summary`` holds repeated ``Value`` (1): ``tag`` (1), ``simple_value`` (2, float),
  ``tensor`` (8, a ``TensorProto``), ``metadata`` (9, its ``plugin_data.plugin_name``
  says what a tensor is).

We write what tensorboardX writes for ``add_scalar``: a ``file_version`` event
(``brain.Event:2``) and then one event per scalar with ``simple_value``. Plugins' own
summaries (the report's HParams data, which tensorboard's code builds) are written
whole with :meth:`EventWriter.add_values`. We read
``simple_value`` and the tensor-encoded scalars of TF2 and tensorboard's own writers
(a one-element ``DT_FLOAT``/``DT_DOUBLE`` tensor, in ``float_val``, ``double_val`` or
``tensor_content``), and skip everything else (images, histograms, text, graphs).

A reader must survive a file that is still being written, or was cut off by a crash:
a truncated last record ends the file quietly, and a record whose data CRC is wrong is
skipped. A wrong *length* CRC means the framing itself is lost, so reading stops there.
"""
import os
import re
import struct
import time
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

FILE_VERSION = "brain.Event:2"
_HEADER = struct.Struct("<QI")
_U32 = struct.Struct("<I")
_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")
_DT_FLOAT, _DT_DOUBLE = 1, 2

Scalar = Tuple[str, int, float, float]  # tag, step, value, wall_time


# --- CRC-32C (Castagnoli), as TFRecord framing uses ---------------------------------

def _byte_table() -> List[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_T8 = _byte_table()
_FAST_TABLES: Optional[Tuple[List[int], List[int], List[int], List[int]]] = None


def _zeros(state: int, n: int) -> int:
    """The CRC state after ``n`` zero bytes."""
    for _ in range(n):
        state = _T8[state & 0xFF] ^ (state >> 8)
    return state


def _fast_tables() -> Tuple[List[int], List[int], List[int], List[int]]:
    """Four 65,536-entry tables that advance the CRC by 8 bytes in one step.

    The CRC is linear over GF(2). For the next 8 bytes, read as words ``w1`` and ``w2``:
    ``crc' = Z8(crc ^ w1) ^ Z4(w2)``, where ``Zn`` runs ``n`` zero bytes through the CRC,
    and each of ``Z8`` and ``Z4`` is the XOR of one table lookup per 16-bit half.
    Built on first use (about 40 ms), so writers of a few records never pay for it.
    """
    global _FAST_TABLES
    if _FAST_TABLES is None:
        def halves(n: int) -> Tuple[List[int], List[int]]:
            parts = [[_zeros(b << shift, n) for b in range(256)] for shift in (0, 8, 16, 24)]
            low = [parts[0][i & 0xFF] ^ parts[1][i >> 8] for i in range(65536)]
            high = [parts[2][i & 0xFF] ^ parts[3][i >> 8] for i in range(65536)]
            return low, high

        _FAST_TABLES = halves(8) + halves(4)
    return _FAST_TABLES


def crc32c(data: bytes) -> int:
    """CRC-32C of ``data``, a byte at a time: cheapest for a few short records."""
    crc = 0xFFFFFFFF
    t = _T8
    for byte in data:
        crc = t[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


_LAYOUTS: Dict[int, Tuple[struct.Struct, int, int]] = {}


def _layout(n: int) -> Tuple[struct.Struct, int, int]:
    """How :func:`crc32c_fast` unpacks ``n`` bytes: 8-byte words, a 4-byte word, bytes."""
    layout = _LAYOUTS.get(n)
    if layout is None:
        whole, rest = n >> 3, n & 7
        layout = _LAYOUTS[n] = (struct.Struct(f"<{whole}Q{rest >> 2}I{rest & 3}B"), whole, rest >> 2)
    return layout


def crc32c_fast(data: bytes) -> int:
    """CRC-32C of ``data``, 8 bytes a step: about 4x faster than :func:`crc32c` once its
    tables are built, for readers and large writes. Unpacking all words in one call and
    one table lookup per 16 bits is what pure Python does fastest (measured)."""
    low8, high8, low4, high4 = _FAST_TABLES or _fast_tables()
    unpacker, whole, words = _layout(len(data))
    values = unpacker.unpack(data)
    crc = 0xFFFFFFFF
    for word in values[:whole]:
        x = crc ^ (word & 0xFFFFFFFF)
        w2 = word >> 32
        crc = low8[x & 0xFFFF] ^ high8[x >> 16] ^ low4[w2 & 0xFFFF] ^ high4[w2 >> 16]
    if words:
        x = crc ^ values[whole]
        crc = low4[x & 0xFFFF] ^ high4[x >> 16]
    t = _T8
    for byte in values[whole + words:]:
        crc = t[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _mask(crc: int) -> int:
    """TFRecord's mask: rotate right by 15 and add a constant, so CRCs of CRCs differ."""
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


# --- protobuf wire format, the few fields we need -----------------------------------

def _varint(value: int) -> bytes:
    value &= 0xFFFFFFFFFFFFFFFF  # negative int64s take ten bytes, as protobuf writes them
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _length_delimited(field: int, payload: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def _read_varint(buf: bytes, pos: int) -> Tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _fields(buf: bytes) -> Iterator[Tuple[int, int, object]]:
    """(field number, wire type, value) for each field of a message; raises ValueError
    (or IndexError) on malformed input, which the caller turns into "skip this event"."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            size, pos = _read_varint(buf, pos)
            value, pos = buf[pos:pos + size], pos + size
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        if pos > end:
            raise ValueError("field runs past the message")
        yield field, wire, value


# --- writing ------------------------------------------------------------------------

_LENGTH_CRCS: Dict[bytes, int] = {}  # records repeat a few lengths: their CRCs are cached


def _length_crc(length: bytes) -> int:
    crc = _LENGTH_CRCS.get(length)
    if crc is None:
        crc = _LENGTH_CRCS[length] = _mask(crc32c(length))
    return crc


def _frame_all(events: List[bytes], fast: bool) -> bytes:
    """TFRecord framing of ``events``; ``fast`` when enough events are written to pay
    for the fast CRC's tables."""
    crc = crc32c_fast if fast else crc32c
    out = []
    for data in events:
        length = struct.pack("<Q", len(data))
        out += (length, _U32.pack(_length_crc(length)), data, _U32.pack(_mask(crc(data))))
    return b"".join(out)


def _event(wall_time: float, step: int, rest: bytes) -> bytes:
    step_field = b"\x10" + _varint(step) if step else b""
    return b"\x09" + _F64.pack(wall_time) + step_field + rest


def _float32(value: float) -> bytes:
    try:
        return _F32.pack(value)
    except OverflowError:  # beyond float32: what a float32 cast gives
        return _F32.pack(float("inf") if value > 0 else float("-inf"))


_SUMMARY_PREFIXES: Dict[str, bytes] = {}


def _summary_prefix(tag: str) -> bytes:
    """``summary { value { tag: ...`` up to the float's key, the same for every event of
    a tag: cached, since a writer repeats its tags every step."""
    prefix = _SUMMARY_PREFIXES.get(tag)
    if prefix is None:
        tag_field = _length_delimited(1, tag.encode())
        value_len = len(tag_field) + 5  # + simple_value's key and 4 bytes
        value = b"\x0a" + _varint(value_len) + tag_field
        summary_len = 1 + len(_varint(value_len)) + value_len
        prefix = _SUMMARY_PREFIXES[tag] = b"\x2a" + _varint(summary_len) + value + b"\x15"
    return prefix


def scalar_event(tag: str, value: float, step: int, wall_time: float) -> bytes:
    """One serialized ``Event`` holding ``Summary{Value{tag, simple_value}}``."""
    step_field = (b"\x10" + (bytes((step,)) if 0 < step < 128 else _varint(step))) if step else b""
    return b"\x09" + _F64.pack(wall_time) + step_field + _summary_prefix(tag) + _float32(float(value))


def values_event(values: Sequence[bytes], step: int, wall_time: float) -> bytes:
    """One serialized ``Event`` whose ``Summary`` holds ``values`` (serialized ``Summary.Value``)."""
    summary = b"".join(_length_delimited(1, v) for v in values)
    return _event(wall_time, step, _length_delimited(5, summary))


def _hostname() -> str:
    """``socket.gethostname()``, without importing socket (6 ms) where ``os.uname`` exists."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket
    return socket.gethostname()


class EventWriter:
    """Writes scalars to ``<logdir>/events.out.tfevents.<int time>.<hostname>``, the name
    tensorboardX gives its files (a ``.N`` suffix is added if that file exists already).

    Records are kept in memory until :meth:`flush` or :meth:`close` (a reader of a file
    being written sees whole records only); use it as a context manager to close it.
    """

    def __init__(self, logdir: str, filename_suffix: str = "") -> None:
        os.makedirs(logdir, exist_ok=True)
        base = os.path.join(logdir, f"events.out.tfevents.{int(time.time()):010d}.{_hostname()}")
        self.path = self._unused(base + filename_suffix)
        self._file = open(self.path, "xb")
        self._pending: List[bytes] = [_event(time.time(), 0, _length_delimited(3, FILE_VERSION.encode()))]
        self._written = 0

    @staticmethod
    def _unused(path: str) -> str:
        candidate, n = path, 0
        while os.path.exists(candidate):
            n += 1
            candidate = f"{path}.{n}"
        return candidate

    def add_scalar(self, tag: str, value: float, step: int, wall_time: Optional[float] = None) -> None:
        when = time.time() if wall_time is None else wall_time
        self._pending.append(scalar_event(tag, value, step, when))

    def add_values(self, values: Sequence[bytes], step: int = 0, wall_time: Optional[float] = None) -> None:
        """One event with ``values``: serialized ``Summary.Value`` messages (a plugin's own
        summaries, such as the report's HParams data, built by tensorboard's code)."""
        when = time.time() if wall_time is None else wall_time
        self._pending.append(values_event(values, step, when))

    def flush(self) -> None:
        if self._pending:
            self._written += len(self._pending)
            self._file.write(_frame_all(self._pending, fast=self._written > 2000))
            self._pending.clear()
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self.flush()
            self._file.close()

    def __enter__(self) -> "EventWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- reading ------------------------------------------------------------------------

def records(buf: bytes, check_crc: bool = True) -> Iterator[bytes]:
    """The data of each complete record in ``buf``.

    Stops at a truncated last record or at a length whose CRC is wrong (the framing is
    lost from there); skips a record whose data CRC is wrong. ``check_crc=False`` skips
    the data CRCs (the length CRCs are always checked; they are cached), for speed.
    """
    pos, end = 0, len(buf)
    header, u32 = _HEADER.unpack_from, _U32.unpack_from
    length_crc = _length_crc
    crc = crc32c_fast
    while pos + 12 <= end:
        length, stored = header(buf, pos)
        if length_crc(buf[pos:pos + 8]) != stored:
            return
        start = pos + 12
        stop = start + length
        if stop + 4 > end:
            return  # truncated: the writer had not finished this record
        data = buf[start:stop]
        pos = stop + 4
        if check_crc and _mask(crc(data)) != u32(buf, stop)[0]:
            continue
        yield data


def _tensor_scalar(tensor: bytes) -> Optional[float]:
    """The value of a one-element float or double ``TensorProto``, else None."""
    dtype, content, values, dims = 0, b"", [], []
    for field, wire, value in _fields(tensor):
        if field == 1 and wire == 0:
            dtype = value
        elif field == 2 and wire == 2:
            dims.extend(_dim_sizes(value))
        elif field == 4 and wire == 2:
            content = value
        elif field == 5:  # float_val: packed (wire 2) or not (wire 5)
            values.extend(struct.unpack(f"<{len(value) // 4}f", value))
        elif field == 6:  # double_val
            values.extend(struct.unpack(f"<{len(value) // 8}d", value))
    if any(size != 1 for size in dims):
        return None
    if dtype == _DT_FLOAT and len(content) == 4:
        return _F32.unpack(content)[0]
    if dtype == _DT_DOUBLE and len(content) == 8:
        return _F64.unpack(content)[0]
    if dtype in (_DT_FLOAT, _DT_DOUBLE) and len(values) == 1:
        return values[0]
    return None


def _dim_sizes(shape: bytes) -> Iterator[int]:
    for field, wire, dim in _fields(shape):
        if field == 2 and wire == 2:
            sizes = [size for f, w, size in _fields(dim) if f == 1 and w == 0]
            yield sizes[0] if sizes else 0


def _plugin_name(metadata: bytes) -> str:
    for field, wire, plugin_data in _fields(metadata):
        if field == 1 and wire == 2:
            for f, w, name in _fields(plugin_data):
                if f == 1 and w == 2:
                    return name.decode("utf-8", "replace")
    return ""


def _summary_scalars(summary: bytes) -> Iterator[Tuple[str, float]]:
    for field, wire, value in _fields(summary):
        if field != 1 or wire != 2:
            continue
        tag, simple, tensor, plugin = "", None, None, ""
        for f, w, v in _fields(value):
            if f == 1 and w == 2:
                tag = v.decode("utf-8", "replace")
            elif f == 2 and w == 5:
                simple = _F32.unpack(v)[0]
            elif f == 8 and w == 2:
                tensor = v
            elif f == 9 and w == 2:
                plugin = _plugin_name(v)
        if simple is not None:
            yield tag, simple
        elif tensor is not None and plugin in ("", "scalars"):
            number = _tensor_scalar(tensor)
            if number is not None:
                yield tag, number


# The one shape tensorboardX's add_scalar and our writer give an event:
# wall_time, step (absent when 0), summary { value { tag, simple_value } }.
_SIMPLE = re.compile(
    rb"\x09(.{8})(?:\x10([\x80-\xff]{0,9}[\x00-\x7f]))?\x2a([\x00-\x7f])\x0a([\x00-\x7f])"
    rb"\x0a([\x00-\x7f])(.*)\x15(.{4})", re.DOTALL)


def _simple_scalar(event: bytes) -> Optional[Scalar]:
    """The scalar of an event of that one shape, decoded in one regex match; None for
    any other event (the general decoder then reads it)."""
    m = _SIMPLE.fullmatch(event)
    if m is None:
        return None
    wall, step_bytes, summary_len, value_len, tag_len, tag, number = m.groups()
    n = tag_len[0]
    if len(tag) != n or value_len[0] != n + 7 or summary_len[0] != n + 9:
        return None
    step = 0
    if step_bytes:
        for shift, byte in enumerate(step_bytes):
            step |= (byte & 0x7F) << (7 * shift)
        if step >= 1 << 63:
            step -= 1 << 64
    return tag.decode("utf-8", "replace"), step, _F32.unpack(number)[0], _F64.unpack(wall)[0]


def _event_scalars(event: bytes) -> List[Scalar]:
    simple = _simple_scalar(event)
    if simple is not None:
        return [simple]
    wall_time, step, summaries = 0.0, 0, []
    for field, wire, value in _fields(event):
        if field == 1 and wire == 1:
            wall_time = _F64.unpack(value)[0]
        elif field == 2 and wire == 0:
            step = value - (1 << 64) if value >= 1 << 63 else value
        elif field == 5 and wire == 2:
            summaries.append(value)
    return [(tag, step, number, wall_time) for s in summaries for tag, number in _summary_scalars(s)]


def read_scalars(path: str, check_crc: bool = True) -> Iterator[Scalar]:
    """``(tag, step, value, wall_time)`` for every scalar in the event file at ``path``,
    in file order. Non-scalar summaries and malformed events are skipped; a truncated
    last record is ignored. ``check_crc=False`` skips verifying each record's data CRC."""
    with open(path, "rb") as f:
        buf = f.read()
    for data in records(buf, check_crc):
        try:
            scalars = _event_scalars(data)
        except (ValueError, IndexError, struct.error):
            continue  # a record with a valid CRC but not an Event we understand
        yield from scalars


def event_files(logdir: str) -> List[str]:
    """The event files in ``logdir`` (not its subfolders), oldest name first, as
    TensorBoard picks them: any file whose name contains ``tfevents``."""
    try:
        names = sorted(n for n in os.listdir(logdir) if "tfevents" in n)
    except OSError:
        return []
    return [os.path.join(logdir, n) for n in names if os.path.isfile(os.path.join(logdir, n))]


def read_logdir(logdir: str, check_crc: bool = True) -> Dict[str, Dict[int, float]]:
    """All scalars of a run's TensorBoard folder as ``{tag: {step: value}}``; a later
    file's value for the same tag and step wins, as a resumed run's would."""
    out: Dict[str, Dict[int, float]] = {}
    for path in event_files(logdir):
        for tag, step, value, _ in read_scalars(path, check_crc):
            out.setdefault(tag, {})[step] = value
    return out
