"""Complexity figures: parameters, MACs per pixel (hooks + attention), coding time."""
import torch
from torch import nn

from mmcodec.codecs import create
from mmcodec.codecs.channel_autoregressive import ChannelAutoregressiveCodec
from mmcodec.codecs.tcm import TCMCodec
from mmcodec.evaluate.profile import count_macs, count_parameters, macs_per_pixel, time_coding
from mmcodec.layers.window_attention import WindowAttention


def test_count_parameters() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Linear(5, 2))
    assert count_parameters(model) == 3 * 4 * 9 + 4 + 5 * 2 + 2
    model[1].requires_grad_(False)
    assert count_parameters(model, trainable_only=True) == 3 * 4 * 9 + 4


def test_macs_of_convolutions_and_linears() -> None:
    model = nn.Sequential(nn.Conv2d(3, 8, 5, stride=2, padding=2), nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1),
                          nn.Conv2d(4, 4, 3, padding=1, groups=2))
    macs = count_macs(model, torch.rand(1, 3, 16, 16))
    assert macs["conv"] == 8 * 8 * 8 * 3 * 25 + 4 * 16 * 16 * 2 * 9
    assert macs["deconv"] == 8 * 8 * 8 * 4 * 16
    assert macs["total"] == macs["conv"] + macs["deconv"]
    assert count_macs(nn.Linear(6, 5), torch.rand(7, 6))["linear"] == 7 * 5 * 6


def test_attention_matmuls_are_counted_per_window() -> None:
    attention = WindowAttention(dim=16, head_dim=8, window=4)
    macs = count_macs(attention, torch.rand(1, 8, 8, 16))
    tokens = 64
    assert macs["attention"] == 2 * tokens * 16 * 16          # QKᵀ and AV: tokens × window² × width
    assert macs["linear"] == tokens * 16 * 48 + tokens * 16 * 16


def test_macs_per_pixel_of_a_tiny_codec() -> None:
    torch.manual_seed(0)
    codec = create("tcm", **TCMCodec.test_config)
    breakdown = count_macs(codec, torch.rand(1, 3, 64, 64))
    assert breakdown["attention"] > 0 and breakdown["gdn"] > 0 and breakdown["linear"] > 0
    assert macs_per_pixel(codec, 37, 53) == breakdown["total"] / (37 * 53)   # padded to 64 × 64


def test_coding_time_of_a_tiny_codec() -> None:
    torch.manual_seed(0)
    codec = create("ms2020", **ChannelAutoregressiveCodec.test_config)
    timing = time_coding(codec, 64, 64, repeats=1, warmup=0)
    assert timing["encode_s"] > 0 and timing["decode_s"] > 0 and timing["bytes"] > 0
    assert not codec.training


def test_cli_profile_prints_the_table(capsys) -> None:
    from mmcodec.cli import main

    assert main(["profile", "hyperprior", "--config", '{"n": 8, "m": 12}', "--size", "64", "64",
                 "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "| hyperprior" in out and "kMACs/pixel" in out
    assert main(["profile", "tcm", "--config", '{"n": 16, "m": 32}']) == 2


def test_coding_time_of_a_conditional_depth_codec() -> None:
    torch.manual_seed(0)
    codec = create("rgb-conditional-depth", n=8, m=12)
    timing = time_coding(codec, 64, 64, repeats=1, warmup=0)
    assert timing["encode_s"] > 0 and timing["decode_s"] > 0 and timing["bytes"] > 0
