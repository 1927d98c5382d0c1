"""layers/fixed_point_modules.py: LIC-TCM's entropy networks in fixed point, the same bits whatever
the order of their sums, close to the float networks."""
import copy

import pytest
import torch
from torch import nn

from mmcodec.codecs import create
from mmcodec.codecs.tcm import TCMCodec
from mmcodec.layers import SwinTransformerBlock
from mmcodec.layers.fixed_point_modules import ONE, evaluate, fixed_point_forward
from mmcodec.zoo import find_entry, load_model

from ..codecs.coding_checks import moved_off_initialisation
from .kernel_variants import on_every_thread_count_and_kernel


@pytest.fixture(scope="module")
def tiny_tcm() -> TCMCodec:
    return moved_off_initialisation(create("tcm", **TCMCodec.test_config), 0.05, seed=7).eval()


@pytest.fixture(scope="module")
def shipped_tcm() -> TCMCodec:
    return load_model(find_entry("lic-tcm-cpu-mse-0.0067")).eval()


def hyper_input(channels: int, rows: int, cols: int, seed: int = 0) -> torch.Tensor:
    """A ẑ-like input: integers plus a per-channel offset (the medians)."""
    generator = torch.Generator().manual_seed(seed)
    q = torch.randint(-4, 5, (1, channels, rows, cols), generator=generator).float()
    return q + torch.rand(1, channels, 1, 1, generator=generator) - 0.5


def support_input(channels: int, rows: int, cols: int, seed: int = 0) -> torch.Tensor:
    """A slice support (hyper outputs and decoded slices): values on the 2^-14 grid."""
    generator = torch.Generator().manual_seed(seed)
    return torch.round(torch.randn(1, channels, rows, cols, generator=generator) * 2 * ONE) / ONE


def entropy_networks(codec: TCMCodec) -> dict[str, tuple[nn.Module, torch.Tensor]]:
    """Each kind of network that sets LIC-TCM's entropy parameters, with an input of its shape
    (at the window sizes of the codec: z 2 × 2 windows of h_s, the slices 2 × 1 windows of SWAtten)."""
    model = codec.y_model
    z_rows, z_cols = 2 * codec.hyper_window // 2, 2 * codec.hyper_window // 2
    y_rows, y_cols = 2 * codec.attention_window, codec.attention_window
    support = model.cc_mean_transforms[1][0].in_channels
    return {
        "h_mean_s": (codec.h_mean_s, hyper_input(codec.z_channels, z_rows, z_cols)),
        "atten_mean": (model.atten_mean[1], support_input(support, y_rows, y_cols, 1)),
        "cc_scale": (model.cc_scale_transforms[1], support_input(support, y_rows, y_cols, 2)),
        "lrp": (model.lrp_transforms[1], support_input(support + model.slice_channels, y_rows, y_cols, 3)),
    }


@pytest.mark.parametrize("name", ["h_mean_s", "atten_mean", "cc_scale", "lrp"])
def test_follows_the_float_network_on_the_grid(tiny_tcm, name) -> None:
    network, x = entropy_networks(tiny_tcm)[name]
    with torch.no_grad():
        expected = network(x).double()
    got = fixed_point_forward(network, x)
    assert got.dtype == torch.float64 and got.shape == expected.shape
    assert torch.equal(got * ONE, torch.round(got * ONE))   # on the grid
    scale = expected.abs().max().item()
    error = (got - expected).abs().max().item()
    assert error < 2e-3 * max(scale, 1.0), (error, scale)


def test_the_shipped_hyper_synthesis_follows_the_float_one(shipped_tcm) -> None:
    x = hyper_input(shipped_tcm.z_channels, 6, 8, seed=4)
    for network in (shipped_tcm.h_mean_s, shipped_tcm.h_scale_s):
        with torch.no_grad():
            expected = network(x).double()
        error = (fixed_point_forward(network, x) - expected).abs().max().item()
        assert error < 5e-3, error   # measured 2.3e-4 / 3.8e-4 on the ẑ of kodim05 (outputs up to 5)


def _reversed_input_copy(network: nn.Module, first_layers: list[str]) -> nn.Module:
    """``network`` with the input channels of the layers that read its input reversed."""
    flipped = copy.deepcopy(network)
    with torch.no_grad():
        for name in first_layers:
            layer = flipped.get_submodule(name)
            layer.weight.copy_(layer.weight.flip(1))
    return flipped


@pytest.mark.parametrize("name, first_layers", [
    ("h_mean_s", ["0.subpel_conv.0", "0.upsample.0"]), ("atten_mean", ["in_conv"]), ("cc_scale", ["0"])])
def test_the_same_bits_when_the_sums_run_in_another_order(tiny_tcm, name, first_layers) -> None:
    """Reversing the input channels (and the weights that read them) changes the order in which the
    first layers add their products, as another platform's kernel may: the float network's outputs
    move, the fixed-point network's do not."""
    network, x = entropy_networks(tiny_tcm)[name]
    flipped = _reversed_input_copy(network, first_layers)
    with torch.no_grad():
        float_moved = not torch.equal(network(x), flipped(x.flip(1)))
    assert torch.equal(fixed_point_forward(network, x), fixed_point_forward(flipped, x.flip(1)))
    assert float_moved   # the test's premise: the float sums did depend on the order


def test_the_same_bits_with_any_thread_count_and_with_onednn(shipped_tcm) -> None:
    """The shipped model's SWAtten (windowed attention, LayerNorm, GELU, sigmoid gate) on a real
    slice support size: thread counts and kernels change no bit."""
    attention = shipped_tcm.y_model.atten_mean[2]
    x = support_input(attention.in_conv.in_channels, 16, 24, seed=5)
    results = on_every_thread_count_and_kernel(lambda: fixed_point_forward(attention, x))
    assert all(torch.equal(r, results[0]) for r in results[1:])


def test_shifted_window_attention_masks_across_the_wrap() -> None:
    """SW-MSA in fixed point follows the float block, whose mask keeps tokens of the two sides of
    the roll apart: without the mask the fixed-point output would be far from it."""
    torch.manual_seed(3)
    block = SwinTransformerBlock(16, 8, 4, shifted=True).eval()
    x = torch.round(torch.randn(1, 8, 8, 16) * ONE) / ONE
    with torch.no_grad():
        expected = block(x).double()
    got = evaluate(block, x.double() * ONE) / ONE
    assert (got - expected).abs().max().item() < 2e-3
    block.msa.shifted = False
    with torch.no_grad():
        unshifted = block(x).double()
    assert (unshifted - expected).abs().max().item() > 0.05   # the test's premise: the shift matters


def test_unsupported_modules_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unsupported module Tanh"):
        fixed_point_forward(nn.Sequential(nn.Conv2d(3, 3, 1), nn.Tanh()), torch.zeros(1, 3, 2, 2))
    with pytest.raises(ValueError, match="approximate='tanh'"):
        fixed_point_forward(nn.GELU(approximate="tanh"), torch.zeros(1, 3, 2, 2))
