"""Reliability of the command line: every bad input ends in ONE line ``mmcodec: error: ...`` on
stderr, a non-zero status (never 1, "internal error"), no traceback, and no output file or
stray temporary file; the good paths (compress, decompress, info, models, folders) work.

Most checks call :func:`mmcodec.cli.main` in-process (fast); one runs ``python -m mmcodec``.
"""
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

import numpy as np
import pytest
from PIL import Image as PILImage

from mmcodec import api
from mmcodec.cli import main
from mmcodec.container import FORMAT_VERSION, MAGIC, _deflate_header, _inflate_header, read_mmc, write_mmc
from mmcodec.zoo import DEFAULT_MODEL

ASTRONAUT = Path(__file__).resolve().parents[1] / "mmcodec" / "assets" / "astronaut.png"
ERROR_PREFIX = "mmcodec: error:"
N_FLIPS = 30


# ---- fixtures and helpers ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return np.asarray(PILImage.open(ASTRONAUT).convert("RGB"))


@pytest.fixture(scope="module")
def valid_mmc(astronaut) -> bytes:
    """A small valid .mmc file (64×96 crop, default model)."""
    return api.compress(np.ascontiguousarray(astronaut[100:164, 200:296]))


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()  # drop anything printed before
    rc = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def assert_one_line_error(rc: int, out: str, err: str) -> None:
    assert rc != 0, f"expected a failure, got rc=0 (stdout {out!r})"
    assert rc != 1, f"internal error instead of a clean one: {err!r}"
    assert "Traceback" not in err and "Traceback" not in out
    lines = err.splitlines()
    assert len(lines) == 1, f"stderr must be exactly one line, got {lines!r}"
    assert err.endswith("\n")
    assert lines[0].startswith(ERROR_PREFIX), lines[0]
    assert "internal error" not in lines[0]


def stray_temps(folder: Path) -> list[Path]:
    return sorted(folder.glob(".mmcodec-*")) if folder.exists() else []


def assert_no_output(target: Path) -> None:
    assert not target.exists(), f"{target} was written although the command failed"
    assert not stray_temps(target.parent), f"temporary files left behind: {stray_temps(target.parent)}"


def decode_bad(tmp_path: Path, capsys, data: bytes, name: str = "bad.mmc") -> str:
    """Decompress ``data`` with -o and check every failure rule; return stderr."""
    src = tmp_path / name
    src.write_bytes(data)
    out_dir = tmp_path / "out"
    out_dir.mkdir(exist_ok=True)
    target = out_dir / "decoded.png"
    rc, out, err = run_cli(capsys, "decompress", src, "-o", target)
    assert_one_line_error(rc, out, err)
    assert_no_output(target)
    assert list(out_dir.iterdir()) == []
    return err


def layout(data: bytes) -> dict:
    """Offsets of the fields of a (valid) .mmc file."""
    (header_len,) = struct.unpack_from("<I", data, len(MAGIC) + 2)
    header_start = len(MAGIC) + 6
    header_end = header_start + header_len
    count_at = header_end + 4
    (count,) = struct.unpack_from("<H", data, count_at)
    streams, pos = [], count_at + 2
    for _ in range(count):
        (length,) = struct.unpack_from("<I", data, pos)
        streams.append((pos, pos + 8, pos + 8 + length))  # (length field, payload start, payload end)
        pos += 8 + length
    assert pos == len(data)
    return {"header_start": header_start, "header_end": header_end, "count_at": count_at, "streams": streams}


