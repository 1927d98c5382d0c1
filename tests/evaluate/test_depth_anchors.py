"""Depth anchors: round trips, exact lossless coding, the AVIF shift, metrics over valid pixels
only, run_depth_anchor's schema and byte-true rates, and ``mmcodec anchors --modality depth``."""
from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import imagecodecs
import numpy as np
import pytest

from mmcodec.cli import main
from mmcodec.errors import InputError
from mmcodec.evaluate.depth_anchors import DEPTH_ANCHORS, DepthAnchor, avif_shift, run_depth_anchor
from mmcodec.modalities.rvl import rvl_encode

RGBDD_DEPTH = Path(__file__).resolve().parents[2] / "../shared/datasets/rgbd/rgbdd/depth"
LOSSLESS = {"png16", "jpegxl-lossless", "rvl", "zstd"}
FEATURES = {"png16": "PNG", "jpegxl-lossless": "JPEGXL", "jpegxl": "JPEGXL", "jpeg2000": "JPEG2K",
            "avif12": "AVIF", "zstd": "ZSTD"}


def scene(far: int = 5200) -> np.ndarray:
    """A 48×64 depth map (mm): a slanted wall up to ``far``, a box in front, holes around it."""
    rows, cols = np.mgrid[0:48, 0:64]
    depth = (far - 2000 + 30 * cols + 5 * rows).astype(np.uint16)
    depth[12:30, 20:40] = 900 + rows[12:30, 20:40]
    depth[12:30, 40:43] = 0  # the shadow next to the box
    depth[0, :5] = 0
    depth[-1, -1] = 0
    return depth


def rmse(reference: np.ndarray, decoded: np.ndarray) -> float:
    valid = reference > 0
    return float(np.sqrt(np.mean((decoded[valid].astype(float) - reference[valid]) ** 2)))


def fake_anchor(decode: Callable[[np.ndarray], np.ndarray]) -> DepthAnchor:
    """Stores the raw map (so bpp = 16) and decodes it through ``decode``."""
    def encoder(depth: np.ndarray, quality: object) -> bytes:
        return depth.shape[1].to_bytes(4, "little") + depth.tobytes()

    def decoder(data: bytes) -> np.ndarray:
        width = int.from_bytes(data[:4], "little")
        return decode(np.frombuffer(data[4:], np.uint16).reshape(-1, width).copy())

    return DepthAnchor("fake", "test", (), encoder, decoder, lambda: None, lambda: "none")


@pytest.fixture(scope="module")
def depth() -> np.ndarray:
    return scene()


def test_registry_and_availability_follow_imagecodecs() -> None:
    assert set(DEPTH_ANCHORS) == LOSSLESS | {"jpegxl", "jpeg2000", "avif12"}
    for name, anchor in DEPTH_ANCHORS.items():
        assert anchor.name == name and anchor.settings in anchor.description
        assert (anchor.qualities == ()) == (name in LOSSLESS)
        if name in FEATURES:
            assert anchor.available == getattr(imagecodecs, FEATURES[name]).available
    assert DEPTH_ANCHORS["rvl"].available
    assert "lossy even at q=100" in DEPTH_ANCHORS["avif12"].settings


@pytest.mark.parametrize("name", sorted(DEPTH_ANCHORS))
def test_round_trip(name: str, depth: np.ndarray) -> None:
    anchor = DEPTH_ANCHORS[name]
    if not anchor.available:
        with pytest.raises(InputError, match=name):
            anchor.encode(depth)
        pytest.skip(f"{name}: {anchor.unavailable_reason()}")
    for quality in anchor.qualities or (None,):
        data = anchor.encode(depth, quality)
        decoded = anchor.decode(data)
        assert isinstance(data, bytes) and decoded.shape == depth.shape and decoded.dtype == np.uint16
        if name in LOSSLESS or quality is None:
            np.testing.assert_array_equal(decoded, depth)
    if name not in LOSSLESS:  # rate grows and error shrinks from the lowest to the highest lossy point
        lossy = [q for q in anchor.qualities if q is not None]
        low, high = (lossy[0], lossy[-2]) if name == "avif12" else (lossy[0], lossy[-1])
        small, large = anchor.encode(depth, low), anchor.encode(depth, high)
        assert len(small) < len(large)
        assert rmse(depth, anchor.decode(small)) > rmse(depth, anchor.decode(large))


