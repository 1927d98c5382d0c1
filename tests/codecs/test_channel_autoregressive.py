"""Minnen & Singh 2020 (arXiv 2007.08739): structure, training outputs, exact slice coding in
float (model version 1) and fixed point (version 2)."""
import contextlib

import pytest
import torch

from mmcodec.codecs import canonical_name, create
from mmcodec.codecs.base import float_entropy_parameters
from mmcodec.codecs.channel_autoregressive import ChannelAutoregressiveCodec
from mmcodec.codecs.fixed_point_slices import FixedPointSlices
from mmcodec.entropy.channel_context import ScaleFromIndex
from mmcodec.errors import ModelError

from ..layers.kernel_variants import on_every_thread_count_and_kernel
from .coding_checks import (
    assert_exact_deterministic_round_trip,
    assert_slice_streams_decode,
    assert_started_from_transforms,
    moved_off_initialisation,
)

TINY = ChannelAutoregressiveCodec.test_config     # n=16, m=40: 10 slices of 4


def tiny(**extra) -> ChannelAutoregressiveCodec:
    torch.manual_seed(0)
    return create("ms2020", **{**TINY, **extra})


def _official_parameter_count(n: int = 192, m: int = 320, slices: int = 10, support: int = 5) -> int:
    """Parameters of tensorflow/compression models/ms2020.py, layer by layer (+ the z prior)."""
    def conv(i, o, k, bias=True):
        return i * o * k * k + (o if bias else 0)

    gdn = n + n * n
    g_a = conv(3, n, 5) + 2 * conv(n, n, 5) + conv(n, m, 5) + 3 * gdn
    g_s = conv(m, n, 5) + 2 * conv(n, n, 5) + conv(n, 3, 5) + 3 * gdn
    h_a = conv(m, 320, 3) + conv(320, 256, 5) + conv(256, n, 5, bias=False)
    h_s = conv(n, 192, 5) + conv(192, 256, 5) + conv(256, 320, 3)
    s = m // slices

    def slice_transform(c):
        return conv(c, 224, 5) + conv(224, 128, 5) + conv(128, s, 3)

    cc = sum(2 * slice_transform(320 + s * min(i, support)) + slice_transform(320 + s * min(i, support) + s)
             for i in range(slices))
    return g_a + g_s + h_a + 2 * h_s + cc + 46 * n


def test_aliases_and_streams() -> None:
    assert canonical_name("minnen2020") == "ms2020" == canonical_name("MS2020")
    codec = tiny()
    shapes = codec.latent_shapes(128, 192)
    assert shapes["z"] == [1, 16, 2, 3]
    assert shapes == {"z": [1, 16, 2, 3], "y": [1, 40, 8, 12]}       # every slice in one stream
    older = codec.latent_layouts(128, 192)[1]                          # files before 2026-12-08: one per slice
    assert [k for k in older if k != "z"] == [f"y{i}" for i in range(10)]
    assert all(older[f"y{i}"] == [1, 4, 8, 12] for i in range(10))


def test_default_model_matches_the_official_layer_list() -> None:
    with torch.device("meta"):
        codec = create("ms2020")
    assert sum(p.numel() for p in codec.parameters()) == _official_parameter_count() == 113_985_155
    model = codec.y_model
    assert (model.num_slices, model.slice_channels, model.max_support_slices) == (10, 32, 5)
    assert [t[0].in_channels for t in model.cc_mean_transforms] == [320 + 32 * min(i, 5) for i in range(10)]
    assert [t[0].in_channels for t in model.lrp_transforms] == [352 + 32 * min(i, 5) for i in range(10)]
    assert codec.h_a[-1].bias is None and isinstance(model.scale_function, ScaleFromIndex)


def test_unlimited_support_conditions_on_every_previous_slice() -> None:
    codec = tiny(m=16, num_slices=4, max_support_slices=-1)
    assert [t[0].in_channels for t in codec.y_model.cc_scale_transforms] == [16, 20, 24, 28]


def test_scale_from_index_is_clipped_with_recovering_gradients() -> None:
    f = ScaleFromIndex()
    index = torch.tensor([-5.0, 0.0, 63.0, 80.0], requires_grad=True)
    scales = f(index)
    torch.testing.assert_close(scales, torch.tensor([0.11, 0.11, 256.0, 256.0]))
    (-scales.sum()).backward()            # asks every scale to grow: only the top one cannot
    assert index.grad[0] < 0 and index.grad[1] < 0 and index.grad[2] < 0 and index.grad[3] == 0


def test_training_forward_likelihoods_and_gradients() -> None:
    codec = tiny().train()
    out = codec(torch.rand(2, 3, 64, 64))
    assert out["x_hat"].shape == (2, 3, 64, 64)
    assert out["likelihoods"]["y"].shape == (2, 40, 4, 4) and out["likelihoods"]["z"].shape == (2, 16, 1, 1)
    for likelihoods in out["likelihoods"].values():
        assert bool(((likelihoods > 0) & (likelihoods <= 1)).all())
    bits = sum(-torch.log2(v).sum() for v in out["likelihoods"].values())
    (bits + out["x_hat"].square().sum()).backward()
    model = codec.y_model
    # (ẑ is all zeros at initialisation, so h_s only trains its biases at first)
    for parameter in (codec.g_a[0].weight, codec.h_mean_s[0].bias, model.cc_scale_transforms[9][0].weight,
                      model.lrp_transforms[0][-1].weight):
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0


