"""The ``.mmc`` container: one compressed (multi-modal) sample in one file. Stdlib only.

Layout, version 1 (integers little-endian)::

    size   field
    ----   ---------------------------------------------------------------
    8      magic  b"\\x89MMC\\r\\n\\x1a\\n"
    2      format version, uint16 (writes 1; a larger one is refused)
    4      header length H, uint32 (at most 1 MiB)
    H      header: UTF-8 JSON, compact, sorted keys (below), raw-DEFLATE compressed with
           the preset dictionary HEADER_DICTIONARY; it inflates to at most 1 MiB
    4      CRC32 of the H (compressed) header bytes, uint32
    2      stream count N, uint16 (at most 64; must equal len(header["streams"]))
    N x:   4  stream length L, uint32
           4  CRC32 of the L stream bytes, uint32
           L  stream bytes (entropy-coded latents)
    (nothing may follow the last stream)

Header: ``{"codec_params": {...}, "latent_digest": hex, "modalities": [...], "model_id": str,
"model_version": int, "streams": [...], "weights_digest": hex}``; a modality object has the
fields of :class:`ModalityInfo`, a stream object those of :class:`StreamInfo` (tuples as
arrays, None as null); the i-th header stream describes the i-th body stream. ``model_version``
says how the model's decoder computes the entropy parameters (:data:`mmcodec.api.MODEL_VERSIONS`:
1 float, 2 fixed point); this module only checks that it is a non-negative integer.

Readers check sizes before they slice or allocate, and every problem with the bytes raises
:class:`ContainerError` with a one-line message; no other exception leaves :func:`read_mmc`
or :func:`read_header` for any input bytes. Writing an invalid :class:`MmcFile` raises
:class:`InvalidMmcFileError` (both a ContainerError and a ValueError).
"""
from __future__ import annotations

import json
import math
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any, NoReturn

from mmcodec.errors import ContainerError

__all__ = ["MAGIC", "FORMAT_VERSION", "ModalityInfo", "StreamInfo", "MmcFile", "InvalidMmcFileError",
           "write_mmc", "read_mmc", "read_header", "looks_like_mmc"]

