"""The command line with depth maps and RGB-D pairs (untrained small models, a real frame)."""
from pathlib import Path

import imagecodecs
import numpy as np
import pytest

from mmcodec.cli import main
from mmcodec.container import read_mmc
from mmcodec.modalities.depth import read_depth
from mmcodec.modalities.image import read_image

from .depth_models import FRAME, export_tiny_depth_models

pytestmark = pytest.mark.skipif(not Path(f"{FRAME}.depth.png").is_file(), reason="shared datasets not available")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-rgbd")
    models = export_tiny_depth_models(folder)
    depth = read_depth(f"{FRAME}.depth.png").pixels[:128, :192]
    color = read_image(f"{FRAME}.color.jpg", channels=3).pixels[:128, :192]
    (folder / "d.png").write_bytes(imagecodecs.png_encode(np.ascontiguousarray(depth)))
    (folder / "c.png").write_bytes(imagecodecs.png_encode(np.ascontiguousarray(color)))
    return folder, models, depth


def test_joint_file_and_both_outputs(files, capsys):
    folder, models, depth = files
    model = str(models["rgb-conditional-depth"])
    assert main(["compress", str(folder / "c.png"), "--depth", str(folder / "d.png"), "--model", model,
                 "-o", str(folder / "frame.mmc")]) == 0
    assert "bits per RGB-D pixel" in capsys.readouterr().out
    out = folder / "out"
    out.mkdir()
    assert main(["decompress", str(folder / "frame.mmc"), "--model", model, "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["frame.depth.png", "frame.image.png"]
    decoded = read_depth(out / "frame.depth.png").pixels
    assert np.array_equal(decoded == 0, depth == 0)
    assert read_image(out / "frame.image.png").pixels.shape == (128, 192, 3)
    assert main(["decompress", str(folder / "frame.mmc"), "--model", model, "-o", str(out / "named.png")]) == 0
    assert read_depth(out / "named.depth.png").pixels.tobytes() == read_depth(out / "frame.depth.png").pixels.tobytes()
    assert read_image(out / "named.image.png").pixels.shape == (128, 192, 3)
    assert not (out / "named.png").exists()
    assert main(["info", str(folder / "frame.mmc")]) == 0
    info = capsys.readouterr().out
    mmc = read_mmc((folder / "frame.mmc").read_bytes())
    for modality in ("image", "depth"):
        own = sum(len(payload) for stream, payload in mmc.streams if stream.name.startswith(modality + "/"))
        assert f"modality {modality}: " in info and f"its streams {own} bytes = {8 * own / (128 * 192):.4f} bpp" in info


@pytest.mark.parametrize("refine", [[], ["--refine", "3"]], ids=["plain", "refined"])
def test_depth_only_file(files, refine):
    folder, models, depth = files
    model = str(models["depth-mean-scale"])
    assert main(["compress", str(folder / "d.png"), "--modality", "depth", "--model", model,
                 "-o", str(folder / "d.mmc"), *refine]) == 0
    assert main(["decompress", str(folder / "d.mmc"), "--model", model, "-o", str(folder / "d-out.png")]) == 0
    assert np.array_equal(read_depth(folder / "d-out.png").pixels == 0, depth == 0)


def test_mistakes_are_one_line_errors(files, capsys):
    folder, models, _ = files
    cases = [
        ["compress", str(folder / "c.png"), "--depth", str(folder / "c.png"), "--model",
         str(models["rgb-conditional-depth"]), "-o", str(folder / "x.mmc")],              # colour as depth
        ["compress", str(folder / "c.png"), "--depth", str(folder / "d.png"), "--model",
         str(models["depth-mean-scale"]), "-o", str(folder / "x.mmc")],                   # not conditional
        ["compress", str(folder / "c.png"), "--model", str(models["depth-mean-scale"]),
         "-o", str(folder / "x.mmc")],                                                     # depth model, image
        ["compress", str(folder / "c.png"), str(folder / "d.png"), "--depth", str(folder / "d.png")],
    ]
    for argv in cases:
        capsys.readouterr()
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.startswith("mmcodec: error:") and "\n" not in err
        assert not (folder / "x.mmc").exists()


def test_no_depth_filter_writes_files_the_decoder_leaves_unfiltered(files):
    folder, models, _ = files
    for flags, name in (([], "chosen"), (["--no-depth-filter"], "unfiltered")):
        assert main(["compress", str(folder / "d.png"), "--modality", "depth", "--model",
                     str(models["depth-mean-scale"]), "-o", str(folder / f"{name}.mmc"), *flags]) == 0
        assert main(["compress", str(folder / "c.png"), "--depth", str(folder / "d.png"), "--model",
                     str(models["rgb-conditional-depth"]), "-o", str(folder / f"{name}-joint.mmc"), *flags]) == 0
    for name in ("unfiltered", "unfiltered-joint"):
        assert read_mmc((folder / f"{name}.mmc").read_bytes()).codec_params["depth_median_window"] == 0
    chosen = [read_mmc((folder / f"{name}.mmc").read_bytes()).codec_params["depth_median_window"]
              for name in ("chosen", "chosen-joint")]
    assert chosen[0] in (3, 5, 7) and chosen[1] in (0, 3, 5, 7)   # the untrained depth-only model's blur: filtered


def test_joint_file_with_the_depth_coded_alone_by_the_shipped_twin(files, capsys):
    folder, _, depth = files
    assert main(["compress", str(folder / "c.png"), "--depth", str(folder / "d.png"), "--depth-coding", "alone",
                 "-o", str(folder / "alone.mmc")]) == 0
    assert "(depth coded alone)" in capsys.readouterr().out
    mmc = read_mmc((folder / "alone.mmc").read_bytes())
    assert mmc.model_id.startswith("depth-mean-scale-") and mmc.codec_params["kind"] == "rgbd"
    assert main(["compress", str(folder / "d.png"), "--modality", "depth", "--model", mmc.model_id,
                 "-o", str(folder / "depth-only.mmc")]) == 0
    out = folder / "alone-out"
    out.mkdir()
    for name in ("alone", "depth-only"):
        assert main(["decompress", str(folder / f"{name}.mmc"), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["alone.depth.png", "alone.image.png", "depth-only.png"]
    decoded = read_depth(out / "alone.depth.png").pixels
    assert np.array_equal(decoded, read_depth(out / "depth-only.png").pixels)
    assert np.array_equal(decoded == 0, depth == 0)
    assert main(["compress", str(folder / "c.png"), "--depth", str(folder / "d.png"), "--depth-coding", "best",
                 "-o", str(folder / "bad.mmc")]) == 2
    assert not (folder / "bad.mmc").exists()
