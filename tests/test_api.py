"""The Python API: mmcodec.compress / mmcodec.decompress round trips, determinism and input checks."""
from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image as PILImage

import mmcodec
from mmcodec.api import compress_and_reconstruct
from mmcodec.container import read_header
from mmcodec.errors import ContainerError, InputError
from mmcodec.zoo import DEFAULT_MODEL

ASTRONAUT = Path(__file__).resolve().parents[1] / "mmcodec" / "assets" / "astronaut.png"


def psnr(a: np.ndarray, b: np.ndarray, peak: float) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(peak ** 2 / mse)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return np.asarray(PILImage.open(ASTRONAUT).convert("RGB"))


@pytest.fixture(scope="module")
def crop256(astronaut) -> np.ndarray:
    return np.ascontiguousarray(astronaut[:256, :256])


@pytest.fixture(scope="module")
def coded256(crop256) -> bytes:
    return mmcodec.compress(crop256)


def test_round_trip_astronaut(astronaut):
    """The whole 512×512 test image (the size the PNG on disk has)."""
    data = mmcodec.compress(astronaut)
    assert isinstance(data, bytes)
    assert len(data) < ASTRONAUT.stat().st_size
    decoded = mmcodec.decompress(data)
    assert list(decoded) == ["image"]
    out = decoded["image"]
    assert out.shape == astronaut.shape and out.dtype == astronaut.dtype
    assert psnr(out, astronaut, 255) > 20
    header = read_header(data)
    assert header.model_id == DEFAULT_MODEL
    [info] = header.modalities
    assert (info.height, info.width, info.channels, info.dtype, info.bit_depth) == (512, 512, 3, "uint8", 8)


def test_compress_from_path_equals_array(crop256, coded256, tmp_path):
    path = tmp_path / "crop.png"
    PILImage.fromarray(crop256).save(path)
    assert mmcodec.compress(path) == coded256
    assert mmcodec.compress(str(path)) == coded256


def test_compress_is_deterministic(crop256, coded256):
    assert mmcodec.compress(crop256) == coded256


def test_decompress_is_deterministic(coded256):
    first = mmcodec.decompress(coded256)["image"]
    second = mmcodec.decompress(coded256)["image"]
    assert np.array_equal(first, second)


def test_decompress_does_not_depend_on_thread_count(coded256):
    default = torch.get_num_threads()
    reference = mmcodec.decompress(coded256)["image"]
    try:
        torch.set_num_threads(1)
        single = mmcodec.decompress(coded256)["image"]
    finally:
        torch.set_num_threads(default)
    assert torch.get_num_threads() == default
    differing = int(np.count_nonzero(single != reference))
    assert differing == 0, (f"{differing} of {reference.size} samples differ between 1 and {default} threads "
                            f"(max difference {np.abs(single.astype(int) - reference).max()})")


def test_compress_does_not_depend_on_thread_count(crop256, coded256):
    default = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        single = mmcodec.compress(crop256)
    finally:
        torch.set_num_threads(default)
    assert single == coded256


@pytest.mark.parametrize("keep_axis", [False, True], ids=["HxW", "HxWx1"])
def test_grey_round_trip(astronaut, keep_axis):
    grey = np.ascontiguousarray(astronaut[:96, 128:224, 1])
    source = grey[:, :, None] if keep_axis else grey
    data = mmcodec.compress(source)
    [info] = read_header(data).modalities
    assert info.channels == 1 and info.dtype == "uint8"
    out = mmcodec.decompress(data)["image"]
    # the API returns H×W×C with C the channel count recorded in the file
    assert out.shape == (96, 96, info.channels) and out.dtype == np.uint8
    assert psnr(out[:, :, 0], grey, 255) > 18


def test_uint16_round_trip(astronaut):
    rgb16 = np.ascontiguousarray(astronaut[:100, :150]).astype(np.uint16) * 257
    data = mmcodec.compress(rgb16)
    [info] = read_header(data).modalities
    assert (info.dtype, info.bit_depth, info.channels) == ("uint16", 16, 3)
    out = mmcodec.decompress(data)["image"]
    assert out.shape == rgb16.shape and out.dtype == np.uint16
    assert psnr(out, rgb16, 65535) > 20


@pytest.mark.parametrize("size", [(37, 53), (1, 1), (65, 129), (3, 70)])
def test_odd_sizes(astronaut, size):
    h, w = size
    crop = np.ascontiguousarray(astronaut[200:200 + h, 150:150 + w])
    out = mmcodec.decompress(mmcodec.compress(crop))["image"]
    assert out.shape == (h, w, 3) and out.dtype == np.uint8
    if h * w >= 1000:
        assert psnr(out, crop, 255) > 15


@pytest.mark.parametrize("model, shape, dtype", [
    (None, (75, 131, 3), np.uint8), ("factorized", (64, 80, 3), np.uint8),
    ("mean-scale-channel", (48, 70, 3), np.uint8), (None, (50, 66, 1), np.uint8), (None, (40, 52, 3), np.uint16)])
