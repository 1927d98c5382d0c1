"""Tests of the .mmc container (mmcodec.container): round trips and hostile input."""
from __future__ import annotations

import json
import random
import struct
import subprocess
import sys
import time
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmcodec.container import (
    FORMAT_VERSION,
    MAGIC,
    MAX_HEADER_BYTES,
    InvalidMmcFileError,
    MmcFile,
    ModalityInfo,
    StreamInfo,
    _deflate_header,
    _inflate_header,
    looks_like_mmc,
    read_header,
    read_mmc,
    write_mmc,
)
from mmcodec.errors import ContainerError, MmcodecError

ROOT = Path(__file__).resolve().parents[1]


def sample(payload_size: int = 40) -> MmcFile:
    rng = random.Random(1)
    blob = lambda n: bytes(rng.randrange(256) for _ in range(n))  # noqa: E731
    return MmcFile(
        model_id="mbt2018-mean-q3", model_version=1, weights_digest="0123456789abcdef",
        modalities=[ModalityInfo("image", "image", 480, 640, 3, "uint8", 8, padded_height=512, padded_width=640),
                    ModalityInfo("depth", "depth", 240, 320, 1, "uint16", 12, unit="mm")],
        streams=[(StreamInfo("image/z", "image", (), (1, 192, 8, 10)), blob(payload_size)),
                 (StreamInfo("image/y", "image", ("image/z",), (1, 320, 32, 40)), blob(payload_size)),
                 (StreamInfo("depth/y", "depth", ("image/y", "image/z"), (1, 64, 15, 20)), blob(7)),
                 (StreamInfo("depth/side", "depth"), b"")],
        latent_digest="fedcba9876543210", codec_params={"architecture": "mbt2018-mean", "lambda": 0.0067,
                                                       "nested": {"list": [1, 2.5, None, True, "x"]}})


def split(data: bytes) -> tuple[dict, bytes]:
    """The header object of a well-formed file, and the bytes after the header CRC."""
    (length,) = struct.unpack_from("<I", data, 10)
    return json.loads(_inflate_header(data[14:14 + length])), data[18 + length:]


def build(header: object, body: bytes = b"\x00\x00", version: int = FORMAT_VERSION) -> bytes:
    """A file with any header object, a correct header CRC and the given body."""
    raw = _deflate_header(header if isinstance(header, bytes) else json.dumps(header).encode())
    return MAGIC + struct.pack("<HI", version, len(raw)) + raw + struct.pack("<I", zlib.crc32(raw)) + body


def error(data: bytes) -> str:
    with pytest.raises(ContainerError) as info:
        read_mmc(data)
    message = str(info.value)
    assert message and "\n" not in message
    return message


def read_or_error(data: bytes) -> MmcFile | None:
    """read_mmc must raise ContainerError (one line) or return a file write_mmc accepts again."""
    try:
        mmc = read_mmc(data)
    except ContainerError as e:
        assert "\n" not in str(e)
        return None
    assert read_mmc(write_mmc(mmc)) == mmc
    return mmc


# ---------------------------------------------------------------- round trips

def test_round_trip_two_modalities_with_dependencies() -> None:
    mmc = sample()
    data = write_mmc(mmc)
    assert data.startswith(MAGIC) and looks_like_mmc(data)
    back = read_mmc(data)
    assert back == mmc
    assert back.streams[2][0].depends_on == ("image/y", "image/z")
    assert back.modalities[1].unit == "mm" and back.modalities[0].padded_height == 512
    assert write_mmc(back) == data
    assert read_mmc(bytearray(data)) == mmc and read_mmc(memoryview(data)) == mmc


def test_header_is_compact_sorted_json() -> None:
    header, _ = split(write_mmc(sample()))
    raw = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert _deflate_header(raw) in write_mmc(sample())


def test_header_is_deflated_small_and_bomb_proof() -> None:
    data = write_mmc(sample())
    (length,) = struct.unpack_from("<I", data, 10)
    assert length < 0.6 * len(_inflate_header(data[14:14 + length]))
    bomb = _deflate_header(b" " * (MAX_HEADER_BYTES + 10))
    with pytest.raises(ContainerError, match="beyond"):
        read_mmc(MAGIC + struct.pack("<HI", 1, len(bomb)) + bomb + struct.pack("<I", zlib.crc32(bomb)) + b"\x00\x00")
    with pytest.raises(ContainerError, match="corrupt"):
        read_mmc(MAGIC + struct.pack("<HI", 1, 4) + b"\xff\xff\xff\xff" + struct.pack("<I", zlib.crc32(b"\xff" * 4)))


