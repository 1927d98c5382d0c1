"""Files of the RGB-D thesis's codecs from the API and the command line (untrained tiny models,
a real 7-Scenes frame, real files)."""
from pathlib import Path

import imagecodecs
import numpy as np
import pytest
import torch

from mmcodec import decompress
from mmcodec.cli import main
from mmcodec.codecs import create
from mmcodec.codecs.refinement import refine_latents
from mmcodec.codecs.tcm import TCMCodec
from mmcodec.container import read_mmc, write_mmc
from mmcodec.errors import MmcodecError, ModelError
from mmcodec.modalities.depth import DepthMap, read_depth
from mmcodec.modalities.image import Image, read_image
from mmcodec.thesis_api import THESIS_TABLES, compress_thesis, needs_thesis_files, thesis_input, thesis_table_of
from mmcodec.zoo import export_model, load_model, read_entry

from .depth_models import FRAME

pytestmark = pytest.mark.skipif(not Path(f"{FRAME}.depth.png").is_file(), reason="shared datasets not available")

#: table number → the tiny model's architecture and its configuration beyond TCMCodec.test_config
MODELS = {8: ("tcm", {}), 9: ("tcm-4c", {"target": "rgb"}), 10: ("mm-tcm-attention", {}),
          11: ("tcm", {"in_channels": 1}), 12: ("tcm-4c", {"target": "depth"}), 13: ("mm-tcm-conv", {})}
HEIGHT, WIDTH = 64, 128


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[int, Path]:
    folder = tmp_path_factory.mktemp("thesis-models")
    paths = {}
    for number, (name, extra) in MODELS.items():
        torch.manual_seed(number)
        paths[number] = folder / f"table{number}.safetensors"
        export_model(create(name, **TCMCodec.test_config, **extra), paths[number], f"thesis-table{number}-test", 1,
                     0.001, metric="comprehensive-similarity" if number > 10 else "mse")
    return paths


@pytest.fixture(scope="module")
def frame(tmp_path_factory) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    folder = tmp_path_factory.mktemp("thesis-frame")
    depth = read_depth(f"{FRAME}.depth.png").pixels[:HEIGHT, :WIDTH]
    color = read_image(f"{FRAME}.color.jpg", channels=3).pixels[:HEIGHT, :WIDTH]
    assert (depth == 0).any()                      # the crop has holes
    (folder / "d.png").write_bytes(imagecodecs.png_encode(np.ascontiguousarray(depth)))
    (folder / "c.png").write_bytes(imagecodecs.png_encode(np.ascontiguousarray(color)))
    return folder / "c.png", folder / "d.png", color, depth


def test_every_architecture_finds_its_table(models) -> None:
    assert sorted(t.number for t in THESIS_TABLES) == sorted(MODELS)
    for number, path in models.items():
        entry = read_entry(path)
        assert thesis_table_of(entry).number == number
        assert needs_thesis_files(entry) == (number != 8)     # the RGB baseline is a plain image model


def test_a_model_outside_the_thesis_is_refused_in_one_line(tmp_path) -> None:
    entry = export_model(create("mbt2018-mean", n=16, m=24), tmp_path / "ms.safetensors", "ms-test", 1, 0.01)
    with pytest.raises(ModelError, match="not one of the RGB-D thesis's architectures") as error:
        thesis_table_of(entry)
    assert "\n" not in str(error.value) and not needs_thesis_files(entry)


@pytest.mark.parametrize("number", [9, 10, 11, 12, 13])
def test_api_files_hold_the_target_alone_and_decode_without_the_context(models, frame, number) -> None:
    _, _, color, depth = frame
    table = thesis_table_of(read_entry(models[number]))
    data = compress_thesis(str(models[number]), color=color if "rgb" in (table.target, table.context) else None,
                           depth=depth if "depth" in (table.target, table.context) else None)
    assert compress_thesis(str(models[number]), color=color, depth=depth) == data   # the unused input is ignored
    mmc = read_mmc(data)
    assert [m.name for m in mmc.modalities] == [table.modality]
    assert mmc.codec_params == {"kind": "thesis"}           # the model tells the table, target and context
    assert mmc.model_version == 2   # fixed-point entropy parameters
    decoded = decompress(data, model=str(models[number]))
    assert list(decoded) == [table.modality]
    if table.target == "depth":
        assert decoded["depth"].dtype == np.uint16 and decoded["depth"].shape == (HEIGHT, WIDTH)
        np.testing.assert_array_equal(decoded["depth"] == 0, depth == 0)     # holes exactly, nothing else 0
    else:
        assert decoded["image"].dtype == np.uint8 and decoded["image"].shape == (HEIGHT, WIDTH, 3)


