"""Depth files and joint RGB-D files through the API (untrained small models, real frames)."""
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import mmcodec
from mmcodec import depth_api
from mmcodec.container import read_mmc, write_mmc
from mmcodec.depth_mode import depth_rd_cost
from mmcodec.errors import ContainerError, DecodeMismatchError, InputError, MmcodecError, ModelError
from mmcodec.modalities.depth import DepthMap, from_millimetres, read_depth
from mmcodec.modalities.depth_filter import WINDOWS, median_filter_depth
from mmcodec.modalities.image import read_image
from mmcodec.zoo import DEFAULT_MODEL, find_entry

from .depth_models import FRAME, export_tiny_depth_models

pytestmark = pytest.mark.skipif(not Path(f"{FRAME}.depth.png").is_file(), reason="shared datasets not available")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return {name: str(path) for name, path in export_tiny_depth_models(tmp_path_factory.mktemp("depth-models")).items()}


@pytest.fixture(scope="module")
def frame():
    depth = read_depth(f"{FRAME}.depth.png").pixels[100:260, 200:392]
    color = read_image(f"{FRAME}.color.jpg", channels=3).pixels[100:260, 200:392]
    return np.ascontiguousarray(color), np.ascontiguousarray(depth)


def test_depth_file_round_trip_keeps_holes_exactly(models, frame):
    _, depth = frame
    assert (depth == 0).any()
    data = depth_api.compress_depth(depth, model=models["depth-mean-scale"])
    assert depth_api.compress_depth(depth, model=models["depth-mean-scale"]) == data
    decoded = mmcodec.decompress(data, model=models["depth-mean-scale"])
    assert set(decoded) == {"depth"}
    out = decoded["depth"]
    assert out.shape == depth.shape and out.dtype == np.uint16
    assert np.array_equal(out == 0, depth == 0)
    header = read_mmc(data)
    assert header.modalities[0].unit == "mm" and header.codec_params["kind"] == "depth"
    assert header.model_version == 2   # fixed-point entropy parameters


def test_depth_files_of_the_float_entropy_parameters_still_decode(models, frame):
    from mmcodec.api import get_codec
    from mmcodec.codecs.base import float_entropy_parameters

    _, depth = frame
    with float_entropy_parameters(get_codec(find_entry(models["depth-mean-scale"]))):
        legacy = depth_api.compress_depth(depth, model=models["depth-mean-scale"])
    assert read_mmc(legacy).model_version == 1
    decoded = mmcodec.decompress(legacy, model=models["depth-mean-scale"])["depth"]
    assert np.array_equal(decoded == 0, depth == 0)


def test_joint_file_holds_both_and_decodes_depth_after_colour(models, frame):
    color, depth = frame
    data = depth_api.compress_rgbd(color, depth, model=models["rgb-conditional-depth"])
    mmc = read_mmc(data)
    assert [m.name for m in mmc.modalities] == ["image", "depth"]
    depth_y = next(s for s, _ in mmc.streams if s.name == "depth/y")
    assert "image/y" in depth_y.depends_on
    assert mmc.codec_params["depth_median_window"] in WINDOWS   # chosen given the colour, as the decoder has it
    decoded = mmcodec.decompress(data, model=models["rgb-conditional-depth"])
    assert decoded["image"].shape == color.shape and decoded["image"].dtype == np.uint8
    assert np.array_equal(decoded["depth"] == 0, depth == 0)
    alone = mmcodec.decompress(mmcodec.compress(color))["image"]
    assert np.array_equal(decoded["image"], alone)   # the colour part is the RGB model's own file
    assert mmc.model_version == 2 and mmc.codec_params["image_model_version"] == 2   # fixed-point depth and colour
    with pytest.raises(ModelError, match="needs version 3"):
        mmcodec.decompress(write_mmc(replace(mmc, model_version=3)), model=models["rgb-conditional-depth"])
    with pytest.raises(DecodeMismatchError, match="digest mismatch"):   # version 1: the float networks
        mmcodec.decompress(write_mmc(replace(mmc, model_version=1)), model=models["rgb-conditional-depth"])
    for bad in ("2", 3):
        tampered = replace(mmc, codec_params={**mmc.codec_params, "image_model_version": bad})
        with pytest.raises((DecodeMismatchError, ModelError)):
            mmcodec.decompress(write_mmc(tampered), model=models["rgb-conditional-depth"])


