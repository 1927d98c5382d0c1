"""benchmarks/entropy_parameter_agreement.py: σ computed in other summation orders, float and fixed-point h_s."""
from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image

from mmcodec.zoo import find_entry, load_model

from .scripts import load_benchmark

ASTRONAUT = Path(__file__).resolve().parents[2] / "mmcodec" / "assets" / "astronaut.png"


def test_the_reversed_copy_is_the_same_function_with_other_sums() -> None:
    bench = load_benchmark("entropy_parameter_agreement")
    h_s = load_model(find_entry()).h_s
    z_hat = torch.randint(-3, 4, (1, h_s[0].in_channels, 4, 6)).float()
    with torch.no_grad():
        assert torch.allclose(h_s(z_hat), bench.reversed_input_copy(h_s)(z_hat.flip(1)), atol=1e-4)


def test_one_image_measured_both_ways(tmp_path) -> None:
    crop = Image.open(ASTRONAUT).convert("RGB").crop((0, 0, 192, 128))
    crop.save(tmp_path / "crop.png")
    bench = load_benchmark("entropy_parameter_agreement")
    row = bench.measure(find_entry(), bench.kodak_inputs(tmp_path), 255)
    assert row["images"] == 1 and row["scales"] == 128 * 8 * 12
    assert row["integer_disagreeing_scales"] == 0 and row["integer_images_affected"] == 0
    assert abs(row["integer_bytes"] - row["float_bytes"]) <= 8    # a few bytes at most on 128×192
    assert abs(row["integer_psnr"] - row["float_psnr"]) < 0.01


def test_a_depth_only_model_measured_both_ways() -> None:
    """A depth map from a shipped depth model's own range, 128×192 (ramps with a step)."""
    ramp = torch.linspace(0.01, 0.06, 192).repeat(128, 1)
    ramp[:, 96:] += 0.02
    bench = load_benchmark("entropy_parameter_agreement")
    row = bench.measure(find_entry("depth-mean-scale-n32-mse-512"), [ramp[None, None]], 65535)
    assert row["integer_disagreeing_scales"] == 0 and row["scales"] > 0
    assert abs(row["integer_bytes"] - row["float_bytes"]) <= 8
