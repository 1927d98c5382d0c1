"""``mmcodec eval`` of depth and RGB-D models on a folder: what each model needs from the folder,
real file sizes, one-line mistakes (untrained tiny models, real 7-Scenes crops)."""
import json
import shutil

import pytest
import torch

from mmcodec.cli import main
from mmcodec.codecs import create
from mmcodec.codecs.tcm import TCMCodec
from mmcodec.depth_api import compress_depth
from mmcodec.errors import InputError
from mmcodec.evaluate.depth_folder import evaluate_depth_folder, evaluation_frames, reads_colour
from mmcodec.modalities.depth import read_depth
from mmcodec.zoo import export_model, read_entry

from ..depth_models import export_tiny_depth_models
from ..train.rgbd_folder import KITCHEN, make_rgbd_folder

pytestmark = pytest.mark.skipif(not KITCHEN.is_dir(), reason="shared datasets not available")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """(colour + depth pairs, the same depth maps alone): two 96 × 128 frames with holes."""
    root = tmp_path_factory.mktemp("frames")
    pairs = make_rgbd_folder(root / "pairs", frames=(0, 4))
    shutil.copytree(pairs / "depth", root / "alone" / "depth")
    return pairs, root / "alone"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Depth-only and RGB-conditioned depth models, the thesis's depth baseline and its
    4-channel RGB-target model."""
    folder = tmp_path_factory.mktemp("models")
    paths = export_tiny_depth_models(folder)
    for name, architecture, extra, metric in (("thesis-depth", "tcm", {"in_channels": 1}, "comprehensive-similarity"),
                                              ("thesis-4c-rgb", "tcm-4c", {"target": "rgb"}, "mse")):
        torch.manual_seed(0)
        paths[name] = folder / f"{name}.safetensors"
        export_model(create(architecture, **TCMCodec.test_config, **extra), paths[name], f"{name}-test", 1, 0.001,
                     metric=metric)
    return paths


def test_each_model_asks_the_folder_for_what_it_reads(models, folders):
    pairs, alone = folders
    expected = {"depth-mean-scale": False, "rgb-conditional-depth": True, "thesis-depth": False, "thesis-4c-rgb": True}
    for name, colour in expected.items():
        entry = read_entry(models[name])
        assert reads_colour(entry) == colour
        frames = evaluation_frames(entry, pairs)
        assert len(frames) == 2 and all((f.color is not None) == colour for f in frames)
        if colour:
            with pytest.raises(InputError, match="no colour"):
                evaluation_frames(entry, alone)
        else:
            assert [f.name for f in evaluation_frames(entry, alone)] == [f.name for f in frames]


def test_depth_only_measurement_is_of_real_files(models, folders):
    _, alone = folders
    entry = read_entry(models["depth-mean-scale"])
    result = evaluate_depth_folder(entry, alone)
    first = result["frames"][0]
    depth = read_depth(alone / "depth" / "000.png")
    assert first["bytes"] == len(compress_depth(depth, "mm", model=str(models["depth-mean-scale"])))
    assert result["mean"]["frames"] == 2 and result["mean"]["holes_kept"]
    refined = evaluate_depth_folder(entry, alone, refine_steps=2)
    assert refined["model"] == "depth-mean-scale-test+refine2" and refined["mean"]["holes_kept"]


def test_thesis_models_measure_their_target(models, folders):
    pairs, alone = folders
    depth = evaluate_depth_folder(read_entry(models["thesis-depth"]), alone)
    assert depth["target"] == "depth" and depth["mean"]["holes_kept"] and depth["mean"]["bpp"] > 0
    colour = evaluate_depth_folder(read_entry(models["thesis-4c-rgb"]), pairs)
    assert colour["target"] == "rgb" and colour["mean"]["psnr"] > 0
    assert "ms_ssim_db" not in colour["mean"]          # 96 × 128 frames are too small for MS-SSIM


def test_command_line(models, folders, tmp_path, capsys):
    pairs, alone = folders
    output = tmp_path / "result.json"
    assert main(["eval", "--model", str(models["rgb-conditional-depth"]), "--data", str(pairs), "-o", str(output)]) == 0
    line = capsys.readouterr().out.strip()
    assert "depth bpp" in line and "holes exact" in line and "(2 frames)" in line
    result = json.loads(output.read_text())
    assert result["command"].startswith("mmcodec eval") and len(result["frames"]) == 2
    assert main(["eval", "--model", str(models["thesis-4c-rgb"]), "--data", str(pairs)]) == 0
    assert "MS-SSIM n/a" in capsys.readouterr().out
    assert main(["eval", "--model", "rgb-conditional-depth-n32-mse-32", "--data", str(pairs), "--depth-coding", "auto",
                 "-o", str(output)]) == 0   # as 'compress' writes joint files: the shipped model or its twin
    assert capsys.readouterr().out.startswith("rgb-conditional-depth-n32-mse-32+auto: ")
    rows = json.loads(output.read_text())["frames"]
    assert len(rows) == 2 and all(isinstance(row["depth_conditioned"], bool) for row in rows)
    for arguments, message in ((["--model", str(models["depth-mean-scale"])], "give --data FOLDER of depth maps"),
                               (["--model", str(models["rgb-conditional-depth"]), "--data", str(alone)], "no colour"),
                               (["--model", str(models["depth-mean-scale"]), "--data", str(alone), "--device", "cuda"],
                                "measured on the CPU")):
        assert main(["eval", *arguments, "-o", str(tmp_path / "refused.json")]) == 2
        error = capsys.readouterr().err.strip()
        assert message in error and "\n" not in error
        assert not (tmp_path / "refused.json").exists()
