"""The RGB-D thesis's Tables 8–13 measurement (untrained tiny models, real 7-Scenes crops, real files)."""
import math

import numpy as np
import pytest
import torch

from mmcodec.codecs import create
from mmcodec.codecs.tcm import TCMCodec
from mmcodec.container import read_mmc
from mmcodec.errors import MmcodecError, ModelError
from mmcodec.evaluate.metrics import psnr
from mmcodec.evaluate.thesis_evaluate import decode_frame, encode_frame, evaluate_thesis_model
from mmcodec.modalities.depth import read_depth
from mmcodec.modalities.image import read_image
from mmcodec.modalities.rgbd_pairs import find_rgbd_pairs
from mmcodec.thesis_api import thesis_table_of as table_of
from mmcodec.zoo import export_model, load_model

from ..train.rgbd_folder import KITCHEN, make_rgbd_folder

pytestmark = pytest.mark.skipif(not KITCHEN.is_dir(), reason="shared datasets not available")

#: table number → the tiny model's architecture and its configuration beyond TCMCodec.test_config
MODELS = {8: ("tcm", {}), 9: ("tcm-4c", {"target": "rgb"}), 10: ("mm-tcm-attention", {}),
          11: ("tcm", {"in_channels": 1}), 12: ("tcm-4c", {"target": "depth"}), 13: ("mm-tcm-conv", {})}
HEIGHT, WIDTH = 176, 192      # MS-SSIM needs more than 160 pixels a side


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    folder = make_rgbd_folder(tmp_path_factory.mktemp("rgbd"), frames=(0, 8), height=HEIGHT, width=WIDTH)
    pairs = find_rgbd_pairs(folder, "mm")
    assert len(pairs) == 2
    return pairs


@pytest.fixture(scope="module")
def entries(tmp_path_factory):
    folder = tmp_path_factory.mktemp("thesis-models")
    entries = {}
    for number, (name, extra) in MODELS.items():
        torch.manual_seed(number)
        entries[number] = export_model(create(name, **TCMCodec.test_config, **extra),
                                       folder / f"table{number}.safetensors", f"thesis-table{number}-test", 1, 0.001)
    return entries


@pytest.mark.parametrize("number", sorted(MODELS))
def test_frames_are_real_deterministic_files_that_decode_to_the_target(entries, pairs, number) -> None:
    entry = entries[number]
    table, codec = table_of(entry), load_model(entry)
    data = encode_frame(entry, codec, pairs[0])
    assert encode_frame(entry, codec, pairs[0]) == data            # deterministic
    mmc = read_mmc(data)
    assert mmc.model_id == entry.model_id and mmc.weights_digest == entry.digest
    decoded = decode_frame(codec, data)
    depth = read_depth(pairs[0].depth, "mm")
    if table.target == "rgb":
        assert decoded.shape == (HEIGHT, WIDTH, 3) and decoded.dtype == np.uint8
        assert [s.name for s, _ in mmc.streams] == ["image/z", *[f"image/{n}" for n in _slices(mmc)]]
    else:
        assert decoded.shape == (HEIGHT, WIDTH) and decoded.dtype == np.uint16
        np.testing.assert_array_equal(decoded == 0, depth.pixels == 0)    # holes exactly, nothing else 0
        assert (depth.pixels == 0).any()


def _slices(mmc) -> list[str]:
    return [s.name.split("/", 1)[1] for s, _ in mmc.streams if s.name.split("/", 1)[1] not in ("z", "holes")]


def test_a_corrupt_file_gives_a_project_error_not_a_crash(entries, pairs) -> None:
    entry = entries[11]
    codec = load_model(entry)
    data = encode_frame(entry, codec, pairs[0])
    with pytest.raises(MmcodecError):
        decode_frame(codec, data[: len(data) // 2])


@pytest.mark.parametrize("number", [9, 12])
def test_evaluation_rows_and_means_are_those_of_the_files(entries, pairs, number) -> None:
    entry = entries[number]
    result = evaluate_thesis_model(entry, pairs)
    assert result["table"] == number and result["lambda"] == 0.001 and len(result["frames"]) == 2
    codec, table = load_model(entry), table_of(entry)
    for pair, row in zip(pairs, result["frames"]):
        data = encode_frame(entry, codec, pair)
        assert row["bytes"] == len(data) and row["bpp"] == 8 * len(data) / (HEIGHT * WIDTH)
        decoded = decode_frame(codec, data)
        if table.target == "rgb":
            assert row["psnr"] == pytest.approx(psnr(read_image(pair.color, channels=3).pixels, decoded))
            assert math.isfinite(row["ms_ssim_db"])
        else:
            assert row["holes_kept"] is True
            reference = read_depth(pair.depth, "mm").pixels.astype(np.float64)
            valid = reference > 0
            rmse = math.sqrt(np.mean((decoded.astype(np.float64)[valid] - reference[valid]) ** 2))
            assert row["rmse_mm"] == pytest.approx(rmse)
            assert math.isfinite(row["comprehensive_similarity_db"])
    assert result["mean"]["bpp"] == pytest.approx(np.mean([r["bpp"] for r in result["frames"]]))
    assert result["mean"]["frames"] == 2


def test_a_variable_rate_model_codes_at_the_rate_asked(entries, pairs) -> None:
    low, high = (evaluate_thesis_model(entries[10], pairs[:1], rate=rate) for rate in (0.0025, 0.05))
    assert (low["lambda"], high["lambda"]) == (0.0025, 0.05)
    assert (low["model"], high["model"]) == ("thesis-table10-test@0.0025", "thesis-table10-test@0.05")
    assert low["frames"][0]["bytes"] != high["frames"][0]["bytes"]     # the λ map reached the encoder
    with pytest.raises(ModelError, match="no rate input"):
        evaluate_thesis_model(entries[9], pairs[:1], rate=0.0025)
