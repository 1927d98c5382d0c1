"""Classical codec anchors: round trips, rate ordering, JPEG 2000's rate search, run_anchor's schema."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import mmcodec
from mmcodec.errors import InputError
from mmcodec.evaluate.anchors import ANCHORS, jpeg2000_for_rate, run_anchor
from mmcodec.evaluate.metrics import psnr

ASTRONAUT = Path(mmcodec.__file__).parent / "assets" / "astronaut.png"
SCHEMA = ("bpp", "psnr-rgb", "ms-ssim-rgb", "encoding_time", "decoding_time")


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    with Image.open(ASTRONAUT) as image:
        return np.asarray(image.convert("RGB"))


@pytest.fixture(scope="module")
def crop(astronaut: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(astronaut[96:224, 160:288])  # face, suit and background


def test_registry_names_sweeps_and_descriptions() -> None:
    assert set(ANCHORS) == {"jpeg", "webp", "jpeg2000", "jpegxl", "avif", "hevc"}
    settings = {"jpeg": "4:2:0", "webp": "lossy", "jpeg2000": "target bpp", "jpegxl": "distance",
                "avif": "4:4:4", "hevc": "4:4:4"}
    for name, anchor in ANCHORS.items():
        assert anchor.name == name
        assert 8 <= len(anchor.qualities) <= 12
        assert settings[name] in anchor.description


@pytest.mark.parametrize("name", sorted(ANCHORS))
def test_round_trip_and_rate_order(name: str, crop: np.ndarray) -> None:
    anchor = ANCHORS[name]
    if not anchor.available:
        with pytest.raises(InputError, match=name):
            anchor.encode(crop, anchor.qualities[0])
        pytest.skip(f"{name}: {anchor.unavailable_reason()}")
    # the default sweeps run from low to high rate, whatever the knob's direction
    low, high = anchor.qualities[2], anchor.qualities[-2]
    assert (high > low) == anchor.rate_increases
    small, large = anchor.encode(crop, low), anchor.encode(crop, high)
    assert isinstance(small, bytes) and len(small) < len(large)
    decoded_small, decoded_large = anchor.decode(small), anchor.decode(large)
    for decoded in (decoded_small, decoded_large):
        assert decoded.shape == crop.shape and decoded.dtype == np.uint8
    assert psnr(crop, decoded_small) + 1.0 < psnr(crop, decoded_large)


@pytest.mark.parametrize("target", [0.25, 1.0, 2.0])
def test_jpeg2000_lands_on_the_target_rate(target: float, crop: np.ndarray) -> None:
    anchor = ANCHORS["jpeg2000"]
    if not anchor.available:
        pytest.skip(anchor.unavailable_reason())
    data = anchor.encode(crop, target)
    bpp = 8 * len(data) / (crop.shape[0] * crop.shape[1])
    assert 0.85 * target <= bpp <= target  # never above, and close below
    assert data == jpeg2000_for_rate(crop, target)  # deterministic


def test_run_anchor_schema_sorted_by_bpp(astronaut: np.ndarray, crop: np.ndarray) -> None:
    large = np.ascontiguousarray(astronaut[200:376, 40:232])  # 176×192: big enough for MS-SSIM
    result = run_anchor(ANCHORS["jpeg"], [crop, large], qualities=[50, 10, 90])
    assert set(result) == {"name", "description", "results"}
    assert result["name"] == "jpeg" and "4:2:0" in result["description"]
    results = result["results"]
    assert set(SCHEMA) <= set(results)
    assert all(len(results[key]) == 3 for key in results)
    assert results["bpp"] == sorted(results["bpp"])
    assert results["quality"] == [10, 50, 90]
    assert results["psnr-rgb"] == sorted(results["psnr-rgb"])
    assert all(0.0 < value <= 1.0 for value in results["ms-ssim-rgb"])
    assert all(value > 0.0 for value in results["encoding_time"] + results["decoding_time"])
    # the mean over images, bpp from the byte length
    sizes = [len(ANCHORS["jpeg"].encode(image, 10)) * 8 / image[..., 0].size for image in (crop, large)]
    assert results["bpp"][0] == pytest.approx(np.mean(sizes))


def test_bad_input_and_unavailable_anchor_raise_input_error(crop: np.ndarray) -> None:
    with pytest.raises(InputError):
        ANCHORS["jpeg"].encode(crop.astype(np.float32), 50)
    with pytest.raises(InputError):
        ANCHORS["jpeg"].encode(crop[:, :, :2], 50)
    with pytest.raises(InputError):
        run_anchor(ANCHORS["jpeg"], [])
    missing = replace(ANCHORS["jpeg"], name="missing", requirement=lambda: "library not built")
    assert not missing.available
    with pytest.raises(InputError, match="missing.*library not built"):
        missing.encode(crop, 50)
    with pytest.raises(InputError, match="library not built"):
        run_anchor(missing, [crop])