def patch_header(data: bytes, edit) -> bytes:
    """Rewrite the header JSON with ``edit(obj)`` and a correct length and CRC."""
    lay = layout(data)
    obj = json.loads(_inflate_header(data[lay["header_start"]:lay["header_end"]]))
    edit(obj)
    raw = _deflate_header(json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    return (data[:len(MAGIC) + 2] + struct.pack("<I", len(raw)) + raw + struct.pack("<I", zlib.crc32(raw))
            + data[lay["count_at"]:])


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


# ---- decoder: truncation ------------------------------------------------------------------------
TRUNCATIONS = {
    "partial-magic": lambda lay, n: 5,
    "magic-only": lambda lay, n: len(MAGIC),
    "magic+version": lambda lay, n: len(MAGIC) + 2,
    "partial-header-length": lambda lay, n: len(MAGIC) + 4,
    "mid-header": lambda lay, n: (lay["header_start"] + lay["header_end"]) // 2,
    "header-without-crc": lambda lay, n: lay["header_end"],
    "header-only": lambda lay, n: lay["header_end"] + 4,
    "header+count": lambda lay, n: lay["count_at"] + 2,
    "partial-stream-length": lambda lay, n: lay["count_at"] + 4,
    "mid-first-stream": lambda lay, n: (lay["streams"][0][1] + lay["streams"][0][2]) // 2,
    "before-second-stream": lambda lay, n: lay["streams"][1][0],
    "mid-last-stream": lambda lay, n: (lay["streams"][-1][1] + lay["streams"][-1][2]) // 2,
    "all-but-one-byte": lambda lay, n: n - 1,
}


@pytest.mark.parametrize("where", list(TRUNCATIONS))
def test_truncated_file(tmp_path, capsys, valid_mmc, where):
    cut = TRUNCATIONS[where](layout(valid_mmc), len(valid_mmc))
    assert 0 < cut < len(valid_mmc)
    err = decode_bad(tmp_path, capsys, valid_mmc[:cut])
    assert "truncated" in err or "corrupt" in err


# ---- decoder: bit flips -------------------------------------------------------------------------
@pytest.mark.parametrize("case", range(N_FLIPS))
def test_random_bit_flip(tmp_path, capsys, valid_mmc, case):
    rng = random.Random(7919 + case)
    lay = layout(valid_mmc)
    if case % 2 == 0:  # header region: magic, version, length, JSON, CRC
        lo, hi = 0, lay["header_end"] + 4
    else:              # body: stream count, lengths, CRCs, payloads
        lo, hi = lay["count_at"], len(valid_mmc)
    pos, bit = rng.randrange(lo, hi), rng.randrange(8)
    data = bytearray(valid_mmc)
    data[pos] ^= 1 << bit
    src = tmp_path / "flipped.mmc"
    src.write_bytes(bytes(data))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "decoded.png"
    rc, out, err = run_cli(capsys, "decompress", src, "-o", target)
    assert "Traceback" not in err + out
    if rc == 0:  # the flip hit nothing that is checked: the result must still be a valid image
        with PILImage.open(target) as im:
            im.load()
            assert im.size == (96, 64)
        assert not stray_temps(out_dir)
    else:
        assert_one_line_error(rc, out, err)
        assert_no_output(target)


# ---- decoder: foreign, damaged or unsupported files ---------------------------------------------
def test_wrong_magic(tmp_path, capsys, valid_mmc):
    err = decode_bad(tmp_path, capsys, b"\x89MMX\r\n\x1a\n" + valid_mmc[len(MAGIC):])
    assert "not an .mmc file" in err


@pytest.mark.parametrize("version", [FORMAT_VERSION + 1, 0xFFFF])
def test_future_format_version(tmp_path, capsys, valid_mmc, version):
    data = bytearray(valid_mmc)
    struct.pack_into("<H", data, len(MAGIC), version)
    err = decode_bad(tmp_path, capsys, bytes(data))
    assert "newer" in err and str(version) in err


def test_unknown_model_id(tmp_path, capsys, valid_mmc):
    mmc = read_mmc(valid_mmc)
    data = write_mmc(replace(mmc, model_id="no-such-model-q9"))
    err = decode_bad(tmp_path, capsys, data)
    assert "no-such-model-q9" in err


def test_weights_digest_mismatch(tmp_path, capsys, valid_mmc):
    mmc = read_mmc(valid_mmc)
    other = "0123456789abcdef" if mmc.weights_digest != "0123456789abcdef" else "fedcba9876543210"
    err = decode_bad(tmp_path, capsys, write_mmc(replace(mmc, weights_digest=other)))
    assert other in err and "weights" in err


@pytest.mark.parametrize("version", [0, 3, 2**31 - 1])
def test_unknown_model_version(tmp_path, capsys, valid_mmc, version):
    mmc = read_mmc(valid_mmc)
    err = decode_bad(tmp_path, capsys, write_mmc(replace(mmc, model_version=version)))
    assert f"needs version {version}" in err and "reads version 1, 2" in err


def test_latent_digest_mismatch(tmp_path, capsys, valid_mmc):
    mmc = read_mmc(valid_mmc)
    other = "0" * 16 if mmc.latent_digest != "0" * 16 else "1" * 16
    err = decode_bad(tmp_path, capsys, write_mmc(replace(mmc, latent_digest=other)))
    assert "digest" in err


def test_absurd_image_size_fails_fast(tmp_path, capsys, valid_mmc):
    def huge(obj):
        m = obj["modalities"][0]
        m["height"] = m["width"] = m["padded_height"] = m["padded_width"] = 10 ** 9

    data = patch_header(valid_mmc, huge)
    start = time.perf_counter()
    err = decode_bad(tmp_path, capsys, data)
    assert time.perf_counter() - start < 2.0
    assert "height" in err or "width" in err or "pixels" in err


def test_size_not_matching_streams_fails_fast(tmp_path, capsys, valid_mmc):
    """A size the container accepts (4096×4096) but the coded latents do not fit."""
    def bigger(obj):
        m = obj["modalities"][0]
        m["height"] = m["width"] = m["padded_height"] = m["padded_width"] = 4096

    start = time.perf_counter()
    decode_bad(tmp_path, capsys, patch_header(valid_mmc, bigger))
    assert time.perf_counter() - start < 2.0


def test_empty_file(tmp_path, capsys):
    err = decode_bad(tmp_path, capsys, b"")
    assert "empty" in err


def test_png_renamed_mmc(tmp_path, capsys):
    err = decode_bad(tmp_path, capsys, ASTRONAUT.read_bytes(), name="photo.mmc")
    assert "PNG" in err


def test_nonexistent_mmc(tmp_path, capsys):
    target = tmp_path / "decoded.png"
    rc, out, err = run_cli(capsys, "decompress", tmp_path / "missing.mmc", "-o", target)
    assert_one_line_error(rc, out, err)
    assert "no such file" in err
    assert_no_output(target)


def test_info_on_corrupt_file(tmp_path, capsys, valid_mmc):
    src = tmp_path / "bad.mmc"
    src.write_bytes(valid_mmc[:-3])
    rc, out, err = run_cli(capsys, "info", src)
    assert_one_line_error(rc, out, err)


def test_subprocess_bad_file(tmp_path, valid_mmc):
    src = tmp_path / "bad.mmc"
    src.write_bytes(valid_mmc[: len(valid_mmc) // 2])
    target = tmp_path / "out.png"
    proc = subprocess.run([sys.executable, "-m", "mmcodec", "decompress", str(src), "-o", str(target)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode not in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(ERROR_PREFIX), lines
    assert_no_output(target)


# ---- encoder: bad inputs ------------------------------------------------------------------------
def _text_as_png(folder: Path) -> Path:
    path = folder / "notes.png"
    path.write_text("this is not an image\n")
    return path


def _zero_size_png(folder: Path) -> Path:
    """A well-formed PNG whose IHDR says 0×0 (Pillow refuses to write one)."""
    path = folder / "empty.png"
    ihdr = struct.pack(">IIBBBBB", 0, 0, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b""))
                     + png_chunk(b"IEND", b""))
    return path


def _truncated_png(folder: Path) -> Path:
    path = folder / "cut.png"
    path.write_bytes(ASTRONAUT.read_bytes()[:20])
    return path


def _float_tiff(folder: Path) -> Path:
    import imagecodecs

    path = folder / "float.tif"
    path.write_bytes(imagecodecs.tiff_encode(np.random.default_rng(0).random((24, 32)).astype(np.float32)))
    return path


def _rgba_png(folder: Path) -> Path:
    path = folder / "rgba.png"
    PILImage.fromarray(np.full((16, 24, 4), 128, np.uint8), mode="RGBA").save(path)
    return path


def _missing(folder: Path) -> Path:
    return folder / "missing.png"


@pytest.mark.parametrize("make", [_text_as_png, _zero_size_png, _truncated_png, _float_tiff, _rgba_png, _missing],
                         ids=["text-as-png", "zero-size-png", "truncated-png", "float32-tiff", "rgba-png",
                              "nonexistent"])
def test_compress_bad_input(tmp_path, capsys, make):
    src = make(tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "out.mmc"
    rc, out, err = run_cli(capsys, "compress", src, "-o", target)
    assert_one_line_error(rc, out, err)
    assert str(src.name) in err
    assert_no_output(target)
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("extra", [["--refine", "-1"], ["--refine", "1000000000"]],
                         ids=["negative-steps", "absurd-steps"])
def test_compress_bad_refine_option(tmp_path, capsys, astronaut, extra):
    src = tmp_path / "a.png"
    PILImage.fromarray(np.ascontiguousarray(astronaut[:64, :64])).save(src)
    target = tmp_path / "a.mmc"
    rc, out, err = run_cli(capsys, "compress", src, "-o", target, *extra)
    assert_one_line_error(rc, out, err)
    assert "refine" in err
    assert_no_output(target)


@pytest.mark.parametrize("argv", [["compress", "a.png", "--refine", "abc"], ["eval", "--refine", "-3"], ["bogus"], [],
                                  ["compress"], ["train", "--steps", "many"]],
                         ids=["refine-not-a-number", "eval-negative-refine", "unknown-command", "no-command",
                              "no-inputs", "steps-not-a-number"])
def test_usage_errors_are_one_line(capsys, argv):
    rc, out, err = run_cli(capsys, *argv)
    assert_one_line_error(rc, out, err)
    assert "--help" in err


def test_help_still_works(capsys):
    rc, out, err = run_cli(capsys, "compress", "--help")
    assert rc == 0 and "--refine" in out and err == ""


# ---- good paths ---------------------------------------------------------------------------------
def test_cli_refined_file_decodes(tmp_path, capsys, astronaut):
    crop = np.ascontiguousarray(astronaut[:64, :128])
    src = tmp_path / "a.png"
    PILImage.fromarray(crop).save(src)
    rc, out, err = run_cli(capsys, "compress", src, "-o", tmp_path / "a.mmc", "--refine", "5")
    assert rc == 0, err
    rc, out, err = run_cli(capsys, "decompress", tmp_path / "a.mmc", "-o", tmp_path / "a.out.png")
    assert rc == 0, err
    with PILImage.open(tmp_path / "a.out.png") as im:
        assert np.asarray(im).shape == crop.shape


def test_cli_round_trip_info_and_no_temp_files(tmp_path, capsys, astronaut):
    crop = np.ascontiguousarray(astronaut[:256, :256])
    src = tmp_path / "astronaut.png"
    PILImage.fromarray(crop).save(src)
    coded, decoded = tmp_path / "coded" / "a.mmc", tmp_path / "decoded" / "a.png"

    rc, out, err = run_cli(capsys, "compress", src, "-o", coded)
    assert rc == 0, err
    assert coded.is_file() and str(coded) in out
    assert "Traceback" not in err

    rc, out, err = run_cli(capsys, "decompress", coded, "-o", decoded)
    assert rc == 0, err
    with PILImage.open(decoded) as im:
        pixels = np.asarray(im)
    assert pixels.shape == crop.shape and pixels.dtype == crop.dtype
    mse = np.mean((pixels.astype(np.float64) - crop) ** 2)
    assert 10 * np.log10(255 ** 2 / mse) > 18
    assert not stray_temps(coded.parent) and not stray_temps(decoded.parent)

    rc, out, err = run_cli(capsys, "info", coded)
    assert rc == 0, err
    mmc = read_mmc(coded.read_bytes())
    assert DEFAULT_MODEL in out and mmc.model_id == DEFAULT_MODEL
    assert len(mmc.streams) == 2
    for stream, payload in mmc.streams:
        assert f"stream {stream.name}: {len(payload)} bytes" in out
    assert "256x256x3" in out
    assert "(version 2: integer entropy parameters," in out


@pytest.mark.parametrize("kind", ["grey8", "rgb16"])
def test_cli_round_trip_keeps_channels_and_depth(tmp_path, capsys, astronaut, kind):
    import imagecodecs

    crop = np.ascontiguousarray(astronaut[200:248, 200:264])
    pixels = crop[:, :, 1].copy() if kind == "grey8" else crop.astype(np.uint16) * 257
    src = tmp_path / f"{kind}.png"
    src.write_bytes(imagecodecs.png_encode(pixels))
    rc, out, err = run_cli(capsys, "compress", src, "-o", tmp_path / "x.mmc")
    assert rc == 0, err
    rc, out, err = run_cli(capsys, "decompress", tmp_path / "x.mmc", "-o", tmp_path / "x.png")
    assert rc == 0, err
    decoded = imagecodecs.png_decode((tmp_path / "x.png").read_bytes())
    assert decoded.dtype == pixels.dtype
    assert decoded.reshape(pixels.shape).shape == pixels.shape and decoded.size == pixels.size


def test_cli_models_lists_default(capsys):
    rc, out, err = run_cli(capsys, "models")
    assert rc == 0, err
    [line] = [row for row in out.splitlines() if row.strip().startswith(DEFAULT_MODEL + ":")]
    assert "(default)" in line


def test_cli_folder_round_trip(tmp_path, capsys, astronaut):
    shapes = {"one": (48, 64), "two": (40, 72)}
    images = tmp_path / "images"
    images.mkdir()
    for i, (name, (h, w)) in enumerate(shapes.items()):
        PILImage.fromarray(np.ascontiguousarray(astronaut[50 * i:50 * i + h, 100:100 + w])).save(images / f"{name}.png")
    (images / "readme.txt").write_text("ignored: not an image suffix")

    coded, decoded = tmp_path / "coded", tmp_path / "decoded"
    rc, out, err = run_cli(capsys, "compress", images, "-o", coded)
    assert rc == 0, err
    assert sorted(p.name for p in coded.iterdir()) == ["one.mmc", "two.mmc"]

    rc, out, err = run_cli(capsys, "decompress", coded, "-o", decoded)
    assert rc == 0, err
    assert sorted(p.name for p in decoded.iterdir()) == ["one.png", "two.png"]
    for name, (h, w) in shapes.items():
        with PILImage.open(decoded / f"{name}.png") as im:
            assert np.asarray(im).shape == (h, w, 3)


def test_output_that_is_an_existing_folder(tmp_path, capsys, astronaut):
    """One input with -o naming an existing folder writes into it (it used to fail renaming onto it)."""
    image = tmp_path / "photo.png"
    PILImage.fromarray(np.ascontiguousarray(astronaut[:48, :64])).save(image)
    folder = tmp_path / "out.v2"   # a dot in its name: still a folder, because it exists as one
    folder.mkdir()
    rc, out, err = run_cli(capsys, "compress", image, "-o", folder)
    assert rc == 0, err
    rc, out, err = run_cli(capsys, "decompress", folder / "photo.mmc", "-o", folder)
    assert rc == 0, err
    assert sorted(p.name for p in folder.iterdir()) == ["photo.mmc", "photo.png"]


@pytest.mark.parametrize("output", ["photo.jpg", "photo.mmc/x.png"])
def test_decompress_refuses_an_output_it_cannot_write(tmp_path, capsys, valid_mmc, output):
    (tmp_path / "photo.mmc").write_bytes(valid_mmc)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert_one_line_error(*run_cli(capsys, "decompress", tmp_path / "photo.mmc", "-o", tmp_path / output))
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_outputs_get_the_usual_file_permissions(tmp_path) -> None:
    import os

    from mmcodec.atomic_files import atomic_write

    target = tmp_path / "out.bin"
    atomic_write(target, lambda tmp: tmp.write_bytes(b"x"))
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