def test_read_header_skips_the_body() -> None:
    data = write_mmc(sample())
    header, body = split(data)
    prefix = data[:len(data) - len(body)]
    for blob in (data, prefix):
        mmc = read_header(blob)
        assert mmc.modalities == sample().modalities
        assert [s for s, _ in mmc.streams] == [s for s, _ in sample().streams]
        assert all(b == b"" for _, b in mmc.streams)


def test_looks_like_mmc() -> None:
    assert not looks_like_mmc(b"") and not looks_like_mmc(MAGIC[:7]) and not looks_like_mmc("text")
    assert looks_like_mmc(MAGIC)


# ---------------------------------------------------------------- damaged files

def test_every_truncation_is_an_error() -> None:
    data = write_mmc(sample(payload_size=5))
    for n in range(len(data)):
        message = error(data[:n])
        assert "truncated" in message or (n == 0 and "empty" in message), (n, message)


def test_empty() -> None:
    assert "empty" in error(b"")


def test_trailing_garbage() -> None:
    assert "trailing" in error(write_mmc(sample()) + b"\x00")


def test_random_bit_flips_never_escape() -> None:
    data = write_mmc(sample(payload_size=8))
    rng = random.Random(1234)
    for _ in range(400):
        damaged = bytearray(data)
        for _ in range(rng.choice((1, 1, 2, 3, 8))):
            damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        mmc = read_or_error(bytes(damaged))
        assert mmc is None or mmc == read_mmc(data) or bytes(damaged) == data


def test_stream_crc_mismatch_names_the_stream() -> None:
    data = bytearray(write_mmc(sample()))
    data[-9] ^= 0x40  # last byte of "depth/y" (the empty "depth/side" has just its 8-byte prefix)
    assert error(bytes(data)) == "stream 'depth/y' is corrupt (CRC mismatch)"


def test_header_crc_mismatch() -> None:
    data = bytearray(write_mmc(sample()))
    data[20] ^= 1
    assert "header" in error(bytes(data)) and "CRC" in error(bytes(data))


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=64), st.integers(min_value=0, max_value=10**6), st.integers(0, 3))
def test_mutated_header_json_with_valid_crc(junk: bytes, position: int, mode: int) -> None:
    data = write_mmc(sample(payload_size=4))
    header, body = split(data)
    raw = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    at = position % (len(raw) + 1)
    raw = [raw[:at] + junk + raw[at:], raw[:at] + junk + raw[at + len(junk):], raw[:at], junk][mode]
    read_or_error(build(raw, body))


JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=False)
                    | st.text(max_size=8), lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=8)
PATHS = [("model_id",), ("model_version",), ("weights_digest",), ("latent_digest",), ("codec_params",),
         ("modalities",), ("streams",), ("modalities", 0), ("streams", 1)] + \
        [("modalities", 1, k) for k in ("name", "kind", "height", "width", "channels", "dtype", "bit_depth",
                                        "unit", "padded_height", "padded_width")] + \
        [("streams", 2, k) for k in ("name", "modality", "depends_on", "shape")] + \
        [("streams", 1, "depends_on", 0), ("streams", 0, "shape", 2)]


@settings(max_examples=250, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PATHS), JSON)
def test_any_value_in_any_header_field(path: tuple, value: object) -> None:
    data = write_mmc(sample(payload_size=4))
    header, body = split(data)
    target = header
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    read_or_error(build(header, body))


# ---------------------------------------------------------------- foreign and future files

def test_wrong_magic() -> None:
    assert "not an .mmc file" in error(b"hello world, this is text")


def test_png_is_recognised() -> None:
    message = error(b"\x89PNG\r\n\x1a\n" + bytes(range(100)))
    assert "not an .mmc file" in message and "PNG" in message
    assert "JPEG" in error(b"\xff\xd8\xff\xe0" + b"\x00" * 20)


