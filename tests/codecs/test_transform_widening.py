"""Widening the transforms (hidden channels of g_a and g_s) of a mean-scale hyperprior: the wide model
starts as the narrow one, exactly, and training reaches the new channels."""
import pytest
import torch

from mmcodec.codecs import create
from mmcodec.codecs.transform_widening import transform_width, widened_transform_state
from mmcodec.errors import ModelError

from .coding_checks import assert_codes_as_the_narrow_model, widened_image_pair

NARROW, WIDE = {"n": 16, "m": 24}, {"n": 16, "m": 24, "transform_channels": 28}


def _pair():
    return widened_image_pair(NARROW, WIDE)


def test_the_wide_transforms_have_the_width_asked_for_and_say_so_in_their_config():
    wide = create("mean-scale", **WIDE)
    assert wide.g_a[0].weight.shape[0] == 28 and wide.g_s[6].weight.shape[0] == 28   # ConvTranspose: [in, out]
    assert wide.h_a[0].weight.shape[0] == 16 and transform_width(wide.state_dict()) == 28
    assert wide.config()["transform_channels"] == 28
    assert "transform_channels" not in create("mean-scale", **NARROW).config()   # shipped configs unchanged
    assert create("mean-scale", **wide.config()).g_a[2].weight.shape == (28, 28, 5, 5)


def test_the_widened_model_computes_the_narrow_one_exactly():
    narrow, wide, x = _pair()
    a, b = narrow(x), wide(x)
    # equal up to float summation order (the zero weights change the convolutions' sums)
    torch.testing.assert_close(b["x_hat"], a["x_hat"], atol=1e-6, rtol=0)
    torch.testing.assert_close(wide.g_a(x), narrow.g_a(x), atol=1e-6, rtol=0)
    for key in ("y", "z"):
        torch.testing.assert_close(b["likelihoods"][key], a["likelihoods"][key], atol=1e-6, rtol=1e-5)
    # the new hidden channels are active: they are what training can use
    hidden = wide.g_a[1](wide.g_a[0](x))
    assert hidden[:, 16:].abs().mean() > 0.01 * hidden[:, :16].abs().mean()


def test_the_widened_model_codes_as_the_narrow_one():
    narrow, wide, x = _pair()
    coded = assert_codes_as_the_narrow_model(narrow, wide, x)
    assert coded.streams == narrow.compress(x).streams


def test_training_reaches_the_weights_that_read_the_new_channels():
    _, wide, x = _pair()
    assert wide.g_a[2].weight[:16, 16:].abs().sum() == 0 and wide.g_s[2].weight[16:, :16].abs().sum() == 0
    wide.train()
    ((wide(x)["x_hat"] - x) ** 2).sum().backward()
    assert wide.g_a[2].weight.grad[:16, 16:].abs().sum() > 0        # Conv: [out, in]
    assert wide.g_s[2].weight.grad[16:, :16].abs().sum() > 0        # ConvTranspose: [in, out]
    assert wide.g_s[6].weight.grad[16:].abs().sum() > 0             # the last layer reads them too


def test_misfits_are_refused():
    narrow = create("mean-scale", **NARROW).state_dict()
    with pytest.raises(ModelError, match="only the hidden layers"):     # narrower than the source
        create("mean-scale", n=16, m=24, transform_channels=12).load_initial_weights(narrow)
    with pytest.raises(ModelError, match="h_a"):                        # another hyperprior width as well
        widened_transform_state(create("mean-scale", n=20, m=24, transform_channels=28), narrow)
    with pytest.raises(ModelError, match="more than the transforms' width"):
        widened_transform_state(create("factorized", n=28, m=24), narrow)
