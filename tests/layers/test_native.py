"""layers/native.py: native kernels, and native kernels on one thread for the entropy parameters."""
import pytest
import torch

from mmcodec.layers.native import NativeConv2d, exact_kernels, native_kernels


@pytest.fixture
def two_threads():
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(threads)


def test_exact_kernels_run_on_one_thread_without_onednn_and_restore_both(two_threads) -> None:
    onednn = torch.backends.mkldnn.enabled
    with exact_kernels():
        assert torch.get_num_threads() == 1
        assert not torch.backends.mkldnn.enabled
    assert torch.get_num_threads() == 2
    assert torch.backends.mkldnn.enabled == onednn


def test_exact_kernels_restore_the_thread_count_after_an_error(two_threads) -> None:
    with pytest.raises(RuntimeError):
        with exact_kernels():
            raise RuntimeError("inside")
    assert torch.get_num_threads() == 2


def test_exact_kernels_give_the_same_bits_whatever_the_callers_thread_count(two_threads) -> None:
    # 28 output channels: the width whose native convolution changed with the thread count on an
    # Intel Xeon (docs/design.md, "Determinism")
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(96, 28, 3, padding=1)
    x = torch.randn(1, 96, 12, 17)
    with torch.no_grad(), exact_kernels():
        on_two = conv(x)
    torch.set_num_threads(1)
    with torch.no_grad(), exact_kernels():
        on_one = conv(x)
    assert torch.equal(on_one, on_two)


def test_native_conv_matches_the_default_convolution() -> None:
    torch.manual_seed(0)
    native = NativeConv2d(16, 8, 1)
    default = torch.nn.Conv2d(16, 8, 1)
    default.load_state_dict(native.state_dict())
    x = torch.randn(2, 16, 9, 11)
    with torch.no_grad():
        torch.testing.assert_close(native(x), default(x), atol=1e-5, rtol=0)
        with native_kernels():
            assert torch.equal(native(x), default(x))
