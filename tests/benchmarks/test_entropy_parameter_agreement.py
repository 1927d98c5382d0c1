"""benchmarks/entropy_parameter_agreement.py: σ computed in other summation orders, float and fixed point."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from mmcodec.zoo import find_entry, load_model

from .scripts import load_benchmark

ASTRONAUT = Path(__file__).resolve().parents[2] / "mmcodec" / "assets" / "astronaut.png"


def test_the_flipped_copy_is_the_same_function_with_other_sums() -> None:
    bench = load_benchmark("entropy_parameter_agreement")
    codec = load_model(find_entry())
    z_hat = torch.randint(-3, 4, (1, codec.n, 4, 6)).float()
    flipped = bench.flipped_copy(codec)
    assert torch.allclose(bench.parameters(codec, z_hat, None, "float")[0],
                          bench.parameters(flipped, z_hat, None, "float", flipped=True)[0], atol=1e-4)


def test_the_flipped_copy_of_a_conditioned_model_reverses_the_colour() -> None:
    bench = load_benchmark("entropy_parameter_agreement")
    codec = load_model(find_entry("rgb-conditional-depth-n32-mse-512"))
    z_hat = torch.randint(-3, 4, (1, codec.n, 2, 3)).float()
    colour = torch.rand(1, 3, 128, 192)
    flipped = bench.flipped_copy(codec)
    for mode in ("float", "integer"):
        assert torch.allclose(bench.parameters(codec, z_hat, colour, mode)[0].double(),
                              bench.parameters(flipped, z_hat, colour, mode, flipped=True)[0].double(), atol=1e-4)


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


def test_a_conditioned_model_measured_both_ways() -> None:
    """[depth, colour] of 128×192: the ramps above beside the astronaut crop."""
    ramp = torch.linspace(0.01, 0.06, 192).repeat(128, 1)
    colour = torch.from_numpy(np.array(Image.open(ASTRONAUT).convert("RGB").crop((0, 0, 192, 128))))
    x = torch.cat([ramp[None, None], colour.permute(2, 0, 1)[None].float() / 255], dim=1)
    bench = load_benchmark("entropy_parameter_agreement")
    row = bench.measure(find_entry("rgb-conditional-depth-n32-mse-512"), [x], 65535)
    assert row["integer_disagreeing_scales"] == 0 and row["scales"] == 48 * 8 * 12
    assert abs(row["integer_bytes"] - row["float_bytes"]) <= 8


def test_a_channel_conditional_model_measured_both_ways(tmp_path) -> None:
    crop = Image.open(ASTRONAUT).convert("RGB").crop((0, 0, 192, 128))
    crop.save(tmp_path / "crop.png")
    bench = load_benchmark("entropy_parameter_agreement")
    row = bench.measure(find_entry("mean-scale-channel-n64-mse-0.0067"), bench.kodak_inputs(tmp_path), 255)
    assert row["scales"] == 128 * 8 * 12   # every slice's σ
    assert row["integer_disagreeing_scales"] == 0 and row["integer_images_affected"] == 0
    assert abs(row["integer_bytes"] - row["float_bytes"]) <= 16
    assert abs(row["integer_psnr"] - row["float_psnr"]) < 0.01
