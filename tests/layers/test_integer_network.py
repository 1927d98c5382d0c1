"""layers/integer_network.py: a fixed-point copy of a trained network, exact whatever the order of its sums."""
import pytest
import torch
from torch import nn

from mmcodec.codecs.mean_scale import hyper_synthesis
from mmcodec.layers import GDN
from mmcodec.layers.integer_network import ACTIVATION_BITS, IntegerNetwork, integer_network_for
from mmcodec.zoo import find_entry, load_model

from .kernel_variants import on_every_thread_count_and_kernel


@pytest.fixture(scope="module")
def default_h_s() -> nn.Sequential:
    return load_model(find_entry()).h_s


def hyper_input(channels: int, seed: int = 0) -> torch.Tensor:
    """A ẑ-like input: integers plus a per-channel offset (the medians), 6×9 positions."""
    generator = torch.Generator().manual_seed(seed)
    q = torch.randint(-4, 5, (1, channels, 6, 9), generator=generator).float()
    return q + torch.rand(1, channels, 1, 1, generator=generator) - 0.5


def test_follows_the_float_network_to_its_fixed_point_step(default_h_s) -> None:
    x = hyper_input(default_h_s[0].in_channels)
    with torch.no_grad():
        expected = default_h_s(x).double()
    got = IntegerNetwork(default_h_s)(x)
    assert got.dtype == torch.float64 and got.shape == expected.shape
    error = (got - expected).abs().max().item()
    assert error < 0.02, error   # measured 0.0094 on the default model (outputs up to 46)
    assert torch.equal(got * 2 ** ACTIVATION_BITS, torch.round(got * 2 ** ACTIVATION_BITS))   # on the grid


def test_the_same_bits_when_the_sums_run_in_another_order(default_h_s) -> None:
    """Reversing the input channels (and the first layer's weights with them) changes the order in
    which every convolution of the first layer adds its products, as another platform's kernel may:
    the float network's outputs move, the integer network's do not."""
    x = hyper_input(default_h_s[0].in_channels, seed=1)
    reversed_h_s = hyper_synthesis(default_h_s[0].in_channels, default_h_s[0].out_channels)
    reversed_h_s.load_state_dict(default_h_s.state_dict())
    with torch.no_grad():
        reversed_h_s[0].weight.copy_(default_h_s[0].weight.flip(0))
        float_moved = not torch.equal(default_h_s(x), reversed_h_s(x.flip(1)))
    assert torch.equal(IntegerNetwork(default_h_s)(x), IntegerNetwork(reversed_h_s)(x.flip(1)))
    assert float_moved   # the test's premise: the float sums did depend on the order


def test_the_same_bits_with_any_thread_count_and_with_onednn(default_h_s) -> None:
    x = hyper_input(default_h_s[0].in_channels, seed=2)
    network = IntegerNetwork(default_h_s)
    results = on_every_thread_count_and_kernel(lambda: network(x))
    assert all(torch.equal(results[0], r) for r in results[1:])


def test_relu_leaky_relu_and_layers_without_bias() -> None:
    torch.manual_seed(0)
    network = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.ReLU(),
                            nn.ConvTranspose2d(8, 4, 5, stride=2, padding=2, output_padding=1), nn.LeakyReLU(0.2),
                            nn.Conv2d(4, 2, 1))
    x = torch.randn(1, 3, 5, 7)
    with torch.no_grad():
        expected = network(x).double()
    got = IntegerNetwork(network)(x)
    assert got.shape == (1, 2, 10, 14)
    assert (got - expected).abs().max().item() < 0.002


def test_refuses_what_it_cannot_compute_exactly() -> None:
    with pytest.raises(ValueError, match="expected a convolution"):
        IntegerNetwork(nn.Sequential(nn.ReLU()))
    with pytest.raises(ValueError, match="unsupported convolution"):
        IntegerNetwork(nn.Sequential(nn.Conv2d(4, 4, 3, groups=2)))
    huge = nn.Conv2d(64, 4, 5)
    with torch.no_grad():
        huge.weight.fill_(1e6)
    with pytest.raises(ValueError, match="too large for exact float64 sums"):
        IntegerNetwork(nn.Sequential(huge))


def test_input_beyond_the_exact_range_is_clamped_not_wrong() -> None:
    conv = nn.Conv2d(1, 1, 1, bias=False)
    with torch.no_grad():
        conv.weight.fill_(1.0)
    network = IntegerNetwork(nn.Sequential(conv))
    limit = network.layers[0].input_limit
    big = torch.full((1, 1, 1, 1), 1e30)
    assert network(big).item() == limit / 2 ** ACTIVATION_BITS


def test_cached_copy_follows_new_weights() -> None:
    torch.manual_seed(0)
    network = nn.Sequential(nn.Conv2d(2, 2, 3, padding=1))
    first = integer_network_for(network)
    assert integer_network_for(network) is first
    with torch.no_grad():
        network[0].weight.mul_(2)
    assert integer_network_for(network) is not first


def _gdn_network(channels: int = 6) -> nn.Sequential:
    """conv → GDN → conv → GDN → conv with a GDN of trained-looking β and γ (positive, off-diagonal mass)."""
    torch.manual_seed(3)
    network = nn.Sequential(nn.Conv2d(3, channels, 5, stride=2, padding=2), GDN(channels),
                            nn.Conv2d(channels, channels, 3, padding=1), GDN(channels), nn.Conv2d(channels, 4, 1))
    with torch.no_grad():
        for gdn in (network[1], network[3]):
            gdn.beta.copy_(gdn._beta.init(1 + torch.rand(channels)))
            gdn.gamma.copy_(gdn._gamma.init(0.1 * torch.eye(channels) + 0.02 * torch.rand(channels, channels)))
    return network