def test_files_with_the_older_header_parameters_still_decode(models, frame) -> None:
    """Files before 2026-12-08 named the table, target and context in their header too; they decode
    as before (the decoder reads only "kind"), to the same depth as the shorter file."""
    from dataclasses import replace

    _, _, color, depth = frame
    data = compress_thesis(str(models[13]), color=color, depth=depth)
    mmc = read_mmc(data)
    older = write_mmc(replace(mmc, codec_params={"architecture": "mm-tcm-conv", "kind": "thesis",
                                                 "thesis_table": 13, "target": "depth", "context": "rgb"}))
    assert len(older) > len(data)
    np.testing.assert_array_equal(decompress(older, model=str(models[13]))["depth"],
                                  decompress(data, model=str(models[13]))["depth"])


@pytest.mark.parametrize("number", [10, 13])
def test_files_of_the_float_entropy_parameters_still_decode(models, frame, number) -> None:
    """Held to the float entropy networks, a thesis codec writes version-1 files, as every thesis file
    before version 2, and they decode (with the float networks) to what a version-2 file decodes to."""
    from mmcodec.api import get_codec
    from mmcodec.codecs.base import float_entropy_parameters

    _, _, color, depth = frame
    entry = read_entry(models[number])
    with float_entropy_parameters(get_codec(entry)):
        legacy = compress_thesis(str(models[number]), color=color, depth=depth)
    assert read_mmc(legacy).model_version == 1
    current = decompress(compress_thesis(str(models[number]), color=color, depth=depth), model=str(models[number]))
    decoded = decompress(legacy, model=str(models[number]))
    (key,) = decoded
    assert np.abs(decoded[key].astype(int) - current[key].astype(int)).mean() < 2


def test_command_line_round_trip_of_a_fused_depth_file(models, frame, tmp_path, capsys) -> None:
    color, depth_file, _, depth = frame
    model = str(models[13])
    assert main(["compress", str(color), "--depth", str(depth_file), "--model", model, "-o",
                 str(tmp_path / "f.mmc")]) == 0
    assert main(["decompress", str(tmp_path / "f.mmc"), "--model", model, "-o", str(tmp_path / "f.png")]) == 0
    np.testing.assert_array_equal(read_depth(tmp_path / "f.png").pixels == 0, depth == 0)
    capsys.readouterr()
    assert main(["info", str(tmp_path / "f.mmc")]) == 0
    info = capsys.readouterr().out
    assert "kind thesis" in info and "modality depth: depth 128x64x1" in info
    assert main(["compress", str(depth_file), "--modality", "depth", "--model", str(models[11]), "-o",
                 str(tmp_path / "d.mmc")]) == 0
    assert main(["decompress", str(tmp_path / "d.mmc"), "--model", str(models[11]), "-o",
                 str(tmp_path / "d.png")]) == 0
    assert read_depth(tmp_path / "d.png").pixels.shape == (HEIGHT, WIDTH)
    capsys.readouterr()
    assert main(["decompress", str(tmp_path / "f.mmc"), "-o", str(tmp_path / "g.png")]) == 2   # weights not shipped
    error = capsys.readouterr().err
    assert "not shipped: give its weights with --model" in error and error.count("\n") == 1
    assert not (tmp_path / "g.png").exists()


@pytest.mark.parametrize(("arguments", "message"), [
    (["{c}", "--model", "{m12}"], "codes the depth of an RGB-D pair from both"),
    (["{d}", "--modality", "depth", "--model", "{m13}"], "needs the colour image too"),
    (["{d}", "--modality", "depth", "--model", "{m9}"], "needs the colour image too"),
    (["{c}", "--depth", "{d}", "--model", "{m11}"], "codes the depth alone"),
    (["{c}", "--depth", "{d}", "--model", "{m11}", "--refine", "2"], "codes the depth alone"),
], ids=["rgb-target-without-depth", "depth-without-colour", "rgb-target-from-depth-alone", "baseline-given-colour",
        "baseline-given-colour-refined"])
