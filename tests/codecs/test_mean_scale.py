"""codecs/mean_scale.py: coding with the fixed-point entropy parameters, and with the float ones of older files."""
import torch

from mmcodec.codecs.base import float_entropy_parameters
from mmcodec.codecs.mean_scale import MeanScaleHyperpriorCodec


def small_codec() -> MeanScaleHyperpriorCodec:
    torch.manual_seed(0)
    codec = MeanScaleHyperpriorCodec(n=8, m=16).eval()
    codec.update()
    return codec


def test_the_encoder_codes_with_the_fixed_point_entropy_parameters() -> None:
    codec = small_codec()
    x = torch.rand(1, 3, 64, 128)
    coded = codec.compress(x)
    assert coded.entropy_parameters == "integer"
    x_hat, digest = codec.decompress(coded)
    assert digest == coded.digest and x_hat.shape == x.shape


def test_float_entropy_parameters_round_trip_as_files_before_them() -> None:
    codec = small_codec()
    x = torch.rand(1, 3, 64, 128)
    with float_entropy_parameters(codec):
        coded = codec.compress(x)
    assert coded.entropy_parameters == "float"
    assert codec.decompress(coded)[1] == coded.digest


def test_both_modes_give_nearly_the_same_decoder_input() -> None:
    """μ differs by the fixed-point step, σ indices rarely: the same stream size within a few bytes."""
    codec = small_codec()
    x = torch.rand(1, 3, 128, 128)
    integer = codec.compress(x)
    with float_entropy_parameters(codec):
        floating = codec.compress(x)
    assert codec.compress(x).entropy_parameters == "integer"   # back to the fixed point after the block
    size = sum(len(s) for s in integer.streams.values())
    assert abs(size - sum(len(s) for s in floating.streams.values())) <= max(4, size // 100)
    assert torch.allclose(codec.decompress(integer)[0], codec.decompress(floating)[0], atol=0.02)
