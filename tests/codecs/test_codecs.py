"""Every registered codec: shapes for any size and channel count, exact latent round trip,
determinism, and the registry's names and aliases."""
import contextlib

import pytest
import torch

from mmcodec.codecs import architecture_class, architectures, canonical_name, create
from mmcodec.codecs.base import float_entropy_parameters
from mmcodec.errors import ModelError

from .coding_checks import decompress_single_threaded, moved_off_initialisation

SMALL = {"n": 16, "m": 24}
NAMES = sorted(n for n in architectures() if architecture_class(n).modality == "image")  # depth: own tests


def small_config(name: str) -> dict:
    """An architecture's own tiny configuration (``test_config``), else SMALL."""
    return dict(getattr(architecture_class(name), "test_config", SMALL))


def small_codec(name: str, **extra) -> torch.nn.Module:
    torch.manual_seed(0)
    codec = create(name, **small_config(name), **extra)
    codec.update()
    return codec.eval()


def test_literature_aliases_resolve() -> None:
    assert canonical_name("bmshj2018-factorized") == "factorized"
    assert canonical_name("bmshj2018-hyperprior") == "hyperprior"
    assert canonical_name("MBT2018-MEAN") == "mean-scale"
    with pytest.raises(ModelError, match="unknown architecture"):
        canonical_name("no-such-codec")


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("channels", [1, 3])
def test_forward_shapes_for_odd_sizes(name: str, channels: int) -> None:
    codec = create(name, **small_config(name), in_channels=channels).train()
    x = torch.rand(2, channels, 37, 53)
    padded = codec.pad(x)
    assert padded.shape[-2] % codec.padding_multiple == 0 and padded.shape[-1] % codec.padding_multiple == 0
    out = codec(padded)
    assert out["x_hat"].shape == padded.shape
    assert codec.crop(out["x_hat"], 37, 53).shape == x.shape
    for likelihoods in out["likelihoods"].values():
        assert bool(((likelihoods > 0) & (likelihoods <= 1)).all())


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("band_pixels", [None, 32 * 32], ids=["one-band", "bands"])
def test_the_encoders_reconstruction_is_the_decoders_output(name: str, band_pixels: int | None) -> None:
    """``reconstruct`` (the synthesis of the ŷ the encoder kept) is the decoder's x̂ bit for bit,
    in one band and in several; a CodedLatents read from a file (no ŷ kept) is decoded instead."""
    from mmcodec.codecs import CodedLatents

    codec = moved_off_initialisation(small_codec(name), 0.02, seed=3)
    codec.update()
    if band_pixels:
        codec.band_pixels = band_pixels
    x = codec.pad(torch.rand(1, 3, 70, 90))
    coded = codec.compress(x)
    assert set(coded.decoded) == {"y"}
    x_hat = codec.decompress(coded)[0]
    assert torch.equal(codec.reconstruct(coded), x_hat)
    from_file = CodedLatents(coded.streams, coded.shapes, coded.digest, coded.dependencies, coded.entropy_parameters)
    assert torch.equal(codec.reconstruct(from_file), x_hat)
    shifted = CodedLatents(coded.streams, coded.shapes, coded.digest, coded.dependencies, coded.entropy_parameters,
                           {"y": coded.decoded["y"] + 1})
    assert not torch.equal(codec.reconstruct(shifted), x_hat)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("mode", ["float", "integer"])
def test_decoded_latents_equal_encoded_latents(name: str, mode: str) -> None:
    codec = small_codec(name)
    if mode not in codec.entropy_parameter_modes:
        pytest.skip(f"{name} has no {mode} entropy parameters")
    x = codec.pad(torch.rand(1, 3, 70, 90))
    with float_entropy_parameters(codec) if mode == "float" else contextlib.nullcontext():
        coded = codec.compress(x)
    assert coded.entropy_parameters == mode
    assert set(coded.shapes) == set(codec.latent_shapes(*x.shape[-2:]))
    x_hat, digest = codec.decompress(coded)
    assert digest == coded.digest
    assert x_hat.shape == x.shape
    # the decoder's output equals the model's own evaluation-mode reconstruction; with fixed-point
    # entropy parameters, μ and LRP's corrections move ŷ by a few units of 2^-14
    torch.testing.assert_close(x_hat, codec(x)["x_hat"], atol=1e-5 if mode == "float" else 2e-4, rtol=0)


@pytest.mark.parametrize("name", NAMES)
def test_coding_is_deterministic_across_runs_and_threads(name: str) -> None:
    codec = small_codec(name)
    x = codec.pad(torch.rand(1, 3, 64, 64))
    first = codec.compress(x)
    assert codec.compress(x).streams == first.streams
    single, _ = decompress_single_threaded(codec, first)
    multi, _ = codec.decompress(first)
    assert torch.equal(single, multi)


def test_laplace_variant_codes() -> None:
    codec = small_codec("mean-scale", distribution="laplace")
    x = codec.pad(torch.rand(1, 3, 64, 64))
    coded = codec.compress(x)
    assert codec.decompress(coded)[1] == coded.digest