def test_gdn_follows_the_float_network() -> None:
    network = _gdn_network()
    x = torch.rand(1, 3, 16, 24) * 4 - 2
    with torch.no_grad():
        expected = network(x).double()
    got = IntegerNetwork(network)(x)
    assert got.shape == expected.shape == (1, 4, 8, 12)
    assert (got - expected).abs().max().item() < 0.002
    assert torch.equal(got * 2 ** ACTIVATION_BITS, torch.round(got * 2 ** ACTIVATION_BITS))


def test_gdn_pool_gives_the_same_bits_when_its_sum_runs_in_another_order() -> None:
    """GDN's channels permuted (γ's rows and columns, and the convolutions around it, with them): the
    same function; the float pool sums in another order, the fixed-point one gives the same bits."""
    network = _gdn_network(channels=16)
    order = torch.arange(15, -1, -1)
    permuted = _gdn_network(channels=16)
    with torch.no_grad():
        permuted[0].weight.copy_(network[0].weight[order])
        permuted[0].bias.copy_(network[0].bias[order])
        permuted[1].beta.copy_(network[1].beta[order])
        permuted[1].gamma.copy_(network[1].gamma[order][:, order])
        permuted[2].weight.copy_(network[2].weight[:, order])
        permuted[2].bias.copy_(network[2].bias)
        permuted[3].load_state_dict(network[3].state_dict())
        permuted[4].load_state_dict(network[4].state_dict())
        x = torch.rand(1, 3, 32, 32) * 4 - 2
        float_moved = not torch.equal(network(x), permuted(x))
    assert torch.equal(IntegerNetwork(network)(x), IntegerNetwork(permuted)(x))
    assert float_moved   # the test's premise: the float sums did depend on the order


def test_containers_are_opened_in_order() -> None:
    network = _gdn_network()
    nested = nn.Module()
    nested.stages = nn.ModuleList([nn.Sequential(network[0], network[1]), nn.Sequential(*network[2:])])
    x = torch.rand(1, 3, 8, 8)
    assert torch.equal(IntegerNetwork(nested)(x), IntegerNetwork(network)(x))
    with pytest.raises(ValueError, match="expected a convolution"):
        IntegerNetwork(nn.Sequential(GDN(4)))


@pytest.mark.parametrize("inverse", [False, True])
def test_gdn_and_its_inverse_follow_the_float_layer(inverse: bool) -> None:
    torch.manual_seed(5)
    network = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), GDN(8, inverse=inverse))
    with torch.no_grad():
        network[1].gamma.add_(0.3 * torch.rand_like(network[1].gamma))
        x = torch.rand(1, 3, 12, 12) * 4 - 2
        expected = network(x).double()
    got = IntegerNetwork(network)(x)
    assert (got - expected).abs().max().item() < 4e-4
    assert not torch.equal(got, IntegerNetwork(nn.Sequential(network[0], GDN(8, inverse=not inverse)))(x))


LAYER_SHAPES = [   # (transposed, kernel, stride, padding, output_padding)
    (False, 3, 1, 1, 0), (False, 5, 2, 2, 0), (False, 3, 1, 0, 0), (False, 5, 2, 1, 0),
    (True, 5, 2, 2, 1), (True, 3, 1, 1, 0), (True, 4, 2, 0, 0), (True, 5, 2, 1, 0),
]


@pytest.mark.parametrize("transposed,kernel,stride,padding,output_padding", LAYER_SHAPES)
@pytest.mark.parametrize("height", [31, 37, 50])
def test_row_chunks_give_the_whole_convolution_bit_for_bit(monkeypatch, transposed, kernel, stride, padding,
                                                           output_padding, height) -> None:
    """With chunks of one or two rows (a budget of a few kB) and as few rows beyond them as the
    kernel needs, every kept output row sums the same integer products as the whole convolution:
    equal, not close; and it is really chunked. (One row fewer beyond the chunks fails.)"""
    from mmcodec.layers import integer_network
    generator = torch.Generator().manual_seed(height + kernel)
    layer = (nn.ConvTranspose2d(6, 5, kernel, stride, padding, output_padding) if transposed
             else nn.Conv2d(6, 5, kernel, stride, padding))
    fixed = integer_network._integer_layer(layer, None)
    values = torch.randint(-2 ** 20, 2 ** 20, (1, 6, height, 11), generator=generator).double()
    whole = integer_network._convolve(values, fixed)
    calls = []
    convolve = integer_network._convolve

    def counted(chunk: torch.Tensor, of: object) -> torch.Tensor:
        calls.append(chunk.shape[-2])
        return convolve(chunk, of)

    monkeypatch.setattr(integer_network, "_convolve", counted)
    monkeypatch.setattr(integer_network, "CHUNK_BYTES", 6 * kernel * kernel * 11 * 8 * 2)
    monkeypatch.setattr(integer_network, "MIN_CHUNK_REACHES", 1)
    chunked = integer_network.convolve_in_row_chunks(values, fixed)
    assert len(calls) >= 3
    assert chunked.shape == whole.shape and torch.equal(chunked, whole)


def test_the_hyper_synthesis_in_row_chunks_is_the_whole_one(monkeypatch, default_h_s) -> None:
    from mmcodec.layers import integer_network
    generator = torch.Generator().manual_seed(3)
    channels = default_h_s[0].in_channels
    x = torch.randint(-6, 7, (1, channels, 21, 7), generator=generator).float() + 0.25
    whole = IntegerNetwork(default_h_s)(x)
    monkeypatch.setattr(integer_network, "CHUNK_BYTES", 1 << 16)
    monkeypatch.setattr(integer_network, "MIN_CHUNK_REACHES", 1)
    assert torch.equal(IntegerNetwork(default_h_s)(x), whole)
