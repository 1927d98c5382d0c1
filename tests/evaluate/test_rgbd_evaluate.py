"""Depth-model measurement on RGB-D frames: the colour-only file a joint file is measured against."""
import numpy as np
import pytest

import mmcodec
from mmcodec.container import read_mmc
from mmcodec.depth_api import compress_rgbd
from mmcodec.evaluate.rgbd_evaluate import colour_file_bytes, evaluate_depth_model
from mmcodec.modalities.depth import read_depth
from mmcodec.modalities.image import read_image
from mmcodec.modalities.rgbd_pairs import find_rgbd_pairs
from mmcodec.zoo import DEFAULT_MODEL, find_entry, read_entry

from ..depth_models import export_tiny_depth_models
from ..train.rgbd_folder import KITCHEN, make_rgbd_folder

pytestmark = pytest.mark.skipif(not KITCHEN.is_dir(), reason="shared datasets not available")


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return find_rgbd_pairs(make_rgbd_folder(tmp_path_factory.mktemp("rgbd") / "kitchen", frames=(0,)))[0]


def test_colour_file_bytes_is_the_colour_only_file_coded_once(pair):
    colour_file_bytes.cache_clear()
    expected = len(mmcodec.compress(read_image(pair.color, channels=3), model=DEFAULT_MODEL))
    assert colour_file_bytes(pair.color, DEFAULT_MODEL) == expected
    assert colour_file_bytes(pair.color, DEFAULT_MODEL) == expected
    assert colour_file_bytes.cache_info().hits == 1 and colour_file_bytes.cache_info().misses == 1


def test_conditioned_depth_bits_are_the_joint_file_minus_the_colour_file(pair, tmp_path):
    path = export_tiny_depth_models(tmp_path)["rgb-conditional-depth"]
    entry = read_entry(path)
    measured = evaluate_depth_model(entry, [pair])
    depth = read_depth(pair.depth, pair.unit)
    joint = compress_rgbd(read_image(pair.color, channels=3), depth, depth.unit, model=str(path), refine_colour=False)
    pixels = depth.height * depth.width
    row = measured["frames"][0]
    colour = colour_file_bytes(pair.color, DEFAULT_MODEL)
    np.testing.assert_allclose(row["depth_bpp"], 8 * (len(joint) - colour) / pixels)
    np.testing.assert_allclose(row["color_bpp"] + row["depth_bpp"], 8 * len(joint) / pixels)
    assert row["model_version"] == read_mmc(joint).model_version == 2 and measured["mean"]["model_versions"] == [2]


def test_auto_depth_coding_is_measured_under_its_own_name_with_each_frames_choice(pair):
    entry = find_entry("rgb-conditional-depth-n32-mse-128")
    measured = evaluate_depth_model(entry, [pair], depth_coding="auto")
    assert measured["model"] == "rgb-conditional-depth-n32-mse-128+auto"
    assert measured["architecture"] == "rgb-conditional-depth+auto"
    assert measured["alone_digest"] == find_entry("depth-mean-scale-n32-mse-128").digest
    depth = read_depth(pair.depth, pair.unit)
    joint = compress_rgbd(read_image(pair.color, channels=3), depth, depth.unit, model=entry.model_id,
                          refine_colour=False)
    row = measured["frames"][0]
    assert row["depth_conditioned"] is read_mmc(joint).codec_params["depth_conditioned"]
    assert row["bytes"] == len(joint)
    assert evaluate_depth_model(entry, [pair])["frames"][0]["depth_conditioned"] is True
