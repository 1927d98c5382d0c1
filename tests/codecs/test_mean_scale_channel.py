"""mean-scale-channel: starts exactly as the mbt2018-mean it is started from; with corrections
learned, each slice's μ depends on the slices before it, and the slice streams round-trip exactly."""
import pytest
import torch

from mmcodec.codecs import canonical_name, create
from mmcodec.errors import ModelError

from .coding_checks import assert_exact_deterministic_round_trip, moved_off_initialisation

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
    coded = model.compress(x)
    assert sorted(coded.streams) == ["y0", "y1", "y2", "y3", "z"]
    assert_exact_deterministic_round_trip(model, x, coded)


def test_refuses_weights_that_are_not_a_mean_scale_codec_of_its_size() -> None:
    with pytest.raises(ModelError, match="mbt2018-mean"):
        started_from(create("factorized", **SIZE))
    with pytest.raises(ModelError, match="shape"):
        started_from(create("mbt2018-mean", n=16, m=64))
    with pytest.raises(ValueError, match="equal slices"):
        create("mean-scale-channel", n=16, m=42, num_slices=4)
    with pytest.raises(ValueError, match="multiple of 4"):      # slices of 10: 1 and 2 threads differ
        create("mean-scale-channel", n=16, m=40, num_slices=4)