@pytest.mark.parametrize("name", sorted(LOSSLESS))
def test_lossless_on_extreme_values(name: str) -> None:
    anchor = DEPTH_ANCHORS[name]
    if not anchor.available:
        pytest.skip(f"{name}: {anchor.unavailable_reason()}")
    rng = np.random.default_rng(5)
    depth = rng.integers(0, 65536, (24, 40)).astype(np.uint16)
    depth[:, :10] = 0
    depth[3, 3:9] = 65535
    np.testing.assert_array_equal(anchor.decode(anchor.encode(depth)), depth)


def test_avif_shift_prefix_and_top_quality() -> None:
    assert [avif_shift(np.array([[v]], np.uint16)) for v in (0, 4095, 4096, 8191, 8192, 65535)] == [0, 0, 1, 1, 2, 4]
    anchor = DEPTH_ANCHORS["avif12"]
    if not anchor.available:
        pytest.skip(anchor.unavailable_reason())
    near, far = scene(far=3800), scene(far=9000)  # maxima 3925 and 9125 mm
    for depth in (near, far):
        shift = avif_shift(depth)
        data = anchor.encode(depth, 100)
        assert data[0] == shift
        # q=100 codes the 12-bit plane exactly, so only the shift loses anything
        np.testing.assert_array_equal(anchor.decode(data), (depth >> shift) << shift)
    assert avif_shift(near) == 0 and avif_shift(far) == 2
    with pytest.raises(InputError, match="shift prefix"):
        anchor.decode(b"\x07" + anchor.encode(near, 50)[1:])


def test_holes_are_not_scored_but_lost_pixels_are(depth: np.ndarray) -> None:
    def fill(decoded: np.ndarray) -> np.ndarray:
        decoded[decoded == 0] = 1234  # what a lossy codec puts into holes does not count
        return decoded

    results = run_depth_anchor(fake_anchor(fill), [depth])["results"]
    assert results["rmse_mm"] == [0.0] and results["psnr"] == [None]
    assert results["lossless"] == [False] and results["holes_kept"] == [False]

    def lose(decoded: np.ndarray) -> np.ndarray:
        decoded[20, 25] = 0  # a valid pixel decoded as a hole costs its whole depth
        return decoded

    results = run_depth_anchor(fake_anchor(lose), [depth])["results"]
    valid = int((depth > 0).sum())
    assert results["bpp"] == [pytest.approx(16 + 32 / depth.size)]
    assert results["mae_mm"] == [pytest.approx(int(depth[20, 25]) / valid)]
    assert results["rmse_mm"] == [pytest.approx(math.sqrt(int(depth[20, 25]) ** 2 / valid))]
    assert results["psnr"] == [pytest.approx(20 * math.log10(65535 / results["rmse_mm"][0]))]
    assert results["flying_pixels_percent"] == [pytest.approx(100 / valid)]
    assert results["holes_kept"] == [False] and results["lossless"] == [False]
    identity = run_depth_anchor(fake_anchor(lambda d: d), [depth])["results"]
    assert identity["holes_kept"] == [True] and identity["lossless"] == [True]


def test_run_schema_and_byte_true_rates(depth: np.ndarray) -> None:
    other = np.ascontiguousarray(scene(far=7000)[:40, :56])
    result = run_depth_anchor(DEPTH_ANCHORS["rvl"], [depth, other])
    results = result["results"]
    assert set(result) == {"name", "description", "results"} and result["name"] == "rvl"
    assert set(results) == {"bpp", "psnr", "rmse_mm", "mae_mm", "flying_pixels_percent", "encoding_time",
                            "decoding_time", "quality", "lossless", "holes_kept"}
    bpp = np.mean([8 * len(rvl_encode(d)) / d.size for d in (depth, other)])
    assert results["bpp"] == [pytest.approx(bpp)]
    assert results["psnr"] == [None] and results["lossless"] == [True] and results["quality"] == [None]
    assert results["rmse_mm"] == [0.0] and results["mae_mm"] == [0.0]
    json.dumps(result, allow_nan=False)
    anchor = DEPTH_ANCHORS["jpeg2000"]
    if anchor.available:
        sweep = run_depth_anchor(anchor, [depth, other], qualities=[75.0, None, 60.0])["results"]
        assert sweep["bpp"] == sorted(sweep["bpp"]) and sweep["quality"] == [60.0, 75.0, None]
        assert sweep["lossless"] == [False, False, True] and sweep["psnr"][2] is None
        assert sweep["psnr"][0] < sweep["psnr"][1] and sweep["rmse_mm"][0] > sweep["rmse_mm"][1]
        json.dumps(sweep, allow_nan=False)