def test_the_encoders_reconstruction_is_what_decompress_returns(astronaut, model, shape, dtype):
    """compress_and_reconstruct: the same bytes as compress, and the pixels decompress gives them
    (grey and 16-bit inputs too); with refinement as well (the default model)."""
    h, w, channels = shape
    crop = np.ascontiguousarray(astronaut[100:100 + h, 120:120 + w, :channels]).astype(dtype)
    if dtype == np.uint16:
        crop = crop * 257
    data, pixels = compress_and_reconstruct(crop, model=model)
    assert data == mmcodec.compress(crop, model=model)
    assert np.array_equal(pixels, mmcodec.decompress(data)["image"]) and pixels.dtype == crop.dtype
    if model is None and channels == 3 and dtype == np.uint8:
        refined, refined_pixels = compress_and_reconstruct(crop, refine_steps=3)
        assert np.array_equal(refined_pixels, mmcodec.decompress(refined)["image"])


@pytest.mark.parametrize("array", [
    np.zeros((16, 16, 3), np.float32),
    np.zeros((16, 16), np.float64),
    np.zeros((16, 16, 4), np.uint8),
    np.zeros((0, 0, 3), np.uint8),
    np.zeros((0, 0), np.uint8),
    np.zeros((8, 0, 3), np.uint8),
    np.zeros((16, 16, 2), np.uint8),
    np.zeros((16, 16, 3), np.int32),
    np.zeros((2, 16, 16, 3), np.uint8),
], ids=["float32", "float64-grey", "rgba", "0x0x3", "0x0", "8x0", "2-channel", "int32", "4-d"])
def test_bad_arrays_raise_input_error(array):
    with pytest.raises(InputError):
        mmcodec.compress(array)


# ---- files of every model version decode: committed files, written by the code of their time ----------------------

DATA = Path(__file__).resolve().parent / "data"


def golden_crop(astronaut) -> np.ndarray:
    """The 128×192 crop that tests/data/astronaut-crop-model-version-*.mmc code (default model)."""
    return np.ascontiguousarray(astronaut[96:224, 160:352])


@pytest.mark.parametrize("version", [1, 2])
def test_committed_files_of_each_model_version_decode(astronaut, version):
    """Version 1 was written before the fixed-point entropy parameters (float h_s, commit 170d269),
    version 2 after; both decoded on the machine that wrote them to the PNG beside them. Another
    machine must decode both (the latent digest check passes) to the same pixels, ±1 where the
    float synthesis rounds otherwise. If the default model is retrained, these files name weights
    that are gone: write them again as tests/data/README.md says."""
    data = (DATA / f"astronaut-crop-model-version-{version}.mmc").read_bytes()
    assert read_header(data).model_version == version
    decoded = mmcodec.decompress(data)["image"]
    expected = np.asarray(PILImage.open(DATA / f"astronaut-crop-model-version-{version}.png"))
    difference = np.abs(decoded.astype(int) - expected.astype(int))
    assert difference.max() <= 1 and difference.mean() < 0.01
    assert psnr(decoded, golden_crop(astronaut), 255) > 27


def test_new_files_are_model_version_2_with_fixed_point_entropy_parameters(crop256, coded256):
    assert read_header(coded256).model_version == 2
    assert psnr(mmcodec.decompress(coded256)["image"], crop256, 255) > 27


def test_files_of_the_float_entropy_parameters_still_decode(crop256):
    """An encoder held to the float h_s writes version-1 files, as every file before version 2."""
    from mmcodec.api import get_codec
    from mmcodec.codecs.base import float_entropy_parameters
    from mmcodec.zoo import find_entry

    with float_entropy_parameters(get_codec(find_entry())):
        legacy = mmcodec.compress(crop256)
    assert read_header(legacy).model_version == 1
    assert psnr(mmcodec.decompress(legacy)["image"], crop256, 255) > 27


def test_the_model_version_decides_how_a_file_decodes():
    """The committed version-1 file read as version 2 (fixed-point entropy parameters) fails the latent
    digest check: some of its σ fall on other table entries, so the version field is not cosmetic."""
    from dataclasses import replace

    from mmcodec.container import read_mmc, write_mmc
    from mmcodec.errors import DecodeMismatchError

    legacy = read_mmc((DATA / "astronaut-crop-model-version-1.mmc").read_bytes())
    with pytest.raises(DecodeMismatchError, match="digest mismatch"):
        mmcodec.decompress(write_mmc(replace(legacy, model_version=2)))


