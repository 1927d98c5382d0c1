"""Depth codecs: depth-only and RGB-conditioned mean-scale hyperpriors."""
import pytest
import torch

from mmcodec.codecs import create
from mmcodec.errors import ModelError
from mmcodec.train.checkpoint import read_model_weights
from mmcodec.zoo import find_entry, load_model

from .coding_checks import moved_off_initialisation

CONFIG = {"n": 16, "m": 24}


@pytest.fixture(params=[("depth-mean-scale", False), ("rgb-conditional-depth", False),
                        ("rgb-conditional-depth", True)], ids=["depth", "conditional", "conditional-residual"])
def codec(request):
    name, residual = request.param
    torch.manual_seed(0)
    model = create(name, **CONFIG, **({"prior_residual": True} if residual else {})).eval()
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




def test_a_conditional_model_starts_exactly_as_the_depth_only_model():
    depth_only = moved_off_initialisation(create("depth-mean-scale", **CONFIG), 0.01, seed=2).eval()
    torch.manual_seed(3)
    conditional = create("rgb-conditional-depth", **CONFIG, prior_residual=True).eval()
    conditional.load_initial_weights(depth_only.state_dict())
    depth_only.update()
    conditional.update()
    torch.manual_seed(1)
    depth, colour = torch.rand(1, 1, 64, 128) * 0.05 + 0.02, torch.rand(1, 3, 64, 128)
    alone, joint = depth_only(depth), conditional(torch.cat([depth, colour], 1))
    torch.testing.assert_close(joint["x_hat"], alone["x_hat"], atol=1e-6, rtol=0)
    for key in ("y", "z"):
        torch.testing.assert_close(joint["likelihoods"][key], alone["likelihoods"][key], atol=1e-6, rtol=1e-5)
    assert conditional.compress(torch.cat([depth, colour], 1)).streams == depth_only.compress(depth).streams
    # and it is a conditional model: the context encoder and e's first layer are not zero, so training moves it
    assert conditional.context.stages[0][0].weight.abs().sum() > 0
    assert conditional.g_a[0].weight[:, 1:].abs().sum() == 0 and conditional.g_a[0].weight[:, :1].abs().sum() > 0


def test_a_shipped_depth_model_starts_a_conditional_run():
    entry = find_entry("depth-mean-scale-n32-mse-32")
    shipped = load_model(entry)
    conditional = create("rgb-conditional-depth", **{**shipped.config(), "context_channels": 3}, prior_residual=True)
    conditional.load_initial_weights(read_model_weights(entry.path))   # entropy tables and fp16 storage included
    torch.testing.assert_close(conditional.g_s.ups[0].weight[:48], shipped.g_s.ups[0].weight, atol=0, rtol=0)


def test_initial_weights_are_refused_when_they_do_not_fit():
    depth_only = create("depth-mean-scale", **CONFIG).state_dict()
    with pytest.raises(ModelError, match="prior_residual"):
        create("rgb-conditional-depth", **CONFIG).load_initial_weights(depth_only)
    wider = create("depth-mean-scale", n=16, m=32).state_dict()
    with pytest.raises(ModelError, match="shape"):
        create("rgb-conditional-depth", **CONFIG, prior_residual=True).load_initial_weights(wider)
    conditional = create("rgb-conditional-depth", **CONFIG, prior_residual=True)
    with pytest.raises(ModelError, match="prior_residual"):          # the other way round
        create("depth-mean-scale", **CONFIG).load_initial_weights(conditional.state_dict())


def test_prior_residual_is_recorded_in_the_config():
    model = create("rgb-conditional-depth", **CONFIG, prior_residual=True)
    assert model.config()["prior_residual"] is True
    assert "prior_residual" not in create("rgb-conditional-depth", **CONFIG).config()  # older weights load as before
    again = create("rgb-conditional-depth", **model.config())
    again.load_state_dict(model.state_dict())
    assert again.prior_residual


def test_codes_with_fixed_point_entropy_parameters_and_decodes_float_files_too(codec):
    from mmcodec.codecs.base import float_entropy_parameters

    x = codec.pad(_input(codec))
    coded = codec.compress(x)
    assert coded.entropy_parameters == "integer"
    context = x[:, 1:] if codec.context is not None else None
    assert codec.decompress(coded, context)[1] == coded.digest
    with float_entropy_parameters(codec):
        legacy = codec.compress(x)
    assert legacy.entropy_parameters == "float" and codec.decompress(legacy, context)[1] == legacy.digest


@pytest.fixture(scope="module")
def shipped_conditioned():
    return load_model(find_entry("rgb-conditional-depth-n32-mse-128"))


