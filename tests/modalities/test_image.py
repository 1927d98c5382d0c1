"""Image IO: 8/16-bit, grey/RGB, lossless PNG round trip, clear errors."""
import numpy as np
import pytest

from mmcodec.errors import InputError
from mmcodec.modalities.image import Image, read_image, validate_pixels, write_image


@pytest.mark.parametrize("dtype,channels", [(np.uint8, 1), (np.uint8, 3), (np.uint16, 1), (np.uint16, 3)])
def test_png_round_trip_is_lossless(tmp_path, dtype, channels) -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, np.iinfo(dtype).max, (13, 17, channels), endpoint=True).astype(dtype)
    write_image(tmp_path / "x.png", Image(pixels, 8 * np.dtype(dtype).itemsize))
    back = read_image(tmp_path / "x.png")
    assert back.pixels.dtype == dtype and np.array_equal(back.pixels, pixels)


@pytest.mark.parametrize("array,message", [
    (np.zeros((0, 5, 3), np.uint8), "empty"),
    (np.zeros((4, 4, 4), np.uint8), "channels"),
    (np.zeros((4, 4), np.float32), "unsupported sample type"),
    (np.zeros((4, 4, 2), np.uint16), "channels"),
])
def test_invalid_arrays_are_refused(array, message) -> None:
    with pytest.raises(InputError, match=message):
        validate_pixels(array)


def test_bit_depth_must_fit_the_dtype() -> None:
    assert validate_pixels(np.zeros((2, 2), np.uint16), bit_depth=12).peak == 4095
    with pytest.raises(InputError):
        validate_pixels(np.zeros((2, 2), np.uint8), bit_depth=12)


def test_channel_conversion(tmp_path) -> None:
    write_image(tmp_path / "g.png", Image(np.full((3, 3, 1), 7, np.uint8), 8))
    assert read_image(tmp_path / "g.png", channels=3).pixels.shape == (3, 3, 3)


def test_unreadable_file(tmp_path) -> None:
    (tmp_path / "x.png").write_text("not an image")
    with pytest.raises(InputError, match="not a readable image"):
        read_image(tmp_path / "x.png")
