"""launcher/robomimic/tfevents.py writes files TensorBoard reads, and reads what TensorBoard's
writers write, including half-written and damaged files.

The expected values come from outside the code under test: the CRC-32C check values of
RFC 3720, an event file written by tensorboard's own EventFileWriter (frozen below as
hex), and tensorboard's own reader where installed. Reading tensorboardX's files (real
robomimic runs) is in tests/integration, where tensorboardX is installed anyway.
"""
import struct
from pathlib import Path
from typing import List

import pytest

from launcher.robomimic import tfevents
from launcher.robomimic.tfevents import EventWriter, read_scalars

# RFC 3720 (iSCSI), B.4: CRC-32C test vectors; and the classic "123456789" check value.
CRC_VECTORS = {
    "32 zero bytes": (bytes(32), 0x8A9136AA),
    "32 0xff bytes": (b"\xff" * 32, 0x62A8AB43),
    "32 ascending bytes": (bytes(range(32)), 0x46DD794E),
    "32 descending bytes": (bytes(range(31, -1, -1)), 0x113FDB5C),
    "123456789": (b"123456789", 0xE3069283),
    "empty": (b"", 0x0),
}


@pytest.mark.parametrize("crc", [tfevents.crc32c, tfevents.crc32c_fast], ids=["bytewise", "8-byte steps"])
@pytest.mark.parametrize("data,expected", CRC_VECTORS.values(), ids=CRC_VECTORS.keys())
def test_crc32c_matches_the_rfc_vectors(crc, data, expected):
    assert crc(data) == expected


# Written by tensorboard 2.21's EventFileWriter with its own protobufs: a file_version
# event with source_metadata, then one event each (steps 1..7, wall times 100.5..106.5):
# a TF2 scalar as float_val (0.25), as tensor_content (-1.5), as a DT_DOUBLE (0.1); a
# histogram tensor (2x3); a text tensor; a TF1 image; a TF1 simple_value (2.0).
TENSORBOARD_FILE = bytes.fromhex(
    "4800000000000000fe92489d09cac6d8e5c5c1da411a0d627261696e2e4576656e743a32522e0a2c74656e736f72626f"
    "6172642e73756d6d6172792e7772697465722e6576656e745f66696c655f7772697465724838b4003700000000000000"
    "e7e8ca5909000000000020594010012a2a0a280a0d7466322f666c6f61745f76616c420a080112002a040000803e4a0b"
    "0a090a077363616c617273da765eb83c00000000000000c8b7a35209000000000060594010022a2f0a2d0a127466322f"
    "74656e736f725f636f6e74656e74420a0801120022040000c0bf4a0b0a090a077363616c6172737800f4e83800000000"
    "000000a3797d57090000000000a0594010032a2b0a290a0a7466322f646f75626c65420e0802120032089a9999999999"
    "b93f4a0b0a090a077363616c617273c81f88636e00000000000000c4bf3364090000000000e0594010042a610a5f0a0d"
    "7466322f686973746f6772616d423e08021208120208021202080332300000000000000000000000000000f03f000000"
    "00000000400000000000000840000000000000104000000000000014404a0e0a0c0a0a686973746f6772616d731dcb66"
    "5c300000000000000095f5d05f090000000000205a4010052a230a210a087466322f74657874420b0807120042056865"
    "6c6c6f4a080a060a0474657874d8a776e62800000000000000ff70164a090000000000605a4010062a1b0a190a097466"
    "312f696d616765220c080110011801220489504e47272b9da6200000000000000029eda950090000000000a05a401007"
    "2a130a110a0a7466312f73696d706c651500000040a14d3be6"
)
TENSORBOARD_SCALARS = [
    ("tf2/float_val", 1, 0.25, 100.5),
    ("tf2/tensor_content", 2, -1.5, 101.5),
    ("tf2/double", 3, 0.1, 102.5),
    ("tf1/simple", 7, 2.0, 106.5),
]