def _hyper_and_colour(codec, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A ẑ-like input (integers plus per-channel medians) and a colour image, 128 × 192."""
    generator = torch.Generator().manual_seed(seed)
    medians = codec.z_model.medians.view(1, -1, 1, 1)
    z_hat = torch.randint(-3, 4, (1, codec.n, 2, 3), generator=generator).float() + medians
    return z_hat, torch.rand(1, 3, 128, 192, generator=generator)


def test_fixed_point_conditional_parameters_follow_the_float_ones(shipped_conditioned):
    codec = shipped_conditioned
    z_hat, colour = _hyper_and_colour(codec, 0)
    with torch.no_grad():
        float_scales, float_means = codec._gaussian_parameters(z_hat, codec.context(colour))
    scales, means = codec._gaussian_parameters(z_hat, None, "integer", colour)
    assert scales.dtype == torch.float64 and means.dtype == torch.float32
    assert (scales - float_scales.double()).abs().max().item() < 0.01   # measured 0.0004 (σ up to 5.6)
    assert (means - float_means).abs().max().item() < 0.01              # measured 0.0014 (μ up to 15)


def test_fixed_point_conditional_parameters_do_not_depend_on_the_order_of_the_sums(shipped_conditioned):
    """The colour's channels reversed (and f_c's first weights with them): the same function with every
    sum of f_c's first layer in another order, as on another platform. The fixed-point σ do not move."""
    codec = shipped_conditioned
    z_hat, colour = _hyper_and_colour(codec, 1)
    flipped = create("rgb-conditional-depth", **codec.config()).eval()
    flipped.load_state_dict(codec.state_dict())
    with torch.no_grad():
        flipped.context.stages[0][0].weight.copy_(codec.context.stages[0][0].weight.flip(1))
        float_moved = not torch.equal(codec.context(colour)[3], flipped.context(colour.flip(1))[3])
    scales, means = codec._gaussian_parameters(z_hat, None, "integer", colour)
    again_scales, again_means = flipped._gaussian_parameters(z_hat, None, "integer", colour.flip(1))
    assert torch.equal(scales, again_scales) and torch.equal(means, again_means)
    assert float_moved   # the test's premise: the float features did depend on the order


def test_the_fixed_point_colour_features_in_bands_are_the_whole_frames_bits(shipped_conditioned):
    codec = shipped_conditioned
    colour = torch.rand(1, 3, 320, 128, generator=torch.Generator().manual_seed(2))
    whole = codec._fixed_point_context(colour)
    codec.band_pixels = 32 * 128   # bands of 32 rows with a 64-row halo: ten bands
    try:
        banded = codec._fixed_point_context(colour)
    finally:
        del codec.band_pixels
    assert torch.equal(banded, whole)


def test_the_decoder_synthesis_in_bands_follows_the_whole_frame(shipped_conditioned):
    """g_s with f_c computed per band of ŷ from the band's own rows of x̂_rgb: float rounding only;
    a band reading too few neighbouring rows would differ visibly (halo 1: 0.008 measured here)."""
    codec = shipped_conditioned
    generator = torch.Generator().manual_seed(3)
    colour = torch.rand(1, 3, 320, 128, generator=generator)
    y_hat = torch.randint(-3, 4, (1, codec.m, 20, 8), generator=generator).float()
    with torch.no_grad():
        whole = codec.g_s(y_hat, codec.context(colour))
        assert torch.equal(codec._banded_synthesis(y_hat, colour), whole)   # a small frame: one band
        codec.band_pixels = 4 * 8 * 256   # bands of 4 latent rows
        try:
            banded = codec._banded_synthesis(y_hat, colour)
        finally:
            del codec.band_pixels
    torch.testing.assert_close(banded, whole, atol=1e-5, rtol=0)


def test_coding_in_bands_decodes_as_the_whole_frame(codec):
    x = codec.pad(_input(codec, h=320, w=64))
    context = x[:, 1:] if codec.context is not None else None
    whole = codec.compress(x)
    whole_depth, _ = codec.decompress(whole, context)
    codec.band_pixels = 64 * 64   # several bands in g_a, the fixed-point f_c and the synthesis
    coded = codec.compress(x)
    depth, digest = codec.decompress(coded, context)
    assert digest == coded.digest
    torch.testing.assert_close(depth, whole_depth, atol=1e-4, rtol=0)


@pytest.mark.parametrize("band_pixels", [None, 64 * 64], ids=["one-band", "bands"])
def test_the_encoders_reconstruction_is_the_decoders_output(codec, band_pixels):
    """``reconstruct`` (from the ŷ the encoder kept) gives the decoder's depth bit for bit, for
    files of both entropy-parameter modes; a CodedLatents read from a file (no ŷ) is decoded."""
    from mmcodec.codecs.base import CodedLatents, float_entropy_parameters

    x = codec.pad(_input(codec, h=320, w=64))
    context = x[:, 1:] if codec.context is not None else None
    if band_pixels:
        codec.band_pixels = band_pixels
    try:
        coded = codec.compress(x)
        with float_entropy_parameters(codec):
            legacy = codec.compress(x)
        for one in (coded, legacy):
            assert set(one.decoded) == {"y"}
            assert torch.equal(codec.reconstruct(one, context), codec.decompress(one, context)[0])
        from_file = CodedLatents(coded.streams, coded.shapes, coded.digest, coded.dependencies,
                                 coded.entropy_parameters)
        assert torch.equal(codec.reconstruct(from_file, context), codec.decompress(coded, context)[0])
    finally:
        if band_pixels:
            del codec.band_pixels