def test_channel_model_files_of_one_stream_per_slice_still_decode(astronaut):
    """Files of the channel-wise codecs before 2026-12-08 held one stream per slice (y0 … y3); newer
    ones hold y in one stream. The committed older file decodes to what it decoded to then, and the
    same crop coded now gives the same pixels (the same latents) in fewer bytes."""
    from mmcodec.container import read_mmc

    model = "mean-scale-channel-n64-mse-0.0067"
    data = (DATA / "astronaut-crop-mean-scale-channel-slice-streams.mmc").read_bytes()
    assert [s.name for s, _ in read_mmc(data).streams] == ["image/z"] + [f"image/y{i}" for i in range(4)]
    decoded = mmcodec.decompress(data)["image"]
    expected = np.asarray(PILImage.open(DATA / "astronaut-crop-mean-scale-channel-slice-streams.png"))
    difference = np.abs(decoded.astype(int) - expected.astype(int))
    assert difference.max() <= 1 and difference.mean() < 0.01
    now = mmcodec.compress(golden_crop(astronaut), model=model)
    assert [s.name for s, _ in read_mmc(now).streams] == ["image/z", "image/y"]
    assert np.array_equal(mmcodec.decompress(now)["image"], decoded) and len(now) < len(data)


@pytest.mark.parametrize("change", ["slice missing", "both layouts"])
def test_channel_model_files_with_a_broken_slice_layout_are_refused(change):
    from dataclasses import replace

    from mmcodec.container import StreamInfo, read_mmc, write_mmc

    legacy = read_mmc((DATA / "astronaut-crop-mean-scale-channel-slice-streams.mmc").read_bytes())
    if change == "slice missing":
        streams = legacy.streams[:-1]
    else:
        z_info, z_data = legacy.streams[0]
        y_shape = (1, 128, *legacy.streams[1][0].shape[2:])
        streams = legacy.streams + [(StreamInfo("image/y", "image", ("image/z",), y_shape), z_data)]
    with pytest.raises(ContainerError, match="stream shapes do not match"):
        mmcodec.decompress(write_mmc(replace(legacy, streams=streams)))


def golden_rgbd_depth(colour: np.ndarray) -> np.ndarray:
    """The depth map of tests/data/astronaut-crop-rgbd-model-version-1.mmc (tests/data/README.md)."""
    rows, cols = np.mgrid[0:colour.shape[0], 0:colour.shape[1]]
    depth = (1500 + 12 * rows + 4 * cols + 300 * (colour[..., 0] > 128)).astype(np.uint16)
    depth[40:48, 60:90] = 0
    return depth


def test_joint_rgbd_files_of_the_float_entropy_parameters_still_decode(astronaut):
    """A joint file written before the conditioned depth codec had fixed-point entropy parameters
    (depth of model version 1, colour of version 2) decodes to the depth it decoded to then."""
    data = (DATA / "astronaut-crop-rgbd-model-version-1.mmc").read_bytes()
    assert read_header(data).model_version == 1
    decoded = mmcodec.decompress(data)
    expected = np.asarray(PILImage.open(DATA / "astronaut-crop-rgbd-model-version-1-depth.png"))
    assert np.array_equal(decoded["depth"], expected)
    depth = golden_rgbd_depth(golden_crop(astronaut))
    assert np.array_equal(decoded["depth"] == 0, depth == 0)


def test_new_joint_rgbd_files_are_model_version_2(astronaut):
    from mmcodec.depth_api import compress_rgbd

    colour = golden_crop(astronaut)
    depth = golden_rgbd_depth(colour)
    data = compress_rgbd(colour, depth, depth_coding="conditioned")
    assert read_header(data).model_version == 2
    decoded = mmcodec.decompress(data)["depth"]
    valid = depth > 0
    assert np.array_equal(decoded == 0, ~valid)
    assert np.abs(decoded[valid].astype(int) - depth[valid]).mean() < 40   # measured 18.4 mm


def test_the_model_version_each_architecture_writes() -> None:
    from mmcodec.api import written_model_version

    assert [written_model_version(a) for a in ("mean-scale", "mean-scale-channel", "depth-mean-scale",
                                               "rgb-conditional-depth")] == [2, 2, 2, 2]
    assert [written_model_version(a) for a in ("tcm", "tcm-4c", "mm-tcm-conv", "mm-tcm-attention")] == [2, 2, 2, 2]
    assert [written_model_version(a) for a in ("hyperprior", "ms2020")] == [2, 2]
    assert written_model_version("factorized") == 1    # no network computes its entropy parameters


@pytest.mark.parametrize("float_networks", [False, True], ids=["version-2", "version-1"])
def test_lic_tcm_files_of_both_model_versions(crop256, float_networks):
    """The shipped LIC-TCM writes files of version 2 (its hyper-synthesis, SWAtten, slice and LRP
    networks in fixed point); held to the float networks, version 1 as before; both decode."""
    from mmcodec.api import get_codec
    from mmcodec.codecs.base import float_entropy_parameters
    from mmcodec.zoo import find_entry

    model = "lic-tcm-cpu-mse-0.0067"
    codec = get_codec(find_entry(model))
    with float_entropy_parameters(codec) if float_networks else contextlib.nullcontext():
        data = mmcodec.compress(crop256, model=model)
    assert read_header(data).model_version == (1 if float_networks else 2)
    assert psnr(mmcodec.decompress(data)["image"], crop256, 255) > 24
