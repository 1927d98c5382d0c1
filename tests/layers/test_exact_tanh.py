"""layers/exact_tanh.py: tanh (and exp) from IEEE's correctly rounded operations alone."""
import torch

from mmcodec.layers.exact_tanh import exact_exp, exact_tanh


def test_exp_and_tanh_agree_with_the_math_library_to_the_last_bits() -> None:
    t = torch.linspace(0, 40, 100_001, dtype=torch.float64)
    assert ((exact_exp(t) - torch.exp(t)) / torch.exp(t)).abs().max().item() < 4 * 2 ** -52
    x = torch.linspace(-30, 30, 200_001, dtype=torch.float64)
    assert (exact_tanh(x) - torch.tanh(x)).abs().max().item() < 2 ** -50


def test_tanh_is_odd_saturates_and_takes_float32() -> None:
    x = torch.tensor([0.0, 1e-9, 0.5, 3.0, 25.0, 1e30], dtype=torch.float32)
    values = exact_tanh(x)
    assert values.dtype == torch.float64
    assert torch.equal(exact_tanh(-x), -values)
    assert values[0] == 0 and values[-1] == 1 and values[-2] == 1


def test_the_same_bits_in_any_batch_layout_and_thread_count() -> None:
    """Elementwise IEEE operations only: no reduction whose order a platform could change."""
    x = torch.randn(4, 7, 33, dtype=torch.float64) * 4
    reference = exact_tanh(x)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        single = exact_tanh(x)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(single, reference)
    assert torch.equal(exact_tanh(x.flatten())[5:], reference.flatten()[5:])
    assert torch.equal(exact_tanh(x.transpose(0, 2).contiguous()), reference.transpose(0, 2))
