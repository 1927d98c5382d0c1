"""Swin Transformer blocks as used by LIC-TCM.

Liu, Sun, Katto, arXiv 2303.14978, sec. 3.2 and fig. 2 (right, "SwinT Block"): a pre-norm
transformer block, x ← x + MSA(LN(x)); x ← x + MLP(LN(x)), the MLP two linear layers with
4× expansion and GELU, the MSA windowed (:class:`~mmcodec.layers.window_attention.WindowAttention`).
Stage I of a TCM block uses plain windows (W-MSA), stage II shifted windows (SW-MSA), so
consecutive blocks alternate. :class:`SwinBlockPair` is one W block followed by one SW block on
an NCHW map: the non-local branch of SWAtten (arXiv 2303.14978 sec. 3.3, fig. 4).

Names follow the official code (``Block``: ``ln1``, ``msa``, ``ln2``, ``mlp``; ``SwinBlock``:
``block_1``, ``block_2``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .window_attention import WindowAttention


class DropPath(nn.Module):
    """Stochastic depth: drops the whole residual branch of a sample with probability p."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep


class SwinTransformerBlock(nn.Module):
    """One Swin block on a (B, H, W, C) map; ``shifted`` selects SW-MSA (stage II)."""

    def __init__(self, dim: int, head_dim: int, window: int, shifted: bool = False,
                 drop_path: float = 0.0, out_dim: int | None = None) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.msa = WindowAttention(dim, head_dim, window, shifted)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, out_dim or dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.msa(self.ln1(x)))
        return x + self.drop_path(self.mlp(self.ln2(x)))


class SwinBlockPair(nn.Module):
    """A W-MSA block then an SW-MSA block on an NCHW map (SWAtten's non-local branch).

    A map that is not a whole number of windows is zero-padded at the bottom and right and the
    output cropped back. (The official ``SwinBlock`` pads centrally only when a side is at most
    one window and does not crop; at the sizes LIC-TCM pads its inputs to, no padding happens.)
    """

    def __init__(self, dim: int, head_dim: int, window: int, drop_path: float = 0.0) -> None:
        super().__init__()
        self.window = window
        self.block_1 = SwinTransformerBlock(dim, head_dim, window, False, drop_path)
        self.block_2 = SwinTransformerBlock(dim, head_dim, window, True, drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        ph, pw = (-h) % self.window, (-w) % self.window
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph))
        t = self.block_2(self.block_1(x.permute(0, 2, 3, 1)))
        return t.permute(0, 3, 1, 2)[..., :h, :w]