def test_mistakes_are_one_line_errors_and_write_nothing(models, frame, tmp_path, capsys, arguments, message) -> None:
    color, depth_file, _, _ = frame
    names = {"c": color, "d": depth_file, **{f"m{n}": p for n, p in models.items()}}
    output = tmp_path / "x.mmc"
    assert main(["compress", *(a.format(**names) for a in arguments), "-o", str(output)]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1
    assert not output.exists()


@pytest.mark.parametrize("number", [10, 13])
def test_refined_files_decode_with_the_same_decoder(models, frame, number) -> None:
    _, _, color, depth = frame
    model = str(models[number])
    refined = compress_thesis(model, color=color, depth=depth, refine_steps=10)
    decoded = decompress(refined, model=model)
    if number == 13:
        np.testing.assert_array_equal(decoded["depth"] == 0, depth == 0)     # holes still exact


def test_refinement_lowers_a_fused_models_objective(models, frame) -> None:
    _, _, color, depth = frame
    entry = read_entry(models[10])
    codec = load_model(entry)
    x = codec.pad(torch.from_numpy(thesis_input(thesis_table_of(entry), Image(color, 8), DepthMap(depth)))[None])
    result = refine_latents(codec, x, HEIGHT, WIDTH, entry.lmbda, entry.metric, 10)
    assert result.final_loss < result.initial_loss


def test_corrupt_and_inconsistent_files_fail_cleanly(models, frame) -> None:
    _, _, color, depth = frame
    model = str(models[13])
    data = compress_thesis(model, color=color, depth=depth)
    for bad in (data[: len(data) // 2], data[:-3]):
        with pytest.raises(MmcodecError):
            decompress(bad, model=model)
    mmc = read_mmc(data)
    huge = mmc.modalities[0].__class__(**{**mmc.modalities[0].__dict__, "height": 4096, "width": 4096,
                                                             "padded_height": 4096, "padded_width": 4096})
    with pytest.raises(MmcodecError, match="padding|shapes"):       # refused before decoding
        decompress(write_mmc(mmc.__class__(**{**mmc.__dict__, "modalities": [huge]})), model=model)
    no_holes = mmc.__class__(**{**mmc.__dict__, "streams": [(s, b) for s, b in mmc.streams
                                                            if not s.name.endswith("/holes")]})
    with pytest.raises(MmcodecError, match="hole-mask stream"):
        decompress(write_mmc(no_holes), model=model)


TRAINED = Path(__file__).resolve().parents[1] / "models" / "thesis-small" / "weights"


@pytest.mark.parametrize("path", sorted(TRAINED.glob("thesis-small-*.safetensors")), ids=lambda path: path.stem)
def test_the_trained_small_models_code_a_real_frame(frame, path) -> None:
    """Each of the 18 trained small models (six recipes, three λ): a deterministic file that keeps
    the holes, and a reconstruction only trained weights give (an untrained model's is metres off)."""
    _, _, color, depth = frame
    table = thesis_table_of(read_entry(path))
    data = compress_thesis(str(path), color=color, depth=depth)
    assert compress_thesis(str(path), color=color, depth=depth) == data
    decoded = decompress(data, model=str(path))
    again = decompress(data, model=str(path))
    assert all(np.array_equal(decoded[key], again[key]) for key in decoded)
    if table.target == "depth":
        np.testing.assert_array_equal(decoded["depth"] == 0, depth == 0)
        valid = depth > 0
        error = decoded["depth"][valid].astype(np.float64) - depth[valid]
        assert np.sqrt(np.mean(error ** 2)) < 400          # mm; the trained models: 190–260 on this crop
    else:
        mse = np.mean((decoded["image"].astype(np.float64) - color) ** 2)
        assert 10 * np.log10(255 ** 2 / mse) > 22          # dB; the trained models: about 24.9 on this crop
