"""RGB-D training end to end on a tiny folder of real frames: data, a conditional run, export
with its context model, measurement and the depth model card."""
import numpy as np
import pytest
import torch

from mmcodec.evaluate.rgbd_evaluate import evaluate_depth_model
from mmcodec.modalities.rgbd_pairs import find_rgbd_pairs
from mmcodec.train import distributed
from mmcodec.train.config import TrainConfig
from mmcodec.train.export import export_run, write_depth_card, write_training_card
from mmcodec.train.rgbd_data import RandomCropRgbd, context_cache_dir, frame_tensor
from mmcodec.train.trainer import train_process
from mmcodec.zoo import DEFAULT_MODEL, find_entry

from .rgbd_folder import KITCHEN, make_rgbd_folder

pytestmark = pytest.mark.skipif(not KITCHEN.is_dir(), reason="shared datasets not available")


@pytest.fixture(scope="module")
def rgbd_folder(tmp_path_factory):
    return make_rgbd_folder(tmp_path_factory.mktemp("rgbd") / "kitchen")


def test_frames_put_the_target_first(rgbd_folder):
    pair = find_rgbd_pairs(rgbd_folder)[0]
    depth_first = frame_tensor(pair, "depth", "rgb")
    rgb_first = frame_tensor(pair, "rgb", "depth")
    assert depth_first.shape == rgb_first.shape == (4, 96, 128)
    np.testing.assert_array_equal(depth_first[0], rgb_first[3])
    assert depth_first[0].min() > 0              # holes filled for coding
    crops = RandomCropRgbd([depth_first], crop=64)
    torch.manual_seed(0)
    assert crops[0].shape == (4, 64, 64)


def test_conditional_run_exports_and_measures(rgbd_folder, tmp_path):
    config = TrainConfig(architecture="rgb-conditional-depth", model_config={"n": 8, "m": 12}, dataset="rgbd",
                         data=str(rgbd_folder), context="decoded-rgb", context_model=DEFAULT_MODEL,
                         test_fraction=0.25, validation_fraction=0.0, run_dir=str(tmp_path / "run"), lmbda=32.0,
                         crop=64, batch_size=2, steps=2, checkpoint_every=1, progress=False, threads=1)
    _, model = train_process(config, distributed.Distributed())
    assert model.out_channels == 1 and model.in_channels == 4
    cache = context_cache_dir(tmp_path, DEFAULT_MODEL)
    assert cache.name == f"{DEFAULT_MODEL}-{find_entry(DEFAULT_MODEL).digest}"   # new weights, new cache
    assert len(list(cache.glob("*.png"))) == 3   # the 3 training frames
    entry = export_run(tmp_path / "run", "tiny-conditional", 1, tmp_path / "zoo" / "weights")
    assert entry.context_model == DEFAULT_MODEL and entry.modality == "depth"
    assert entry.context_model_digest == find_entry(DEFAULT_MODEL).digest   # the colour weights it trained on
    measured = evaluate_depth_model(entry, find_rgbd_pairs(rgbd_folder)[-1:])
    mean = measured["mean"]
    assert measured["conditional"] and mean["holes_kept"] and mean["depth_bpp"] > 0 and mean["color_bpp"] > 0
    card = write_depth_card(entry, tmp_path / "run", measured, "test", "CPU", tmp_path / "zoo" / "cards")
    assert f"decoded colour from `{DEFAULT_MODEL}`, weights `{entry.context_model_digest}`" in card.read_text()
    assert f"{mean['depth_bpp']:.4f}" in card.read_text()
    assert "decoded with the median post-filter each file's encoder chose" in card.read_text()
    assert all(row["median_window"] in (0, 3, 5, 7) for row in measured["frames"])
    assert "- objective: R + λ·255²·MSE on depth / 65535, λ = 32.0\n" in card.read_text()
    record = write_training_card(entry, tmp_path / "run", "CPU", "a benchmark", tmp_path / "zoo" / "cards").read_text()
    assert "RGB-D frames of `" in record and "the last 25% of each sequence held out" in record
    assert "R + λ·255²·MSE, λ = 32.0" in record and "target depth, context decoded-rgb" in record
    assert "- steps: 2 of 2; wall time 0 min on CPU" in record