def test_tum_units_come_back_in_their_unit(models, frame):
    _, depth = frame
    tum = (depth.astype(np.uint32) * 5).clip(0, 65535).astype(np.uint16)
    data = depth_api.compress_depth(tum, unit="tum", model=models["depth-mean-scale"])
    out = mmcodec.decompress(data, model=models["depth-mean-scale"])["depth"].astype(np.int64)
    in_mm = mmcodec.decompress(depth_api.compress_depth(depth, model=models["depth-mean-scale"]),
                               model=models["depth-mean-scale"])["depth"].astype(np.int64)
    assert read_mmc(data).modalities[0].unit == "tum"
    assert np.array_equal(out == 0, tum == 0)
    assert np.abs(out - 5 * in_mm)[tum > 0].max() <= 3   # the same millimetres, 5 units each


def test_bad_inputs_and_models_are_refused(models, frame):
    color, depth = frame
    with pytest.raises(InputError, match="differ in size"):
        depth_api.compress_rgbd(color[:-64], depth, model=models["rgb-conditional-depth"])
    with pytest.raises(InputError, match="16-bit"):
        depth_api.compress_depth(depth.astype(np.uint8), model=models["depth-mean-scale"])
    with pytest.raises(ModelError, match="RGB-conditioned"):
        depth_api.compress_rgbd(color, depth, model=models["depth-mean-scale"])
    with pytest.raises(ModelError, match="not a depth model"):
        depth_api.compress_depth(depth, model=DEFAULT_MODEL)


def test_a_depth_model_trained_on_other_colour_weights_is_refused(models, frame, tmp_path):
    import torch

    from mmcodec.codecs import create
    from mmcodec.zoo import export_model

    color, depth = frame
    torch.manual_seed(0)
    codec = create("rgb-conditional-depth", n=16, m=24)
    current = find_entry(DEFAULT_MODEL).digest
    matching = export_model(codec, tmp_path / "matching.safetensors", "matching", 1, 32.0,
                            context_model=DEFAULT_MODEL, context_model_digest=current)
    assert matching.context_model_digest == current
    assert mmcodec.decompress(depth_api.compress_rgbd(color, depth, model=str(matching.path)),
                              model=str(matching.path))["depth"].shape == depth.shape
    stale = export_model(codec, tmp_path / "stale.safetensors", "stale", 1, 32.0,
                         context_model=DEFAULT_MODEL, context_model_digest="0123456789abcdef")
    with pytest.raises(ModelError, match=f"weights 0123456789abcdef, but those weights are now {current}"):
        depth_api.compress_rgbd(color, depth, model=str(stale.path))
    assert find_entry(models["rgb-conditional-depth"]).context_model_digest is None   # not recorded: not checked