def test_latent_residual_prediction_is_bounded() -> None:
    codec = tiny().eval()
    y = torch.randn(1, 40, 4, 4) * 3
    means, scales = torch.randn(1, 40, 4, 4), torch.rand(1, 40, 4, 4)
    with torch.no_grad():
        y_hat, _ = codec.y_model(y, means, scales)
        assert (y_hat - y).abs().max() <= 1.0               # rounding (½) + 0.5·tanh (< ½)
        for transform in codec.y_model.lrp_transforms:      # LRP off: plain rounding around μ
            transform[-1].weight.zero_()
            transform[-1].bias.zero_()
        plain, _ = codec.y_model(y, means, scales)
    assert (plain - y).abs().max() <= 0.5 and not torch.equal(plain, y_hat)


@pytest.mark.parametrize("mode", ["integer", "float"], ids=["version-2", "version-1"])
def test_slices_code_exactly_and_deterministically(mode: str) -> None:
    codec = tiny()
    codec.update()
    codec.eval()
    x = codec.pad(torch.rand(1, 3, 64, 64))
    with float_entropy_parameters(codec) if mode == "float" else contextlib.nullcontext():
        coded = codec.compress(x)
    assert coded.entropy_parameters == mode
    assert sorted(coded.streams) == ["y", "z"] and coded.shapes == codec.latent_shapes(64, 64)
    assert coded.dependencies == {"y": ["z"]}
    assert_exact_deterministic_round_trip(codec, x, coded)
    assert_slice_streams_decode(codec, x, coded)


def looks_trained() -> ChannelAutoregressiveCodec:
    codec = moved_off_initialisation(tiny(), 0.05, seed=3)
    codec.update()
    return codec.eval()


def test_fixed_point_scale_indices_land_where_the_float_ones_do() -> None:
    """In fixed point the predicted scale index goes to its table entry without exp: σ of every
    slice is a table entry, the entry the float network's σ snaps to for all but the few elements
    whose index moved across a threshold by the grid's rounding."""
    codec = looks_trained()
    with torch.no_grad():           # indices spread over the levels, with weights large enough to vary
        codec.y_model.cc_scale_transforms[1][-1].bias.copy_(torch.linspace(4.0, 56.0, 4))
        codec.y_model.cc_scale_transforms[1][-1].weight.mul_(20.0)
    slices = FixedPointSlices(codec.y_model)
    table = codec.y_model.gaussian_conditional
    torch.manual_seed(4)
    z_hat = torch.round(torch.randn(1, 16, 2, 3) * 3)
    means, scales = codec._fixed_point_hyper(z_hat)
    float_means, float_scales = codec._hyper(z_hat)
    decoded = [torch.round(means[:, :4] * 2 ** 14) / 2 ** 14 + torch.round(torch.randn(1, 4, 8, 12) * 2)]
    _, scale, _ = slices.slice_parameters(1, means, scales, decoded)
    with torch.no_grad():
        _, float_scale, _ = codec.y_model.slice_parameters(1, float_means, float_scales, [decoded[0].float()],
                                                           (8, 12))
    assert scale.dtype == torch.float64 and bool(torch.isin(scale, table.scale_table.double()).all())
    entries, float_entries = table.exact_scale_indexes(scale), table.scale_indexes(float_scale)
    assert len(set(entries.ravel().tolist())) > 40                   # the premise: σ spread over the table
    assert (entries != float_entries).mean() < 0.02


def test_fixed_point_files_decode_alike_on_every_kernel_and_thread_count() -> None:
    codec = looks_trained()
    x = codec.pad(torch.rand(1, 3, 64, 96))
    coded = codec.compress(x)
    assert coded.entropy_parameters == "integer"
    digests = on_every_thread_count_and_kernel(lambda: codec.decompress(coded)[1])
    assert digests == [coded.digest] * len(digests)


@pytest.mark.parametrize("parameterization", ["direct"])
def test_direct_scale_variant_codes(parameterization: str) -> None:
    codec = tiny(scale_parameterization=parameterization).eval()
    assert codec.y_model.scale_function is None
    coded = codec.compress(torch.rand(1, 3, 64, 64))
    assert codec.decompress(coded)[1] == coded.digest


def test_starts_from_a_mean_scale_models_transforms() -> None:
    """load_initial_weights takes g_a and g_s of an mbt2018-mean of the same N and M: the latents
    and the reconstruction of given latents are that model's; the entropy model keeps its own."""
    torch.manual_seed(1)
    assert_started_from_transforms(tiny(), create("mbt2018-mean", n=16, m=40), torch.rand(1, 3, 64, 64))


def test_refuses_initial_weights_without_matching_transforms() -> None:
    with pytest.raises(ModelError, match="same g_a and g_s"):
        tiny().load_initial_weights({"h_s.0.weight": torch.zeros(1)})
    with pytest.raises(ModelError, match="g_a"):       # a mean-scale of another size
        tiny().load_initial_weights(create("mbt2018-mean", n=8, m=40).state_dict())
