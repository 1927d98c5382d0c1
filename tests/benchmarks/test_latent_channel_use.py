"""benchmarks/latent_channel_use.py: which latent channels of a model carry its bits."""
from __future__ import annotations

from pathlib import Path

import torch

from .scripts import load_benchmark

ASTRONAUT = Path(__file__).resolve().parents[2] / "mmcodec" / "assets" / "astronaut.png"


def test_the_channels_are_counted_from_the_richest_down() -> None:
    channel_use = load_benchmark("latent_channel_use").channel_use
    bits = torch.tensor([0.0, 6.0, 0.0005, 3.0, 1.0], dtype=torch.float64)   # 10.0005 bits in all
    use = channel_use(bits)
    assert use["channels_50"] == 1 and use["channels_90"] == 3 and use["channels_99"] == 3
    assert use["idle"] == 2          # 0 and 0.0005: under 0.1% of the bits each
    assert abs(use["y_bpp"] - 10.0005) < 1e-12


def test_a_shipped_model_spends_its_bits_in_its_channels() -> None:
    fields, per_channel = load_benchmark("latent_channel_use").channel_bits("mbt2018-mean-n64-mse-0.05", [ASTRONAUT])
    assert fields["m"] == 128 and per_channel.shape == (128,)
    assert (per_channel >= 0).all() and 0.3 < float(per_channel.sum()) < 3.0     # bpp of ŷ at the highest rate
