"""Widening a depth mean-scale hyperprior's latent: the wide model starts as the narrow one, exactly."""
import pytest
import torch

from mmcodec.codecs import create
from mmcodec.codecs.latent_widening import widened_latent_state
from mmcodec.errors import ModelError

from .coding_checks import assert_codes_as_the_narrow_model, moved_off_initialisation, widened_image_pair

NARROW, WIDE = {"n": 16, "m": 24}, {"n": 16, "m": 48}


def _narrow():
    return moved_off_initialisation(create("depth-mean-scale", **NARROW), 0.01, seed=2).eval()


def _widened(narrow):
    torch.manual_seed(3)
    wide = create("depth-mean-scale", **WIDE).eval()
    wide.load_initial_weights(narrow.state_dict())
    return wide


def _depth():
    torch.manual_seed(1)
    return torch.rand(1, 1, 64, 128) * 0.05 + 0.02


def test_the_widened_model_computes_the_narrow_one_exactly():
    narrow = _narrow()
    wide = _widened(narrow)
    x = _depth()
    a, b = narrow(x), wide(x)
    # equal up to float summation order (the zero channels change the convolutions' sums)
    torch.testing.assert_close(b["x_hat"], a["x_hat"], atol=1e-6, rtol=0)
    torch.testing.assert_close(b["likelihoods"]["z"], a["likelihoods"]["z"], atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(b["likelihoods"]["y"][:, :24], a["likelihoods"]["y"], atol=1e-6, rtol=1e-5)
    # the new channels are 0 under a Gaussian at the scale bound: almost certain, so almost free
    assert -torch.log2(b["likelihoods"]["y"][:, 24:]).sum() < 0.01   # bits, for 768 symbols
    assert torch.equal(wide.g_a(x * wide.depth_gain)[:, 24:], torch.zeros(1, 24, 4, 8))


def test_the_widened_model_codes_and_decodes_exactly():
    narrow, x = _narrow(), _depth()
    assert_codes_as_the_narrow_model(narrow, _widened(narrow), x)


def test_training_reaches_the_new_channels():
    wide = _widened(_narrow()).train()
    out = wide(_depth())
    ((out["x_hat"] - _depth()) ** 2).sum().backward()
    # the new rows of g_a get a gradient through g_s's (random, non-zero) weights for them
    assert wide.g_a[6].weight.grad[24:].abs().sum() > 0
    assert wide.g_s.ups[0].weight[24:].abs().sum() > 0


def test_misfits_are_refused():
    narrow = create("depth-mean-scale", **NARROW).state_dict()
    with pytest.raises(ModelError, match="not fewer"):
        create("depth-mean-scale", n=16, m=16).load_initial_weights(narrow)      # narrower than the source
    with pytest.raises(ModelError, match="g_a.0.weight"):
        create("depth-mean-scale", n=8, m=48).load_initial_weights(narrow)       # another n
    conditional = create("rgb-conditional-depth", n=16, m=48, prior_residual=True).state_dict()
    with pytest.raises(ModelError, match="more than the latent width"):
        widened_latent_state(conditional, narrow)
    with pytest.raises(ModelError, match="shape"):                               # conditional models do not widen
        create("rgb-conditional-depth", n=16, m=48).load_initial_weights(
            create("rgb-conditional-depth", **NARROW).state_dict())


# ---- the image mean-scale hyperprior (mbt2018-mean): g_s reads ŷ in its first layer, g_s.0

IMAGE_NARROW, IMAGE_WIDE = {"n": 16, "m": 24}, {"n": 16, "m": 40}


def _image_pair():
    return widened_image_pair(IMAGE_NARROW, IMAGE_WIDE)


def test_a_widened_image_model_computes_the_narrow_one_exactly():
    narrow, wide, x = _image_pair()
    a, b = narrow(x), wide(x)
    torch.testing.assert_close(b["x_hat"], a["x_hat"], atol=1e-6, rtol=0)
    torch.testing.assert_close(b["likelihoods"]["z"], a["likelihoods"]["z"], atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(b["likelihoods"]["y"][:, :24], a["likelihoods"]["y"], atol=1e-6, rtol=1e-5)
    assert -torch.log2(b["likelihoods"]["y"][:, 24:]).sum() < 0.01   # the 16 new channels: ≈ 0 bits
    assert torch.equal(wide.g_a(x)[:, 24:], torch.zeros(1, 16, 4, 8))


def test_a_widened_image_model_codes_as_the_narrow_one_and_learns_its_new_channels():
    narrow, wide, x = _image_pair()
    assert_codes_as_the_narrow_model(narrow, wide, x)
    wide.train()
    ((wide(x)["x_hat"] - x) ** 2).sum().backward()
    assert wide.g_a[6].weight.grad[24:].abs().sum() > 0       # through g_s's random weights for them
    assert wide.g_s[0].weight[24:].abs().sum() > 0


def test_an_image_model_refuses_a_wider_or_other_start():
    narrow = create("mean-scale", **IMAGE_NARROW).state_dict()
    with pytest.raises(ModelError, match="not fewer"):
        create("mean-scale", n=16, m=16).load_initial_weights(narrow)
    with pytest.raises(ModelError, match="g_a.0.weight"):
        create("mean-scale", n=8, m=48).load_initial_weights(narrow)
