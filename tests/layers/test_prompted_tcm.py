"""Prompted window attention and Prompted TCM blocks (thesis sec. 3.1.3, fig. 22; Kao et al.,
arXiv 2305.10807, P-STB): reduction to the plain layers, an explicit per-window reference,
locality, the shifted-window mask, odd window counts."""
import pytest
import torch

from mmcodec.layers.prompted_tcm import PromptedTCMBlock, PromptedWindowAttention
from mmcodec.layers.tcm_block import TCMBlock
from mmcodec.layers.window_attention import WindowAttention


def _region_labels(height: int, width: int, window: int, shift: int) -> torch.Tensor:
    """Swin's region labels of the rolled map (arXiv 2103.14030): pixels that may attend share one."""
    labels = torch.zeros(height, width, dtype=torch.long)
    count = 0
    for rows in (slice(0, -window), slice(-window, -shift), slice(-shift, None)):
        for cols in (slice(0, -window), slice(-window, -shift), slice(-shift, None)):
            labels[rows, cols] = count
            count += 1
    return labels


def _reference(attention: PromptedWindowAttention, x: torch.Tensor, prompt: torch.Tensor) -> torch.Tensor:
    """The prompted attention written out window by window and head by head (batch of one)."""
    _, h, w, c = x.shape
    m, r = attention.window, h // prompt.shape[1]
    shift = m // 2 if attention.shifted else 0
    x = torch.roll(x, (-shift, -shift), (1, 2))[0]
    prompt = torch.roll(prompt, (-(shift // r), -(shift // r)), (1, 2))[0]
    labels = _region_labels(h, w, m, shift) if shift else torch.zeros(h, w, dtype=torch.long)
    weight, bias = attention.embedding_layer.weight, attention.embedding_layer.bias
    position_bias = attention.relative_bias()
    out = torch.zeros_like(x)
    d = attention.head_dim
    for i in range(h // m):
        for j in range(w // m):
            image = x[i * m:(i + 1) * m, j * m:(j + 1) * m].reshape(m * m, c)
            prompts = prompt[i * m // r:(i + 1) * m // r, j * m // r:(j + 1) * m // r].reshape(-1, c)
            label = labels[i * m:(i + 1) * m, j * m:(j + 1) * m].reshape(-1)
            q, k, v = (image @ weight.T + bias).split(c, dim=-1)
            _, pk, pv = (prompts @ weight.T + bias).split(c, dim=-1)
            heads = []
            for head in range(attention.heads):
                cols = slice(head * d, (head + 1) * d)
                image_logits = q[:, cols] @ k[:, cols].T * attention.scale + position_bias[head]
                image_logits = image_logits.masked_fill(label[:, None] != label[None, :], float("-inf"))
                prompt_logits = q[:, cols] @ pk[:, cols].T * attention.scale         # no bias, no mask
                weights = torch.cat([prompt_logits, image_logits], dim=1).softmax(dim=1)
                heads.append(weights @ torch.cat([pv[:, cols], v[:, cols]]))
            out[i * m:(i + 1) * m, j * m:(j + 1) * m] = attention.linear(torch.cat(heads, dim=1)).view(m, m, c)
    return torch.roll(out, (shift, shift), (0, 1))[None]


@pytest.mark.parametrize("shifted", [False, True])
@pytest.mark.parametrize("size", [(8, 8), (12, 20)])        # 2×2 and 3×5 windows of 4
def test_without_prompts_equals_window_attention(shifted: bool, size: tuple[int, int]) -> None:
    torch.manual_seed(0)
    plain = WindowAttention(16, 8, 4, shifted).eval()
    prompted = PromptedWindowAttention(16, 8, 4, shifted).eval()
    prompted.load_state_dict(plain.state_dict())             # same parameters, same names
    x = torch.randn(2, *size, 16)
    with torch.no_grad():
        assert torch.equal(prompted(x), plain(x))             # the same computation, bit for bit


@pytest.mark.parametrize("shifted", [False, True])
@pytest.mark.parametrize("ratio", [1, 2])                   # 16 or 4 prompt tokens per 4×4 window
def test_prompted_attention_equals_the_per_window_reference(shifted: bool, ratio: int) -> None:
    torch.manual_seed(0)
    attention = PromptedWindowAttention(16, 8, 4, shifted).eval()
    x = torch.randn(1, 8, 12, 16)
    prompt = torch.randn(1, 8 // ratio, 12 // ratio, 16)
    with torch.no_grad():
        out = attention(x, prompt)
        assert out.shape == x.shape
        torch.testing.assert_close(out, _reference(attention, x, prompt), atol=1e-5, rtol=1e-5)
        assert not torch.allclose(out, attention(x))           # the prompts take part


def test_prompts_of_a_window_reach_only_that_window() -> None:
    torch.manual_seed(0)
    attention = PromptedWindowAttention(16, 8, 4).eval()
    x, prompt = torch.randn(1, 8, 8, 16), torch.randn(1, 4, 4, 16)
    changed_prompt = prompt.clone()
    changed_prompt[0, 1, 1] += 5.0                            # pooled cell (1, 1): window (0, 0)
    with torch.no_grad():
        changed = (attention(x, prompt) - attention(x, changed_prompt)).abs().amax(dim=-1)[0] > 0
    assert changed[:4, :4].all() and not changed[4:].any() and not changed[:, 4:].any()


def test_the_shifted_mask_does_not_block_prompt_tokens() -> None:
    torch.manual_seed(0)
    attention = PromptedWindowAttention(16, 8, 4, shifted=True).eval()
    x, prompt = torch.randn(1, 8, 8, 16), torch.randn(1, 4, 4, 16)
    changed_prompt = prompt.clone()
    changed_prompt[0, 0, 0] += 5.0     # rolled by 1 cell, it lands in the wrap-around window (1, 1)
    with torch.no_grad():
        changed = (attention(x, prompt) - attention(x, changed_prompt)).abs().amax(dim=-1)[0] > 0
    # that window holds pixels rows/cols {6, 7, 0, 1} in four masked regions: all see the prompt
    rows = torch.tensor([6, 7, 0, 1])
    assert changed[rows[:, None], rows[None, :]].all()
    assert int(changed.sum()) == 16


def test_prompt_geometry_is_checked() -> None:
    attention = PromptedWindowAttention(16, 8, 4, shifted=True)
    with pytest.raises(ValueError, match="does not tile"):
        attention(torch.randn(1, 8, 8, 16), torch.randn(1, 2, 2, 16))    # 1/4: shift 2 is not whole cells
    with pytest.raises(ValueError, match="does not fit"):
        attention(torch.randn(1, 8, 8, 16), torch.randn(1, 3, 3, 16))
    with pytest.raises(ValueError, match="prompt_pool"):
        PromptedTCMBlock(8, 8, 4, 4, shifted=True, prompt_pool=4)


@pytest.mark.parametrize("shifted", [False, True])
def test_prompted_tcm_block_without_prompt_is_the_tcm_block(shifted: bool) -> None:
    torch.manual_seed(0)
    block = TCMBlock(8, 8, 4, 4, shifted=shifted).eval()
    prompted = PromptedTCMBlock.from_tcm_block(block).eval()
    assert prompted.trans_block.msa.shifted == shifted and prompted.prompt_pool == 2
    # the only new parameters: the prompt LayerNorm (weight and bias of the transformer width)
    new = {k for k in prompted.state_dict()} - set(block.state_dict())
    assert new == {"trans_block.ln_prompt.weight", "trans_block.ln_prompt.bias"}
    x = torch.randn(1, 16, 12, 20)
    with torch.no_grad():
        assert torch.equal(prompted(x), block(x))
        out = prompted(x, torch.randn(1, 8, 12, 20))        # prompt at the block's resolution
    assert out.shape == x.shape and not torch.allclose(out, block(x))


def test_prompted_tcm_block_pools_the_prompt_and_trains() -> None:
    torch.manual_seed(0)
    block = PromptedTCMBlock(8, 8, 4, 4, shifted=True)
    x, prompt = torch.randn(2, 16, 12, 20), torch.randn(2, 8, 12, 20, requires_grad=True)
    with torch.no_grad():                      # the prompt enters as its 2×2 means
        pooled = torch.nn.functional.avg_pool2d(prompt, 2)
        same_means = pooled.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
        torch.testing.assert_close(block(x, prompt), block(x, same_means), atol=1e-5, rtol=0)
    block(x, prompt).square().sum().backward()
    assert prompt.grad is not None and prompt.grad.abs().sum() > 0
    assert block.trans_block.ln_prompt.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="does not fit"):
        block(x, torch.randn(2, 16, 12, 20))                 # prompts have the transformer width