MAGIC = b"\x89MMC\r\n\x1a\n"
FORMAT_VERSION = 1
# Limits every reader enforces (and every writer respects).
MAX_HEADER_BYTES, MAX_STREAMS, MAX_MODALITIES, MAX_STRING = 1 << 20, 64, 64, 256
MAX_SIDE, MAX_PIXELS, MAX_PADDING, MAX_CHANNELS = 65536, 1 << 28, 256, 4
MAX_SHAPE_DIMS, MAX_DIM, MAX_ELEMENTS, MAX_JSON_DEPTH = 8, 1 << 20, 1 << 31, 32
DTYPE_BITS = {"uint8": 8, "uint16": 16}
_HEX = frozenset("0123456789abcdef")
_FOREIGN = ((b"\x89PNG\r\n\x1a\n", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
            (b"GIF8", "a GIF image"), (b"II*\x00", "a TIFF image"), (b"MM\x00*", "a TIFF image"),
            (b"\x93NUMPY", "a NumPy .npy file"), (b"PK\x03\x04", "a ZIP archive"),
            (b"\x1f\x8b", "a gzip file"))


class InvalidMmcFileError(ContainerError, ValueError):
    """write_mmc was given an MmcFile that violates the format's rules."""


@dataclass(frozen=True)
class ModalityInfo:
    name: str                        # e.g. "image", "depth"
    kind: str                        # "image" | "depth" | "ir" | ...
    height: int
    width: int
    channels: int                    # 1..4
    dtype: str                       # "uint8" | "uint16"
    bit_depth: int                   # 1..bits of dtype
    unit: str | None = None          # e.g. "mm" for depth
    padded_height: int | None = None  # height..height+256
    padded_width: int | None = None


@dataclass(frozen=True)
class StreamInfo:
    name: str                           # e.g. "image/z", "image/y"
    modality: str                       # name of the modality it belongs to
    depends_on: tuple[str, ...] = ()    # streams (earlier in the file) to decode first
    shape: tuple[int, ...] = ()         # latent tensor shape needed to decode it


@dataclass
class MmcFile:
    model_id: str                    # e.g. "mbt2018-mean-q3"
    model_version: int
    weights_digest: str              # lowercase hex
    modalities: list[ModalityInfo]
    streams: list[tuple[StreamInfo, bytes]]
    latent_digest: str               # lowercase hex
    codec_params: dict = field(default_factory=dict)  # JSON-safe extra info (tuples read back as lists)


def _fail(message: str) -> NoReturn:
    raise ContainerError(" ".join(message.split()))


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except ValueError:  # an int too long to print
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 40 else text[:37] + "..."


# ---------------------------------------------------------------- field validation

def _int(value: Any, what: str, lo: int, hi: int) -> int:
    if type(value) is not int:
        _fail(f"{what} must be an integer, not {_short(value)}")
    if not lo <= value <= hi:
        _fail(f"{what} is {_short(value)}, outside {lo}..{hi}")
    return value


def _str(value: Any, what: str) -> str:
    if type(value) is not str or not value:
        _fail(f"{what} must be a non-empty string, not {_short(value)}")
    if len(value) > MAX_STRING:
        _fail(f"{what} is longer than {MAX_STRING} characters")
    if not value.isprintable():
        _fail(f"{what} {_short(value)} contains unprintable characters")
    return value


def _hex(value: Any, what: str) -> str:
    if not set(_str(value, what)) <= _HEX:
        _fail(f"{what} {_short(value)} is not a lowercase hex string")
    return value


def _list(value: Any, what: str, limit: int) -> list:
    if type(value) not in (list, tuple):
        _fail(f"{what} must be an array, not {_short(value)}")
    if len(value) > limit:
        _fail(f"{what} has {len(value)} entries (at most {limit})")
    return list(value)


def _fields(obj: Any, what: str, required: set[str], optional: set[str] = frozenset()) -> dict:
    if type(obj) is not dict:
        _fail(f"{what} must be a JSON object, not {_short(obj)}")
    missing = required - obj.keys()
    if missing:
        _fail(f"{what} lacks field {sorted(missing)[0]!r}")
    unknown = obj.keys() - required - optional
    if unknown:
        _fail(f"{what} has unknown field {_short(sorted(map(str, unknown))[0])}")
    return obj


def _check_json(value: Any, what: str, depth: int = 0) -> None:
    """Refuse anything JSON cannot carry exactly (NaN, non-str keys, sets, surrogates, ...)."""
    if depth > MAX_JSON_DEPTH:
        _fail(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels")
    if type(value) is float:
        if not math.isfinite(value):
            _fail(f"{what} holds a non-finite number")
    elif type(value) is str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            _fail(f"{what} holds a string that is not valid Unicode")
    elif type(value) in (list, tuple):
        for item in value:
            _check_json(item, what, depth + 1)
    elif type(value) is dict:
        for key, item in value.items():
            if type(key) is not str:
                _fail(f"{what} has a non-string key {_short(key)}")
            _check_json(key, what, depth + 1)
            _check_json(item, what, depth + 1)
    elif value is not None and type(value) not in (bool, int):
        _fail(f"{what} holds a {type(value).__name__}, which JSON cannot store")


def _modality(obj: Any, index: int) -> ModalityInfo:
    d = _fields(obj, f"modality #{index}", {"name", "kind", "height", "width", "channels", "dtype",
                                             "bit_depth"}, {"unit", "padded_height", "padded_width"})
    name = _str(d["name"], f"modality #{index} name")
    where = f"modality {name!r}"
    height = _int(d["height"], f"{where} height", 1, MAX_SIDE)
    width = _int(d["width"], f"{where} width", 1, MAX_SIDE)
    if height * width > MAX_PIXELS:
        _fail(f"{where} is {height}x{width}, more than {MAX_PIXELS} pixels")
    dtype = _str(d["dtype"], f"{where} dtype")
    if dtype not in DTYPE_BITS:
        _fail(f"{where} dtype {_short(dtype)} is not one of {', '.join(DTYPE_BITS)}")
    unit, ph, pw = d.get("unit"), d.get("padded_height"), d.get("padded_width")
    return ModalityInfo(name, _str(d["kind"], f"{where} kind"), height, width,
                        _int(d["channels"], f"{where} channels", 1, MAX_CHANNELS), dtype,
                        _int(d["bit_depth"], f"{where} bit_depth", 1, DTYPE_BITS[dtype]),
                        None if unit is None else _str(unit, f"{where} unit"),
                        None if ph is None else _int(ph, f"{where} padded_height", height, height + MAX_PADDING),
                        None if pw is None else _int(pw, f"{where} padded_width", width, width + MAX_PADDING))


def _stream(obj: Any, index: int, modalities: set[str], earlier: set[str]) -> StreamInfo:
    d = _fields(obj, f"stream #{index}", {"name", "modality"}, {"depends_on", "shape"})
    name = _str(d["name"], f"stream #{index} name")
    where = f"stream {name!r}"
    if name in earlier:
        _fail(f"duplicate stream name {name!r}")
    modality = _str(d["modality"], f"{where} modality")
    if modality not in modalities:
        _fail(f"{where} belongs to unknown modality {modality!r}")
    depends_on = tuple(_str(dep, f"{where} dependency")
                       for dep in _list(d.get("depends_on", []), f"{where} depends_on", MAX_STREAMS))
    for dep in depends_on:
        if dep not in earlier:
            _fail(f"{where} depends on {dep!r}, which is not an earlier stream")
    if len(set(depends_on)) != len(depends_on):
        _fail(f"{where} lists a dependency twice")
    shape = tuple(_int(n, f"{where} shape dimension", 1, MAX_DIM)
                  for n in _list(d.get("shape", []), f"{where} shape", MAX_SHAPE_DIMS))
    if math.prod(shape) > MAX_ELEMENTS:
        _fail(f"{where} shape {list(shape)} has more than {MAX_ELEMENTS} elements")
    return StreamInfo(name, modality, depends_on, shape)


_HEADER_FIELDS = {"model_id", "model_version", "weights_digest", "modalities", "streams", "latent_digest"}


def _parse_header(obj: Any) -> MmcFile:
    """Validate a decoded header object; streams come back with empty payloads."""
    d = _fields(obj, "header", _HEADER_FIELDS, {"codec_params"})
    modalities = [_modality(m, i) for i, m in enumerate(_list(d["modalities"], "modalities", MAX_MODALITIES))]
    names = {m.name for m in modalities}
    if not modalities:
        _fail("header lists no modality")
    if len(names) != len(modalities):
        _fail("duplicate modality name")
    streams: list[StreamInfo] = []
    for i, s in enumerate(_list(d["streams"], "streams", MAX_STREAMS)):
        streams.append(_stream(s, i, names, {t.name for t in streams}))
    params = d.get("codec_params", {})
    if type(params) is not dict:
        _fail(f"codec_params must be a JSON object, not {_short(params)}")
    _check_json(params, "codec_params")
    return MmcFile(_str(d["model_id"], "model_id"), _int(d["model_version"], "model_version", 0, 2**31 - 1),
                   _hex(d["weights_digest"], "weights_digest"), modalities, [(s, b"") for s in streams],
                   _hex(d["latent_digest"], "latent_digest"), params)


# ---------------------------------------------------------------- reading

class _Reader:
    def __init__(self, view: memoryview) -> None:
        self.view, self.pos = view, 0

    def take(self, n: int, what: str) -> memoryview:
        left = len(self.view) - self.pos
        if n > left:
            _fail(f"truncated .mmc file: {what} needs {n} bytes at offset {self.pos}, only {left} left")
        self.pos += n
        return self.view[self.pos - n:self.pos]

    def uint(self, fmt: str, what: str) -> int:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))[0]