def test_corrupt_joint_files_fail_cleanly(models, frame):
    color, depth = frame
    data = bytearray(depth_api.compress_rgbd(color, depth, model=models["rgb-conditional-depth"]))
    for cut in (len(data) // 2, len(data) - 1):
        with pytest.raises(ContainerError):
            mmcodec.decompress(bytes(data[:cut]), model=models["rgb-conditional-depth"])
    data[-5] ^= 0xFF   # inside the last (hole-mask) stream: its CRC catches it
    with pytest.raises(MmcodecError):
        mmcodec.decompress(bytes(data), model=models["rgb-conditional-depth"])


def test_refined_depth_file_costs_less_over_the_valid_pixels_and_keeps_holes(frame):
    """A shipped depth model: refinement lowers bits/pixel + λ·255²·MSE over the non-hole pixels
    of the real files (holes do not count: they come back exactly from their own stream)."""
    _, depth = frame
    model = "depth-mean-scale-n32-mse-128"
    lmbda = find_entry(model).lmbda
    valid = depth > 0

    def loss(data: bytes) -> float:
        decoded = mmcodec.decompress(data)["depth"]          # a plain decoder reads refined files
        assert np.array_equal(decoded == 0, ~valid)
        error = (decoded.astype(np.float64) - depth) / 65535.0
        return 8 * len(data) / depth.size + lmbda * 255.0 ** 2 * float(np.sum(error[valid] ** 2)) / depth.size

    plain = depth_api.compress_depth(depth, model=model)
    refined = depth_api.compress_depth(depth, model=model, refine_steps=30)
    assert depth_api.compress_depth(depth, model=model, refine_steps=30) == refined
    assert loss(refined) < loss(plain)


def test_refined_joint_file_refines_the_depth_only_when_asked(models, frame):
    color, depth = frame
    plain = depth_api.compress_rgbd(color, depth, model=models["rgb-conditional-depth"])
    refined = depth_api.compress_rgbd(color, depth, model=models["rgb-conditional-depth"], refine_steps=5,
                                      refine_colour=False)
    colour_streams = [(s, b) for s, b in read_mmc(refined).streams if s.modality == "image"]
    assert colour_streams == [(s, b) for s, b in read_mmc(plain).streams if s.modality == "image"]
    decoded = mmcodec.decompress(refined, model=models["rgb-conditional-depth"])
    assert np.array_equal(decoded["depth"] == 0, depth == 0)


def test_refined_joint_file_refines_the_colour_too_by_default(models, frame):
    color, depth = frame
    refined = depth_api.compress_rgbd(color, depth, model=models["rgb-conditional-depth"], refine_steps=5)
    colour_file = mmcodec.compress(color, model=DEFAULT_MODEL, refine_steps=5)     # the same colour refinement
    colour_streams = [(s, b) for s, b in read_mmc(refined).streams if s.modality == "image"]
    assert colour_streams == [(s, b) for s, b in read_mmc(colour_file).streams]
    assert colour_streams != [(s, b) for s, b in read_mmc(mmcodec.compress(color, model=DEFAULT_MODEL)).streams]
    decoded = mmcodec.decompress(refined, model=models["rgb-conditional-depth"])
    np.testing.assert_array_equal(decoded["image"], mmcodec.decompress(colour_file)["image"])
    assert np.array_equal(decoded["depth"] == 0, depth == 0)


def test_the_encoder_chooses_the_decoders_median_filter(frame):
    """A shipped depth model on a real frame: the filtered file has the same streams, decodes to
    the unfiltered map median-filtered with the window in its header, and is closer to the truth."""
    _, depth = frame
    model = "depth-mean-scale-n32-mse-128"
    valid = depth > 0
    filtered = read_mmc(depth_api.compress_depth(depth, model=model))
    unfiltered = read_mmc(depth_api.compress_depth(depth, model=model, median_filter=False))
    assert filtered.streams == unfiltered.streams and unfiltered.codec_params["depth_median_window"] == 0
    window = filtered.codec_params["depth_median_window"]
    assert window in (3, 5, 7)
    plain = mmcodec.decompress(write_mmc(unfiltered))["depth"]
    out = mmcodec.decompress(write_mmc(filtered))["depth"]
    # the decoder filters before rounding to integer millimetres; the median commutes with that rounding
    expected = from_millimetres(median_filter_depth(plain.astype(np.float32), valid, window), "mm", valid)
    np.testing.assert_array_equal(out, expected)
    assert np.array_equal(out == 0, depth == 0)

    def squared_error(decoded: np.ndarray) -> float:
        return float(np.sum((decoded[valid].astype(np.float64) - depth[valid]) ** 2))

    assert squared_error(out) < squared_error(plain)
    for bad in (4, 9, -1, "5", 5.0, True, None):
        tampered = replace(filtered, codec_params={**filtered.codec_params, "depth_median_window": bad})
        with pytest.raises(DecodeMismatchError, match="depth median window"):
            mmcodec.decompress(write_mmc(tampered))
    older = replace(filtered, codec_params={k: v for k, v in filtered.codec_params.items()
                                            if k != "depth_median_window"})
    np.testing.assert_array_equal(mmcodec.decompress(write_mmc(older))["depth"], plain)   # files from before it


def _depth_stream_bytes(data: bytes) -> int:
    return sum(len(payload) for stream, payload in read_mmc(data).streams if stream.modality == "depth")


def test_auto_depth_coding_keeps_the_coding_of_lower_rd_cost(models, frame):
    color, depth = frame
    conditioned_model, alone_model = models["rgb-conditional-depth"], models["depth-mean-scale"]
    files = {coding: depth_api.compress_rgbd(color, depth, model=conditioned_model, depth_coding=coding,
                                             alone_model=alone_model)
             for coding in ("conditioned", "alone", "auto")}
    costs = {}
    for coding, model in (("conditioned", conditioned_model), ("alone", alone_model)):
        mmc = read_mmc(files[coding])
        assert mmc.codec_params["depth_conditioned"] is (coding == "conditioned")
        assert mmc.model_id == find_entry(model).model_id
        decoded = mmcodec.decompress(files[coding], model=model)
        assert np.array_equal(decoded["depth"] == 0, depth == 0)
        costs[coding] = depth_rd_cost(_depth_stream_bytes(files[coding]), decoded["depth"],
                                      DepthMap(depth), find_entry(conditioned_model).lmbda)
    assert costs["conditioned"] != costs["alone"]
    assert files["auto"] == files[min(costs, key=costs.get)]


def test_a_joint_file_with_the_depth_coded_alone_holds_the_depth_only_files_streams(models, frame):
    color, depth = frame
    joint = depth_api.compress_rgbd(color, depth, model=models["rgb-conditional-depth"], depth_coding="alone",
                                    alone_model=models["depth-mean-scale"])
    alone = depth_api.compress_depth(depth, model=models["depth-mean-scale"])
    depth_streams = [(s.name, s.depends_on, payload) for s, payload in read_mmc(joint).streams if s.modality == "depth"]
    assert depth_streams == [(s.name, s.depends_on, payload) for s, payload in read_mmc(alone).streams]
    decoded = mmcodec.decompress(joint, model=models["depth-mean-scale"])
    assert np.array_equal(decoded["depth"], mmcodec.decompress(alone, model=models["depth-mean-scale"])["depth"])
    assert np.array_equal(decoded["image"], mmcodec.decompress(mmcodec.compress(color))["image"])


def test_depth_coding_without_a_depth_only_twin(models, frame):
    color, depth = frame
    with pytest.raises(InputError, match="unknown depth coding"):
        depth_api.compress_rgbd(color, depth, model=models["rgb-conditional-depth"], depth_coding="best")
    with pytest.raises(ModelError, match="no depth-only model"):   # the tiny model's network is not shipped alone
        depth_api.compress_rgbd(color, depth, model=models["rgb-conditional-depth"], depth_coding="alone")
    auto = depth_api.compress_rgbd(color, depth, model=models["rgb-conditional-depth"])
    assert auto == depth_api.compress_rgbd(color, depth, model=models["rgb-conditional-depth"],
                                           depth_coding="conditioned")


def test_a_depth_coding_flag_that_contradicts_the_model_is_refused(models, frame):
    color, depth = frame
    for coding, model in (("conditioned", models["rgb-conditional-depth"]), ("alone", models["depth-mean-scale"])):
        mmc = read_mmc(depth_api.compress_rgbd(color, depth, model=models["rgb-conditional-depth"],
                                               depth_coding=coding, alone_model=models["depth-mean-scale"]))
        params = {**mmc.codec_params, "depth_conditioned": coding != "conditioned"}
        with pytest.raises(DecodeMismatchError, match="coded given the colour"):
            mmcodec.decompress(write_mmc(replace(mmc, codec_params=params)), model=model)
    conditioned = read_mmc(depth_api.compress_rgbd(color, depth, model=models["rgb-conditional-depth"]))
    without_colour = replace(conditioned, codec_params={**conditioned.codec_params, "kind": "depth"},
                             modalities=conditioned.modalities[1:],
                             streams=[(replace(s, depends_on=()), b) for s, b in conditioned.streams
                                      if s.modality == "depth"])
    with pytest.raises(DecodeMismatchError, match="needs the colour"):
        mmcodec.decompress(write_mmc(without_colour), model=models["rgb-conditional-depth"])
