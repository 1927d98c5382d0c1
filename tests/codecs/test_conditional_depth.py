"""Depth codecs: depth-only and RGB-conditioned mean-scale hyperpriors."""
import pytest
import torch

from mmcodec.codecs import create

CONFIG = {"n": 16, "m": 24}


@pytest.fixture(params=["depth-mean-scale", "rgb-conditional-depth"])
def codec(request):
    torch.manual_seed(0)
    model = create(request.param, **CONFIG).eval()
    model.update()
    return model


def _input(codec, h=64, w=128):
    torch.manual_seed(1)
    depth = torch.rand(1, 1, h, w) * 0.05 + 0.02
    return torch.cat([depth, torch.rand(1, 3, h, w)], 1) if codec.context is not None else depth


def test_shapes_and_channels(codec):
    x = _input(codec)
    out = codec.train()(torch.cat([x, x]))
    assert out["x_hat"].shape == (2, 1, 64, 128)
    assert out["likelihoods"]["y"].shape == (2, 24, 4, 8) and out["likelihoods"]["z"].shape == (2, 16, 1, 2)
    assert codec.in_channels == (4 if codec.context is not None else 1) and codec.out_channels == 1


def test_exact_deterministic_round_trip(codec):
    x = _input(codec)
    context = x[:, 1:] if codec.context is not None else None
    coded = codec.compress(x)
    assert codec.compress(x).streams == coded.streams
    x_hat, digest = codec.decompress(coded, context)
    assert digest == coded.digest
    torch.testing.assert_close(x_hat, codec(x)["x_hat"], atol=1e-5, rtol=0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        single, single_digest = codec.decompress(coded, context)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(single, x_hat) and single_digest == digest


def test_the_context_changes_the_conditional_decoding():
    torch.manual_seed(0)
    codec = create("rgb-conditional-depth", **CONFIG).eval()
    codec.update()
    x = _input(codec)
    coded = codec.compress(x)
    _, digest = codec.decompress(coded, x[:, 1:])
    other, other_digest = codec.decompress(coded, torch.zeros_like(x[:, 1:]))
    assert digest == coded.digest
    assert other_digest != digest or not torch.equal(other, codec.decompress(coded, x[:, 1:])[0])


def test_context_must_match_the_kind_of_codec():
    torch.manual_seed(0)
    for name, context in (("depth-mean-scale", torch.zeros(1, 3, 64, 64)), ("rgb-conditional-depth", None)):
        codec = create(name, **CONFIG).eval()
        codec.update()
        x = torch.rand(1, codec.in_channels, 64, 64) * 0.1
        with pytest.raises(ValueError, match="decoded RGB"):
            codec.decompress(codec.compress(x), context)
