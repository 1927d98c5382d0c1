"""Result JSONs load (ours and the published ones), plots are written, BD tables are right."""
import json
from pathlib import Path

import pytest

from mmcodec.cli import main
from mmcodec.errors import InputError
from mmcodec.evaluate.bd_rate import rate_at_equal_quality
from mmcodec.evaluate.plot import plot_curves
from mmcodec.evaluate.report import bd_table, comparison_cell
from mmcodec.evaluate.results import load_curve, merge_points


def write(path: Path, name: str, bpp, psnr, ms_ssim=None) -> Path:
    results = {"bpp": bpp, "psnr-rgb": psnr}
    if ms_ssim:
        results["ms-ssim-rgb"] = ms_ssim
    path.write_text(json.dumps({"name": name, "description": "", "results": results}))
    return path


def test_curves_sort_and_convert_ms_ssim(tmp_path) -> None:
    curve = load_curve(write(tmp_path / "a.json", "a", [0.8, 0.2], [34.0, 28.0], [0.99, 0.9]))
    assert curve.bpp == [0.2, 0.8] and curve.psnr == [28.0, 34.0]
    assert curve.ms_ssim_db == pytest.approx([10.0, 20.0])


def test_bad_results_file(tmp_path) -> None:
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(InputError):
        load_curve(tmp_path / "x.json")


def test_bd_table_and_cli_report(tmp_path, capsys) -> None:
    bpp, psnr = [0.1, 0.2, 0.4, 0.8], [28.0, 30.5, 33.0, 36.0]
    anchor = write(tmp_path / "anchor.json", "anchor", bpp, psnr)
    test = write(tmp_path / "test.json", "test", [b * 0.9 for b in bpp], psnr)
    lines = bd_table([load_curve(test)], load_curve(anchor))
    assert "| test | 4 |" in lines[-1] and "-10.00%" in lines[-1]
    assert main(["report", str(anchor), str(test), "--anchor", "anchor", "-o", str(tmp_path / "r.md")]) == 0
    assert "-10.00%" in (tmp_path / "r.md").read_text()
    assert "| anchor |" not in capsys.readouterr().out


def test_single_points_are_compared_on_each_axis_alone(tmp_path) -> None:
    anchor = load_curve(write(tmp_path / "anchor.json", "anchor", [0.1, 0.2, 0.4, 0.8], [28.0, 30.0, 32.0, 34.0]))
    inside = load_curve(write(tmp_path / "in.json", "in", [0.2], [31.0]))
    below = load_curve(write(tmp_path / "below.json", "below", [0.05], [30.0]))  # under the anchor's lowest rate
    row_inside, row_below = bd_table([inside, below], anchor)[-2:]
    assert "| in (point 1) | 1 | 0.200 | -29.29% ¹ | +1.00 dB ¹ | n/a |" == row_inside
    assert "| below (point 1) | 1 | 0.050 | -75.00% ¹ | n/a | n/a |" == row_below


def test_plot_writes_a_png(tmp_path) -> None:
    curve = load_curve(write(tmp_path / "a.json", "a", [0.1, 0.5], [28.0, 33.0], [0.9, 0.97]))
    path = plot_curves([curve], tmp_path / "rd.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("output", ["a-folder", "a-file/rd.png"])
def test_plot_refuses_an_output_it_cannot_write(tmp_path, capsys, output) -> None:
    results = write(tmp_path / "a.json", "a", [0.1, 0.5], [28.0, 33.0])
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "a-file").write_bytes(b"")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["plot", str(results), "-o", str(tmp_path / output)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mmcodec: error:")
    assert sorted(p.name for p in tmp_path.iterdir()) == before and not any((tmp_path / "a-folder").iterdir())


def test_merge_points_orders_by_rate() -> None:
    merged = merge_points([{"results": {"bpp": [0.5], "psnr-rgb": [33.0]}},
                           {"results": {"bpp": [0.2], "psnr-rgb": [29.0]}}], "family", "")
    assert merged["results"] == {"bpp": [0.2, 0.5], "psnr-rgb": [29.0, 33.0]}


def test_cli_anchors_writes_a_results_json(tmp_path) -> None:
    import numpy as np

    from mmcodec.modalities.image import Image, read_image, write_image

    (tmp_path / "imgs").mkdir()
    astronaut = read_image(Path(__file__).resolve().parents[2] / "mmcodec" / "assets" / "astronaut.png")
    write_image(tmp_path / "imgs" / "a.png", Image(np.ascontiguousarray(astronaut.pixels[:96, :128]), 8))
    assert main(["anchors", "--data", str(tmp_path / "imgs"), "-o", str(tmp_path / "out"), "--codecs", "jpeg"]) == 0
    curve = load_curve(tmp_path / "out" / "jpeg.json")
    assert len(curve.bpp) >= 8 and curve.bpp == sorted(curve.bpp)
    assert main(["anchors", "--data", str(tmp_path / "imgs"), "--codecs", "bpg"]) == 2


def test_comparison_cell_formats_and_names_undefined() -> None:
    bpp, psnr = [0.1, 0.2, 0.4, 0.8], [28.0, 30.5, 33.0, 36.0]
    assert comparison_cell(rate_at_equal_quality, bpp, psnr, 0.18, 30.5, "%", digits=1) == "-10.0%"
    # a point above the anchor's best quality: no rate at equal quality exists
    assert comparison_cell(rate_at_equal_quality, bpp, psnr, 1.0, 40.0, "%", undefined="outside") == "outside"
