"""Encoder-side latent refinement (SGA): the codecs' split coding interface, the rounding
relaxation, and refinement lowering the real R + λ·D of a shipped model's files."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image as PILImage

import mmcodec
from mmcodec import api
from mmcodec.codecs import architecture_class, architectures, refinement
from mmcodec.codecs.refinement import annealed_rounding, exact_rounding, rate_distortion, refine_latents
from mmcodec.errors import InputError, ModelError
from mmcodec.zoo import find_entry

from .test_codecs import small_codec

ASTRONAUT = Path(__file__).resolve().parents[2] / "mmcodec" / "assets" / "astronaut.png"
REFINABLE = sorted(n for n in architectures() if architecture_class(n).refinable)


def test_every_shipped_architecture_is_refinable() -> None:
    assert {"factorized", "hyperprior", "mean-scale", "ms2020", "tcm", "depth-mean-scale", "rgb-conditional-depth",
            "tcm-4c", "mm-tcm-conv", "mm-tcm-attention"} <= set(REFINABLE)


@pytest.mark.parametrize("name", REFINABLE)
def test_exact_relaxed_forward_is_the_evaluation_forward(name: str) -> None:
    codec = small_codec(name)
    x = codec.pad(torch.rand(1, codec.in_channels, 70, 90))
    with torch.no_grad():
        latents = codec.initial_latents(x)
        relaxed = codec.relaxed_forward(latents, exact_rounding, codec.side_information(x))
        reference = codec(x)
    torch.testing.assert_close(relaxed["x_hat"], reference["x_hat"], atol=1e-5, rtol=0)
    assert set(relaxed["likelihoods"]) == set(reference["likelihoods"])
    for key, likelihoods in reference["likelihoods"].items():
        torch.testing.assert_close(relaxed["likelihoods"][key], likelihoods, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("name", REFINABLE)
def test_compress_codes_the_initial_latents(name: str) -> None:
    codec = small_codec(name)
    x = codec.pad(torch.rand(1, codec.in_channels, 64, 64))
    with torch.no_grad():
        coded = codec.compress_latents(codec.initial_latents(x), codec.side_information(x))
    assert coded.streams == codec.compress(x).streams


def test_a_conditioned_codec_needs_its_side_information() -> None:
    codec = small_codec("rgb-conditional-depth")
    x = codec.pad(torch.rand(1, 4, 64, 64))
    with pytest.raises(ValueError, match="context features"):
        codec.compress_latents(codec.initial_latents(x))


def test_pixels_outside_the_valid_mask_cost_no_distortion() -> None:
    codec = small_codec("depth-mean-scale")
    x = codec.pad(torch.rand(1, 1, 64, 64))
    latents = codec.initial_latents(x)
    with torch.no_grad():
        nothing_valid = rate_distortion(codec, latents, exact_rounding, x, 100.0, "mse",
                                        valid=torch.zeros(1, 1, 64, 64, dtype=torch.bool))
        everything = rate_distortion(codec, latents, exact_rounding, x, 100.0, "mse",
                                     valid=torch.ones(1, 1, 64, 64, dtype=torch.bool))
        rate = sum(-torch.log2(p).sum() for p in codec.relaxed_forward(latents, exact_rounding)["likelihoods"].values())
        unmasked = rate_distortion(codec, latents, exact_rounding, x, 100.0, "mse")
    assert float(nothing_valid) == pytest.approx(float(rate) / 64 ** 2, rel=1e-5)
    assert float(everything) == pytest.approx(float(unmasked), rel=1e-6)
    assert float(everything) > float(nothing_valid)


def test_annealed_rounding_picks_a_neighbour_and_has_a_gradient() -> None:
    values = (torch.randn(4000) * 3).requires_grad_(True)
    means = torch.randn(4000)
    cold = annealed_rounding(0.01, torch.Generator().manual_seed(0))(values, means)
    offset = (values - means).detach()
    # cold: (almost) a hard choice of ⌊v − μ⌋ or ⌈v − μ⌉, around μ
    assert bool(((cold.detach() - means) >= torch.floor(offset) - 1e-4).all())
    assert bool(((cold.detach() - means) <= torch.floor(offset) + 1 + 1e-4).all())
    nearest = (torch.abs(cold.detach() - quantized(offset, means)) < 1e-3).float().mean()
    assert nearest > 0.8   # the nearer integer is the likelier one
    cold.sum().backward()
    assert values.grad is not None and bool(torch.isfinite(values.grad).all()) and values.grad.abs().sum() > 0


def quantized(offset: torch.Tensor, means: torch.Tensor) -> torch.Tensor:
    return torch.round(offset) + means


@pytest.fixture(scope="module")
def default_codec_and_crop():
    entry = find_entry(None)
    codec = api.get_codec(entry)
    pixels = np.asarray(PILImage.open(ASTRONAUT).convert("RGB"))[:128, 64:256]
    x = torch.from_numpy(pixels.astype(np.float32) / 255).permute(2, 0, 1).unsqueeze(0)
    return entry, codec, pixels, x


def test_refinement_lowers_the_loss_of_a_trained_model(default_codec_and_crop) -> None:
    entry, codec, _, x = default_codec_and_crop
    result = refine_latents(codec, codec.pad(x), 128, 192, entry.lmbda, entry.metric, steps=20)
    assert result.final_loss < result.initial_loss
    with torch.no_grad():
        again = rate_distortion(codec, result.latents, exact_rounding, x, entry.lmbda, entry.metric)
    assert float(again) == pytest.approx(result.final_loss, rel=1e-5)


def test_the_last_temperature_is_a_knob_of_the_schedule(default_codec_and_crop) -> None:
    entry, codec, _, x = default_codec_and_crop
    padded = codec.pad(x)

    def refined(tau_end: float) -> dict[str, torch.Tensor]:
        return refine_latents(codec, padded, 128, 192, entry.lmbda, entry.metric, steps=10, tau_end=tau_end).latents

    default, again, warm = refined(refinement.TAU_END), refined(refinement.TAU_END), refined(refinement.TAU_START)
    assert all(torch.equal(default[k], again[k]) for k in default)          # deterministic for one schedule
    assert any(not torch.equal(default[k], warm[k]) for k in default)       # another schedule, other latents
    assert refinement.TAU_END < refinement.TAU_START


def test_without_a_better_point_the_encoders_latents_are_kept(default_codec_and_crop) -> None:
    entry, codec, _, x = default_codec_and_crop
    padded = codec.pad(x)
    result = refine_latents(codec, padded, 128, 192, entry.lmbda, entry.metric, steps=3, learning_rate=0.0)
    assert result.final_loss == result.initial_loss
    assert codec.compress_latents(result.latents, result.side).streams == codec.compress(padded).streams


def test_refined_files_are_smaller_for_the_same_or_better_quality_and_deterministic(default_codec_and_crop):
    entry, _, pixels, _ = default_codec_and_crop
    plain = mmcodec.compress(pixels)
    refined = mmcodec.compress(pixels, refine_steps=30)
    assert mmcodec.compress(pixels, refine_steps=30) == refined
    decoded_plain = mmcodec.decompress(plain)["image"]
    decoded = mmcodec.decompress(refined)["image"]     # a plain decoder reads it

    def loss(data: bytes, decoded: np.ndarray) -> float:
        mse = np.mean((decoded.astype(np.float64) - pixels) ** 2)
        return 8 * len(data) / pixels[..., 0].size + entry.lmbda * mse

    assert loss(refined, decoded) < loss(plain, decoded_plain)


def test_refusals(default_codec_and_crop, monkeypatch) -> None:
    entry, codec, _, x = default_codec_and_crop
    padded = codec.pad(x)
    with pytest.raises(InputError, match="at least one step"):
        refine_latents(codec, padded, 128, 192, entry.lmbda, entry.metric, steps=0)
    with pytest.raises(InputError, match="limited to 10000 steps"):
        refine_latents(codec, padded, 128, 192, entry.lmbda, entry.metric, steps=10_001)
    with pytest.raises(ModelError, match="λ"):
        refine_latents(codec, padded, 128, 192, 0.0, entry.metric, steps=5)
    monkeypatch.setattr(refinement, "MAX_REFINE_PIXELS", 64 * 64)
    with pytest.raises(InputError, match="limited to 4096 pixels"):
        refine_latents(codec, padded, 128, 192, entry.lmbda, entry.metric, steps=5)
    class WithoutRefinement(type(codec)):     # a user's codec that does not split its coding
        refinable = False
    other = WithoutRefinement(**codec.config())
    with pytest.raises(ModelError, match="does not support latent refinement"):
        refine_latents(other, padded, 128, 192, entry.lmbda, entry.metric, steps=5)
    with pytest.raises(ModelError, match="objective"):
        refine_latents(codec, padded, 128, 192, entry.lmbda, "l1", steps=5)