def test_refusals(depth: np.ndarray) -> None:
    rvl = DEPTH_ANCHORS["rvl"]
    for bad in (depth.astype(np.int32), depth[None], depth[:4]):
        with pytest.raises(InputError):
            rvl.encode(bad)
    with pytest.raises(InputError, match="at least one"):
        run_depth_anchor(rvl, [])
    with pytest.raises(InputError, match="no valid"):
        run_depth_anchor(rvl, [np.zeros((16, 16), np.uint16)])
    data = rvl.encode(depth)
    for corrupt in (data[:-4], b"junk" + data[4:], data[:5]):
        with pytest.raises(InputError):
            rvl.decode(corrupt)
    zstd = DEPTH_ANCHORS["zstd"]
    if zstd.available:
        data = zstd.encode(depth)
        with pytest.raises(InputError, match="not 49×64"):
            zstd.decode((49).to_bytes(4, "little") + data[4:])


# ---- command line ------------------------------------------------------------------------------

@pytest.mark.skipif(not RGBDD_DEPTH.is_dir(), reason="no RGB-D-D dataset here (../shared/datasets)")
def test_cli_depth_anchors(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "scene" / "depth"
    folder.mkdir(parents=True)
    for i, path in enumerate(sorted(RGBDD_DEPTH.glob("*.png"))[:2]):
        crop = imagecodecs.png_decode(path.read_bytes())[100:164, 150:230].copy()
        crop[10:20, 30:50] = 0  # holes, as raw sensor depth has
        (folder / f"{i}.png").write_bytes(imagecodecs.png_encode(crop))
    (tmp_path / "scene" / "color").mkdir()
    (tmp_path / "scene" / "color" / "0.png").write_bytes(imagecodecs.png_encode(np.zeros((8, 8, 3), np.uint8)))
    out = tmp_path / "out"
    assert main(["anchors", "--modality", "depth", "--data", str(tmp_path / "scene"), "-o", str(out)]) == 0
    written = {p.stem for p in out.glob("*.json")}
    assert written == {name for name, anchor in DEPTH_ANCHORS.items() if anchor.available}
    rvl = json.loads((out / "rvl.json").read_text())
    assert rvl["results"]["lossless"] == [True] and rvl["results"]["psnr"] == [None]
    assert rvl["results"]["holes_kept"] == [True] and rvl["results"]["flying_pixels_percent"] == [0.0]
    if "jpegxl" in written:
        jxl = json.loads((out / "jpegxl.json").read_text())["results"]
        assert len(jxl["bpp"]) == len(DEPTH_ANCHORS["jpegxl"].qualities) and jxl["bpp"] == sorted(jxl["bpp"])
        assert all(p is not None and 40 < p < 120 for p in jxl["psnr"])
    assert "rvl: 1 points" in capsys.readouterr().out

    # errors are one line, status 2: unknown anchor, 8-bit "depth", no depth maps at all
    assert main(["anchors", "--modality", "depth", "--data", str(tmp_path / "scene"), "--codecs", "jpeg"]) == 2
    assert "unknown depth anchor" in capsys.readouterr().err
    (folder / "2.png").write_bytes(imagecodecs.png_encode(np.zeros((8, 8), np.uint8)))
    assert main(["anchors", "--modality", "depth", "--data", str(tmp_path / "scene"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "16-bit" in err
    assert main(["anchors", "--modality", "depth", "--data", str(tmp_path / "scene" / "color")]) == 2
    assert "no depth maps" in capsys.readouterr().err
