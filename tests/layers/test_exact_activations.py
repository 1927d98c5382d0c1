"""layers/exact_activations.py: erf, GELU and the sigmoid from IEEE's correctly rounded operations alone."""
import torch
import torch.nn.functional as F

from mmcodec.layers.exact_activations import exact_erf, exact_gelu, exact_sigmoid

from .kernel_variants import on_every_thread_count_and_kernel


def test_agree_with_the_math_library() -> None:
    u = torch.linspace(-8, 8, 200_001, dtype=torch.float64)
    assert (exact_erf(u) - torch.erf(u)).abs().max().item() < 1e-8      # measured 1.8e-9
    x = torch.linspace(-12, 12, 200_001, dtype=torch.float64)
    assert (exact_gelu(x) - F.gelu(x)).abs().max().item() < 1e-7        # measured 5.9e-9
    assert (exact_sigmoid(5 * x) - torch.sigmoid(5 * x)).abs().max().item() < 1e-15


def test_odd_saturating_and_float64() -> None:
    u = torch.tensor([0.0, 1e-9, 1.0, 2.0, 2.5, 4.0, 5.0, 1e30], dtype=torch.float32)
    values = exact_erf(u)
    assert values.dtype == torch.float64
    assert torch.equal(exact_erf(-u), -values)
    assert values[0] == 0 and values[-1] == 1 and values[-2] == 1
    assert torch.equal(exact_gelu(torch.tensor([-7.0, 7.0])), torch.tensor([0.0, 7.0], dtype=torch.float64))
    assert exact_sigmoid(torch.tensor([0.0])).item() == 0.5


def test_the_same_bits_in_any_batch_layout_and_thread_count() -> None:
    """Each element's value depends on itself only (which series it takes included)."""
    x = torch.randn(4, 7, 33, dtype=torch.float64) * 3
    for function in (exact_erf, exact_gelu, exact_sigmoid):
        reference = function(x)
        assert all(torch.equal(r, reference) for r in on_every_thread_count_and_kernel(lambda: function(x), (1, 2)))
        assert torch.equal(function(x.flatten()[5:]), reference.flatten()[5:])
        assert torch.equal(function(x[x.abs() < 2]), reference[x.abs() < 2])   # the near series alone
        assert torch.equal(function(x.transpose(0, 2).contiguous()), reference.transpose(0, 2))