def _check_magic(view: memoryview) -> None:
    head = bytes(view[:len(MAGIC)])
    if head == MAGIC:
        return
    if not head:
        _fail("empty data: not an .mmc file")
    if MAGIC.startswith(head):
        _fail(f"truncated .mmc file: only {len(head)} bytes")
    for signature, description in _FOREIGN:
        if head.startswith(signature):
            _fail(f"not an .mmc file (looks like {description})")
    _fail("not an .mmc file (wrong magic bytes)")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    d = dict(pairs)
    if len(d) != len(pairs):
        _fail("header JSON repeats a key")
    return d


def _finite(text: str) -> float:
    """parse_float and parse_constant hook: refuse 1e999, NaN, Infinity."""
    value = float(text)
    if not math.isfinite(value):
        _fail(f"header JSON holds the non-finite number {_short(text)}")
    return value


def _open(data: bytes | bytearray | memoryview) -> tuple[_Reader, MmcFile]:
    """Check magic, version and header; return the reader (at the stream count) and the header."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"expected bytes, got {type(data).__name__}")
    view = memoryview(data).cast("B")
    _check_magic(view)
    reader = _Reader(view)
    reader.take(len(MAGIC), "magic")
    version = reader.uint("<H", "format version")
    if version > FORMAT_VERSION:
        _fail(f"file written by a newer mmcodec (format version {version}; this one reads up to {FORMAT_VERSION})")
    if version < 1:
        _fail(f"unsupported .mmc format version {version}")
    length = reader.uint("<I", "header length")
    if length > MAX_HEADER_BYTES:
        _fail(f"header length {length} exceeds the {MAX_HEADER_BYTES}-byte limit")
    packed = reader.take(length, "header")
    if zlib.crc32(packed) != reader.uint("<I", "header CRC"):
        _fail("header is corrupt (CRC mismatch)")
    raw = _inflate_header(bytes(packed))
    try:
        obj = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys,
                         parse_float=_finite, parse_constant=_finite)
    except (ValueError, RecursionError) as e:  # includes UnicodeDecodeError, JSONDecodeError
        _fail(f"header is not valid UTF-8 JSON ({e})")
    return reader, _parse_header(obj)


# Raw DEFLATE with a preset dictionary of the header's usual keys and values: a typical
# single-image header shrinks from ~510 to ~100 bytes (0.002 bpp on a Kodak image). The
# dictionary is part of format version 1 and must never change within it.
HEADER_DICTIONARY = (
    b'{"codec_params":{"architecture":"factorized"hyperprior"mean-scale"},"latent_digest":"",'
    b'"modalities":[{"bit_depth":8,"bit_depth":16,"channels":1,"channels":3,"dtype":"uint16",'
    b'"dtype":"uint8","height":,"kind":"depth","kind":"image","name":"depth","name":"image",'
    b'"padded_height":,"padded_width":,"unit":"mm","unit":null,"width":}],'
    b'"model_id":"mbt2018-mean-n64-mse-0.0067","model_version":1,"streams":[{"depends_on":[],'
    b'"modality":"image","name":"image/z","shape":[1,"depends_on":["image/z"],"modality":"image",'
    b'"name":"image/y","shape":[1,128,"weights_digest":"')


def _deflate_header(raw: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15, zdict=HEADER_DICTIONARY)
    return packer.compress(raw) + packer.flush()


def _inflate_header(packed: bytes) -> bytes:
    """Inverse of :func:`_deflate_header`, refusing output beyond MAX_HEADER_BYTES (no bomb)."""
    unpacker = zlib.decompressobj(-15, zdict=HEADER_DICTIONARY)
    try:
        raw = unpacker.decompress(packed, MAX_HEADER_BYTES + 1)
    except zlib.error as e:
        _fail(f"header is corrupt ({e})")
    if len(raw) > MAX_HEADER_BYTES or unpacker.unconsumed_tail:
        _fail(f"header expands beyond the {MAX_HEADER_BYTES}-byte limit")
    if not unpacker.eof or unpacker.unused_data:
        _fail("header is corrupt (incomplete or trailing compressed data)")
    return raw


def read_header(data: bytes | bytearray | memoryview) -> MmcFile:
    """Parse and validate the header only (``data`` may be just a prefix of the file).

    Streams come back as ``(StreamInfo, b"")``; the body (stream count, lengths, CRCs) is not
    looked at, so use :func:`read_mmc` before decoding.
    """
    return _open(data)[1]


def read_mmc(data: bytes | bytearray | memoryview) -> MmcFile:
    """Parse and fully validate a .mmc file (raises ContainerError on any problem)."""
    reader, mmc = _open(data)
    count = reader.uint("<H", "stream count")
    if count != len(mmc.streams):
        _fail(f"header describes {len(mmc.streams)} streams but the body holds {count}")
    streams = []
    for info, _ in mmc.streams:
        length = reader.uint("<I", f"length of stream {info.name!r}")
        crc = reader.uint("<I", f"CRC of stream {info.name!r}")
        payload = reader.take(length, f"stream {info.name!r}")
        if zlib.crc32(payload) != crc:
            _fail(f"stream {info.name!r} is corrupt (CRC mismatch)")
        streams.append((info, bytes(payload)))
    extra = len(reader.view) - reader.pos
    if extra:
        _fail(f"{extra} byte(s) of trailing data after the last stream")
    mmc.streams = streams
    return mmc


def looks_like_mmc(data: bytes | bytearray | memoryview) -> bool:
    """True if ``data`` starts with the .mmc magic (says nothing about validity)."""
    return isinstance(data, (bytes, bytearray, memoryview)) and bytes(memoryview(data).cast("B")[:8]) == MAGIC


# ---------------------------------------------------------------- writing

def _header_object(f: MmcFile) -> dict:
    if not isinstance(f, MmcFile):
        _fail(f"expected an MmcFile, not {type(f).__name__}")
    modalities = _list(f.modalities, "modalities", MAX_MODALITIES)
    streams = _list(f.streams, "streams", MAX_STREAMS)
    if not all(isinstance(m, ModalityInfo) for m in modalities):
        _fail("modalities must be ModalityInfo objects")
    if not all(type(s) in (tuple, list) and len(s) == 2 and isinstance(s[0], StreamInfo) for s in streams):
        _fail("streams must be (StreamInfo, bytes) pairs")
    return {"model_id": f.model_id, "model_version": f.model_version, "weights_digest": f.weights_digest,
            "latent_digest": f.latent_digest, "codec_params": f.codec_params,
            "modalities": [dict(vars(m)) for m in modalities],
            "streams": [{"name": s.name, "modality": s.modality,
                         "depends_on": _list(s.depends_on, f"stream {s.name!r} depends_on", MAX_STREAMS),
                         "shape": _list(s.shape, f"stream {s.name!r} shape", MAX_SHAPE_DIMS)}
                        for s, _ in streams]}


def write_mmc(f: MmcFile) -> bytes:
    """Serialise ``f``; raises InvalidMmcFileError if it breaks any rule read_mmc enforces."""
    try:
        header = _header_object(f)
        _parse_header(header)
        raw = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                         allow_nan=False).encode("utf-8")
        if len(raw) > MAX_HEADER_BYTES:
            _fail(f"header is {len(raw)} bytes, over the {MAX_HEADER_BYTES}-byte limit")
        packed = _deflate_header(raw)
        parts = [MAGIC, struct.pack("<HI", FORMAT_VERSION, len(packed)), packed,
                 struct.pack("<IH", zlib.crc32(packed), len(f.streams))]
        for info, payload in f.streams:
            if not isinstance(payload, (bytes, bytearray, memoryview)):
                _fail(f"stream {info.name!r} payload must be bytes, not {type(payload).__name__}")
            payload = bytes(payload)
            if len(payload) >= 1 << 32:
                _fail(f"stream {info.name!r} is larger than 4 GiB")
            parts += [struct.pack("<II", len(payload), zlib.crc32(payload)), payload]
    except ContainerError as e:
        raise InvalidMmcFileError(f"cannot write .mmc file: {e}") from None
    return b"".join(parts)