def f32(x: float) -> float:
    """What a float32 field holds for ``x``."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def write_file(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "events.out.tfevents.1.host"
    path.write_bytes(data)
    return path


def test_reads_tensorboards_scalars_and_skips_histograms_text_and_images(tmp_path):
    assert list(read_scalars(str(write_file(tmp_path, TENSORBOARD_FILE)))) == TENSORBOARD_SCALARS


def written(tmp_path: Path) -> Path:
    with EventWriter(str(tmp_path / "tb")) as w:
        w.add_scalar("Train/Loss", 0.5, 1, wall_time=10.0)
        w.add_scalar("Train/Loss", 0.1, 2, wall_time=11.0)
        w.add_scalar("Valid/Loss", -3.25, 2, wall_time=12.0)
        w.add_scalar("Rollout/Success_Rate/Lift", 1e39, 300, wall_time=13.0)
    (path,) = (tmp_path / "tb").iterdir()
    return path


WRITTEN = [
    ("Train/Loss", 1, 0.5, 10.0),
    ("Train/Loss", 2, f32(0.1), 11.0),
    ("Valid/Loss", 2, -3.25, 12.0),
    ("Rollout/Success_Rate/Lift", 300, float("inf"), 13.0),  # beyond float32, as a float32 cast gives
]


def test_round_trip_and_tensorboardx_file_name(tmp_path):
    path = written(tmp_path)
    assert path.name.startswith("events.out.tfevents.") and path.name.split(".")[3].isdigit()
    assert list(read_scalars(str(path))) == WRITTEN


def test_long_tags_and_large_or_negative_steps(tmp_path):
    """Lengths and steps past one varint byte take protobuf's longer encodings."""
    tag = "Rollout/" + "x" * 200
    with EventWriter(str(tmp_path)) as w:
        for step in (0, 127, 128, 2 ** 40, -1):
            w.add_scalar(tag, 1.5, step, wall_time=2.0)
    (path,) = tfevents.event_files(str(tmp_path))
    assert list(read_scalars(path)) == [(tag, s, 1.5, 2.0) for s in (0, 127, 128, 2 ** 40, -1)]
    loader = pytest.importorskip(
        "tensorboard.backend.event_processing.event_file_loader", reason="tensorboard is not installed")
    assert [(v.tag, e.step) for e in loader.EventFileLoader(path).Load() for v in e.summary.value] == \
        [(tag, s) for s in (0, 127, 128, 2 ** 40, -1)]


def test_tensorboard_reads_our_files(tmp_path):
    loader = pytest.importorskip(
        "tensorboard.backend.event_processing.event_file_loader", reason="tensorboard is not installed")
    from tensorboard.util import tensor_util

    events = list(loader.EventFileLoader(str(written(tmp_path))).Load())
    assert events[0].file_version == "brain.Event:2"
    seen = [(v.tag, e.step, float(tensor_util.make_ndarray(v.tensor)), e.wall_time)
            for e in events[1:] for v in e.summary.value]
    assert seen == WRITTEN


def record_ends(data: bytes) -> List[int]:
    """Offsets where each record of a TFRecord file ends, from its length fields."""
    ends, pos = [], 0
    while pos < len(data):
        pos += 12 + struct.unpack_from("<Q", data, pos)[0] + 4
        ends.append(pos)
    return ends


@pytest.mark.parametrize("cut", [1, 4, 5, 15, 16, 20], ids=lambda n: f"last {n} bytes missing")
def test_a_truncated_last_record_is_ignored(tmp_path, cut):
    data = written(tmp_path).read_bytes()
    assert list(read_scalars(str(write_file(tmp_path, data[:-cut])))) == WRITTEN[:-1]


def test_a_record_with_a_bad_data_crc_is_skipped(tmp_path):
    data = bytearray(written(tmp_path).read_bytes())
    second_scalar_end = record_ends(bytes(data))[2]
    data[second_scalar_end - 6] ^= 0xFF  # a byte of its float value
    path = write_file(tmp_path, bytes(data))
    assert list(read_scalars(str(path))) == [WRITTEN[0]] + WRITTEN[2:]
    assert len(list(read_scalars(str(path), check_crc=False))) == len(WRITTEN)


def test_a_bad_length_crc_ends_the_file(tmp_path):
    data = bytearray(written(tmp_path).read_bytes())
    data[record_ends(bytes(data))[2] + 8] ^= 0x01  # the third scalar's length CRC
    assert list(read_scalars(str(write_file(tmp_path, bytes(data))))) == WRITTEN[:2]


@pytest.mark.parametrize("junk", [b"", b"\x00", b"not an event file at all, just text"], ids=["empty", "one byte", "text"])
def test_junk_gives_nothing_and_no_error(tmp_path, junk):
    assert list(read_scalars(str(write_file(tmp_path, junk)))) == []


def test_read_logdir_merges_files_later_values_win(tmp_path):
    first = tmp_path / "events.out.tfevents.1.a"
    second = tmp_path / "events.out.tfevents.2.a"
    for path, value in ((first, 1.0), (second, 2.0)):
        with EventWriter(str(tmp_path / "w")) as w:
            w.add_scalar("x", value, 1)
        next((tmp_path / "w").iterdir()).rename(path)
    (tmp_path / "not_events.txt").write_text("ignored")
    assert tfevents.read_logdir(str(tmp_path)) == {"x": {1: 2.0}}


def test_two_writers_in_one_second_do_not_clobber_each_other(tmp_path):
    for value in (1.0, 2.0):
        with EventWriter(str(tmp_path)) as w:
            w.add_scalar("x", value, 1, wall_time=1.0)
    files = tfevents.event_files(str(tmp_path))
    assert sorted(v for f in files for _, _, v, _ in read_scalars(f)) == [1.0, 2.0]