def test_future_version() -> None:
    data = bytearray(write_mmc(sample()))
    data[8:10] = struct.pack("<H", FORMAT_VERSION + 1)
    message = error(bytes(data))
    assert "newer mmcodec" in message and f"format version {FORMAT_VERSION + 1}" in message
    assert "version 0" in error(bytes(data[:8]) + b"\x00\x00" + bytes(data[10:]))


def test_oversized_header_length_is_refused_before_reading() -> None:
    message = error(MAGIC + struct.pack("<HI", 1, 0xFFFFFFFF) + b"{}")
    assert "limit" in message


def test_absurd_image_size_is_refused_quickly() -> None:
    header, body = split(write_mmc(sample()))
    header["modalities"][0].update(height=10**9, width=10**9)
    start = time.perf_counter()
    message = error(build(header, body))
    assert time.perf_counter() - start < 0.5
    assert "height" in message
    header["modalities"][0].update(height=65536, width=65536)
    assert "pixels" in error(build(header, body))


@pytest.mark.parametrize("change, words", [
    (lambda h: h["streams"][1].update(name="image/z"), "duplicate stream"),
    (lambda h: h["streams"][1].update(depends_on=["image/q"]), "'image/q'"),
    (lambda h: h["streams"][0].update(depends_on=["image/y"]), "not an earlier stream"),  # forward = cycle
    (lambda h: h["streams"][0].update(modality="ir"), "unknown modality"),
    (lambda h: h["streams"][0].update(shape=[2**20, 2**20, 4]), "elements"),
    (lambda h: h["streams"][0].update(shape=[0, 3]), "shape"),
    (lambda h: h["streams"].pop(), "body holds 4"),
    (lambda h: h["modalities"][0].update(channels=5), "channels"),
    (lambda h: h["modalities"][0].update(dtype="float32"), "dtype"),
    (lambda h: h["modalities"][0].update(bit_depth=9), "bit_depth"),
    (lambda h: h["modalities"][0].update(padded_height=479), "padded_height"),
    (lambda h: h["modalities"][0].update(padded_width=640 + 257), "padded_width"),
    (lambda h: h["modalities"][0].update(height=3.0), "integer"),
    (lambda h: h["modalities"][0].update(height=True), "integer"),
    (lambda h: h["modalities"][0].pop("kind"), "'kind'"),
    (lambda h: h.update(model_id="x" * 257), "longer"),
    (lambda h: h.update(weights_digest="XYZ"), "hex"),
    (lambda h: h.update(surprise=1), "unknown field"),
    (lambda h: h.update(modalities=[]), "no modality"),
])
def test_invalid_headers(change, words: str) -> None:
    header, body = split(write_mmc(sample()))
    change(header)
    assert words in error(build(header, body))


@pytest.mark.parametrize("raw", [b"", b"[]", b"{", b"\xff\xfe", b'{"a":1,"a":2}', b'{"x":NaN}', b'{"x":1e999}',
                                 b"[" * 100000 + b"]" * 100000])
def test_bad_json(raw: bytes) -> None:
    error(build(raw))


# ---------------------------------------------------------------- writing

@pytest.mark.parametrize("change", [
    lambda f: replace(f, streams=f.streams + [f.streams[0]]),
    lambda f: replace(f, streams=[(replace(f.streams[0][0], depends_on="image/y"), b"")]),
    lambda f: replace(f, modalities=[replace(f.modalities[0], height=0), f.modalities[1]]),
    lambda f: replace(f, codec_params={"x": float("nan")}),
    lambda f: replace(f, codec_params={1: "non-string key"}),
    lambda f: replace(f, codec_params={"x": {1, 2}}),
    lambda f: replace(f, streams=[(f.streams[0][0], "not bytes")]),
    lambda f: replace(f, model_id="two\nlines"),
])
def test_write_refuses_invalid_files(change) -> None:
    with pytest.raises(InvalidMmcFileError) as info:
        write_mmc(change(sample()))
    assert isinstance(info.value, ValueError) and isinstance(info.value, MmcodecError)
    assert "\n" not in str(info.value)


def test_container_does_not_import_torch() -> None:
    code = "import mmcodec.container, sys; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
