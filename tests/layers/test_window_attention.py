"""Window attention, Swin and TCM blocks of LIC-TCM (arXiv 2303.14978 sec. 3.2-3.3)."""
import pytest
import torch

from mmcodec.layers.residual import ResidualBlockUpsample, ResidualBlockWithStride
from mmcodec.layers.swatten import SWAtten
from mmcodec.layers.swin import SwinBlockPair, SwinTransformerBlock
from mmcodec.layers.tcm_block import TCMBlock, tcm_stage
from mmcodec.layers.window_attention import (
    WindowAttention,
    relative_position_index,
    shifted_window_mask,
    window_merge,
    window_partition,
)


def _region_mask(height: int, width: int, window: int, shift: int) -> torch.Tensor:
    """Swin's reference construction (arXiv 2103.14030 code): label the regions, True where differ."""
    labels = torch.zeros(height, width)
    count = 0
    for rows in (slice(0, -window), slice(-window, -shift), slice(-shift, None)):
        for cols in (slice(0, -window), slice(-window, -shift), slice(-shift, None)):
            labels[rows, cols] = count
            count += 1
    windows = window_partition(labels.view(1, height, width, 1), window)[0, :, :, 0]  # (nW, P)
    return windows[:, :, None] != windows[:, None, :]


def test_relative_position_bias_table_and_index() -> None:
    attention = WindowAttention(dim=32, head_dim=8, window=4)
    assert attention.heads == 4
    assert attention.relative_position_params.shape == (4, 7, 7)          # (heads, 2M-1, 2M-1)
    assert attention.relative_bias().shape == (4, 16, 16)                  # (heads, M², M²)
    index = relative_position_index(4)
    assert int(index.min()) == 0 and int(index.max()) == 6
    assert torch.equal(index + index.transpose(0, 1), torch.full_like(index, 6))  # Δ(p,q) = -Δ(q,p)
    assert torch.equal(index[torch.arange(16), torch.arange(16)], torch.full((16, 2), 3))


def test_partition_round_trip() -> None:
    x = torch.randn(2, 8, 12, 3)
    parts = window_partition(x, 4)
    assert parts.shape == (2, 6, 16, 3)
    assert torch.equal(parts[0, 1, 5], x[0, 1, 5])          # window (0, 1), token (1, 1)
    assert torch.equal(window_merge(parts, 4, 8, 12), x)


@pytest.mark.parametrize("size", [(8, 8), (8, 16), (16, 12)])
def test_shifted_mask_equals_region_labelling(size) -> None:
    h, w = size
    mask = shifted_window_mask(h // 4, w // 4, 4, 2)
    assert torch.equal(mask, _region_mask(h, w, 4, 2))
    assert not mask[: (h // 4 - 1) * (w // 4)].reshape(-1, w // 4, 16, 16)[:, :-1].any()  # interior windows free


def test_plain_windows_do_not_interact() -> None:
    torch.manual_seed(0)
    attention = WindowAttention(16, 8, 4).eval()
    x = torch.randn(1, 8, 8, 16)
    y = x.clone()
    y[0, 0, 0] += 5.0                                          # in window (0, 0)
    with torch.no_grad():
        a, b = attention(x), attention(y)
    changed = (a - b).abs().amax(dim=-1)[0] > 0
    assert changed[:4, :4].all() and not changed[4:].any() and not changed[:, 4:].any()


def test_shifted_mask_blocks_attention_across_the_wrap_around() -> None:
    torch.manual_seed(0)
    attention = WindowAttention(16, 8, 4, shifted=True).eval()
    x = torch.randn(1, 8, 8, 16)
    y = x.clone()
    y[0, 0, 0] += 5.0
    with torch.no_grad():
        changed = (attention(x) - attention(y)).abs().amax(dim=-1)[0] > 0
    # rolled by 2, pixel (0, 0) shares the bottom-right window with rows/cols 6-7 of the map, but
    # sits in a different region: only its own 2×2 region (rows, cols 0-1) may see it
    assert changed[:2, :2].all()
    assert not changed[2:].any() and not changed[:, 2:].any()
    # without the mask the wrap-around pixels would see it
    attention.shifted = False
    with torch.no_grad():
        rolled_x, rolled_y = (torch.roll(t, (-2, -2), (1, 2)) for t in (x, y))
        leaked = (attention(rolled_x) - attention(rolled_y)).abs().amax(dim=-1)[0] > 0
    assert leaked[4:, 4:].all()


@pytest.mark.parametrize("shifted", [False, True], ids=["W-MSA", "SW-MSA"])
@pytest.mark.parametrize("prefix", [False, True], ids=["image-tokens", "with-prefix"])
def test_training_and_coding_compute_the_same_attention(shifted, prefix) -> None:
    # training takes torch's fused kernel, coding the explicit softmax(QKᵀ/√d + B)V
    torch.manual_seed(0)
    attention = WindowAttention(16, 8, 4, shifted=shifted)
    x = torch.randn(2, 8, 12, 16, requires_grad=True)
    extra = torch.randn(2, 6, 3, 16) if prefix else None       # 6 windows, 3 prefix tokens each
    trained = attention.train()(x, extra)
    trained.square().sum().backward()
    coded = attention.eval()(x, extra)
    torch.testing.assert_close(trained, coded, atol=1e-5, rtol=1e-5)
    assert x.grad is not None and torch.isfinite(x.grad).all()
    x.grad = None
    coded.square().sum().backward()                            # the same gradient either way
    reference = x.grad.clone()
    x.grad = None
    attention.train()(x, extra).square().sum().backward()
    torch.testing.assert_close(x.grad, reference, atol=1e-4, rtol=1e-4)


def test_swin_blocks_alternate_and_keep_shapes() -> None:
    stage = tcm_stage(8, 4, 4, 4)
    assert [block.trans_block.msa.shifted for block in stage] == [False, True, False, True]
    block = SwinTransformerBlock(16, 8, 4, shifted=True)
    assert block(torch.randn(2, 8, 8, 16)).shape == (2, 8, 8, 16)
    pair = SwinBlockPair(16, 8, 4)
    assert not pair.block_1.msa.shifted and pair.block_2.msa.shifted
    assert pair(torch.randn(1, 16, 6, 10)).shape == (1, 16, 6, 10)   # padded to windows, cropped back


def test_tcm_block_and_resampling_blocks_shapes() -> None:
    torch.manual_seed(0)
    block = TCMBlock(8, 8, 4, 4).eval()
    x = torch.randn(1, 16, 8, 8)
    assert block(x).shape == x.shape
    assert ResidualBlockWithStride(16, 24)(x).shape == (1, 24, 4, 4)
    assert ResidualBlockUpsample(16, 24)(x).shape == (1, 24, 16, 16)
    attention = SWAtten(40, 40, head_dim=8, window=4, inter_dim=16)
    assert attention(torch.randn(1, 40, 8, 8)).shape == (1, 40, 8, 8)
    # parameters as CompressAI / the official code: SWAtten = in/out 1×1 + Swin pair + attention block
    assert attention.in_conv.weight.shape == (16, 40, 1, 1) and attention.out_conv.weight.shape == (40, 16, 1, 1)


def test_tcm_block_is_thread_count_independent() -> None:
    torch.manual_seed(0)
    block = TCMBlock(16, 16, 8, 8).eval()
    x = torch.randn(1, 32, 32, 32)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        with torch.no_grad():
            single = block(x)
    finally:
        torch.set_num_threads(threads)
    with torch.no_grad():
        assert torch.equal(block(x), single)
