"""mmcodec eval: real bitstreams on a folder, CompressAI schema, bpp from the bytes."""
import json
from pathlib import Path

import numpy as np
import pytest

from mmcodec.cli import main
from mmcodec.evaluate.jpeg_match import jpeg_for_psnr
from mmcodec.evaluate.metrics import ms_ssim_db, psnr
from mmcodec.modalities.image import Image, read_image, write_image
from mmcodec.zoo import find_entry

ASTRONAUT = Path(__file__).resolve().parents[2] / "mmcodec" / "assets" / "astronaut.png"


def test_eval_writes_compressai_schema(tmp_path) -> None:
    (tmp_path / "imgs").mkdir()
    pixels = read_image(ASTRONAUT).pixels
    write_image(tmp_path / "imgs" / "a.png", Image(np.ascontiguousarray(pixels[:192, :256]), 8))
    write_image(tmp_path / "imgs" / "b.png", Image(np.ascontiguousarray(pixels[200:264, 100:180]), 8))
    assert main(["eval", "--data", str(tmp_path / "imgs"), "-o", str(tmp_path / "r.json")]) == 0
    result = json.loads((tmp_path / "r.json").read_text())
    assert {"name", "description", "results", "per_image"} <= set(result)
    per_image = result["per_image"]
    assert [r["name"] for r in per_image] == ["a.png", "b.png"]
    for row, (h, w) in zip(per_image, [(192, 256), (64, 80)]):
        assert row["bpp"] == pytest.approx(8 * row["bytes"] / (h * w))
        assert abs(row["bpp"] - row["estimated_bpp"]) < 0.05 * row["bpp"] + 8 * 200 / (h * w)
    assert "ms-ssim-rgb" in per_image[0] and "ms-ssim-rgb" not in per_image[1]  # too small for 5 scales
    assert result["results"]["bpp"][0] == pytest.approx(np.mean([r["bpp"] for r in per_image]))
    assert [r["model_version"] for r in per_image] == [2, 2] and result["model_versions"] == [2]   # which files


def test_metrics_and_jpeg_matching() -> None:
    pixels = read_image(ASTRONAUT).pixels[:128, :128]
    assert psnr(pixels, pixels) == float("inf")
    noisy = np.clip(pixels.astype(int) + 1, 0, 255).astype(np.uint8)
    assert psnr(pixels, noisy) > 45
    assert ms_ssim_db(0.99) == pytest.approx(20.0)
    point = jpeg_for_psnr(pixels, 30.0)
    assert point is not None and point.psnr >= 30.0
    assert jpeg_for_psnr(pixels, 80.0) is None


def test_eval_with_refinement_names_the_curve_and_lowers_the_loss(tmp_path) -> None:
    (tmp_path / "imgs").mkdir()
    pixels = read_image(ASTRONAUT).pixels
    write_image(tmp_path / "imgs" / "a.png", Image(np.ascontiguousarray(pixels[:128, 64:256]), 8))
    assert main(["eval", "--data", str(tmp_path / "imgs"), "-o", str(tmp_path / "plain.json")]) == 0
    assert main(["eval", "--data", str(tmp_path / "imgs"), "--refine", "20", "-o", str(tmp_path / "r.json")]) == 0
    plain, refined = (json.loads((tmp_path / f).read_text()) for f in ("plain.json", "r.json"))
    assert refined["name"] == plain["name"] + "+refine20" and "latents refined 20 steps" in refined["description"]
    assert refined["per_image"][0]["estimated_bpp"] == pytest.approx(plain["per_image"][0]["estimated_bpp"])

    lmbda = find_entry(None).lmbda

    def loss(row: dict) -> float:   # bits per pixel + λ·255²·MSE, the default model's objective
        return row["bpp"] + lmbda * 255 ** 2 * 10 ** (-row["psnr-rgb"] / 10)

    assert loss(refined["per_image"][0]) < loss(plain["per_image"][0])
