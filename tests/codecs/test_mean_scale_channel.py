"""mean-scale-channel: starts exactly as the mbt2018-mean it is started from; with corrections
learned, each slice's μ depends on the slices before it, and the slice streams round-trip exactly."""
import pytest
import torch

from mmcodec.codecs import canonical_name, create
from mmcodec.codecs.base import float_entropy_parameters
from mmcodec.codecs.fixed_point_slices import FixedPointSlices
from mmcodec.errors import ModelError

from .coding_checks import (
    assert_exact_deterministic_round_trip,
    assert_slice_streams_decode,
    decompress_single_threaded,
    moved_off_initialisation,
)

SIZE = {"n": 16, "m": 48}


def trained_mean_scale() -> torch.nn.Module:
    torch.manual_seed(3)
    return moved_off_initialisation(create("mbt2018-mean", **SIZE), 0.02).eval()


def started_from(source: torch.nn.Module, **extra) -> torch.nn.Module:
    torch.manual_seed(4)
    model = create("mean-scale-channel", **SIZE, num_slices=4, slice_hidden=[8, 8], **extra)
    model.load_initial_weights(source.state_dict())
    return model.eval()


def test_alias() -> None:
    assert canonical_name("mbt2018-mean-channel") == "mean-scale-channel"


def test_starts_as_the_mean_scale_codec_it_is_started_from() -> None:
    source = trained_mean_scale()
    model = started_from(source)
    x = torch.rand(1, 3, 128, 192)
    with torch.no_grad():
        a, b = source(x), model(x)
    for key in ("y", "z"):
        torch.testing.assert_close(b["likelihoods"][key], a["likelihoods"][key], atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(b["x_hat"], a["x_hat"], atol=1e-5, rtol=0)


def test_learned_corrections_make_later_slices_depend_on_earlier_ones_and_code_exactly() -> None:
    model = started_from(trained_mean_scale())
    moved_off_initialisation(model.y_model, 0.05, seed=5)
    model.update()
    torch.manual_seed(6)
    x = model.pad(torch.rand(1, 3, 100, 150))
    with torch.no_grad():
        latents = model.initial_latents(x)
        means, scales = model._hyper(torch.round(latents["z"]))
        decoded, shape = [torch.round(latents["y"][:, :12])], tuple(latents["y"].shape[-2:])
        mu_1 = model.y_model.slice_parameters(1, means, scales, decoded, shape)[0]
        mu_1_other = model.y_model.slice_parameters(1, means, scales, [decoded[0] + 1], shape)[0]
    assert not torch.allclose(mu_1, mu_1_other)
    with float_entropy_parameters(model):   # files of model version 1: the evaluation forward, exactly
        coded = model.compress(x)
        assert coded.entropy_parameters == "float"
        assert sorted(coded.streams) == ["y", "z"]
        assert_exact_deterministic_round_trip(model, x, coded)
        assert_slice_streams_decode(model, x, coded)


def trained_channel_model() -> torch.nn.Module:
    model = started_from(trained_mean_scale())
    moved_off_initialisation(model.y_model, 0.05, seed=5)
    model.update()
    return model


def test_fixed_point_slices_round_trip_on_any_thread_count_close_to_the_float_ones() -> None:
    model = trained_channel_model()
    torch.manual_seed(6)
    x = model.pad(torch.rand(1, 3, 100, 150))
    coded = model.compress(x)
    assert coded.entropy_parameters == "integer" and sorted(coded.streams) == ["y", "z"]
    assert model.compress(x).streams == coded.streams
    x_hat, digest = model.decompress(coded)
    assert digest == coded.digest
    single, single_digest = decompress_single_threaded(model, coded)
    assert torch.equal(single, x_hat) and single_digest == digest
    with float_entropy_parameters(model):
        floating = model.compress(x)
    size = sum(len(s) for s in coded.streams.values())
    assert abs(size - sum(len(s) for s in floating.streams.values())) <= max(8, size // 100)
    assert torch.allclose(x_hat, model.decompress(floating)[0], atol=0.02)


def test_fixed_point_slices_follow_the_float_ones_and_land_on_the_grid() -> None:
    model = trained_channel_model()
    slices = FixedPointSlices(model.y_model)
    torch.manual_seed(7)
    z_hat = torch.round(torch.randn(1, 16, 2, 3) * 2)
    means, scales = model._fixed_point_hyper(z_hat)
    float_means, float_scales = model._hyper(z_hat)
    decoded = [torch.round(torch.randn(1, 12, 8, 12) * 3) + torch.round(means[:, :12] * 2 ** 14) / 2 ** 14]
    mu, scale, support = slices.slice_parameters(1, means, scales, decoded)
    with torch.no_grad():
        float_mu, float_scale, float_support = model.y_model.slice_parameters(1, float_means, float_scales,
                                                                             [decoded[0].float()], (8, 12))
        float_lrp = model.y_model.residual_prediction(1, float_support, decoded[0].float())
    lrp = slices.residual_prediction(1, support, decoded[0])
    for fixed, floating in ((mu, float_mu), (scale, float_scale), (lrp, float_lrp)):
        assert fixed.dtype == torch.float64 and (fixed - floating.double()).abs().max().item() < 0.01
        assert torch.equal(fixed * 2 ** 14, torch.round(fixed * 2 ** 14))
    assert not torch.equal(lrp, decoded[0])   # LRP did correct the slice


def test_fixed_point_slices_refuse_what_they_cannot_compute_exactly() -> None:
    ms2020 = create("ms2020", n=16, m=40)
    FixedPointSlices(ms2020.y_model)        # σ from a predicted index: mapped to the table in integers
    ms2020.y_model.scale_function = torch.nn.Softplus()
    with pytest.raises(ValueError, match="Softplus is not supported"):
        FixedPointSlices(ms2020.y_model)


def test_refuses_weights_that_are_not_a_mean_scale_codec_of_its_size() -> None:
    with pytest.raises(ModelError, match="mbt2018-mean"):
        started_from(create("factorized", **SIZE))
    with pytest.raises(ModelError, match="shape"):
        started_from(create("mbt2018-mean", n=16, m=64))
    with pytest.raises(ValueError, match="equal slices"):
        create("mean-scale-channel", n=16, m=42, num_slices=4)
    with pytest.raises(ValueError, match="multiple of 4"):      # slices of 10: 1 and 2 threads differ
        create("mean-scale-channel", n=16, m=40, num_slices=4)
