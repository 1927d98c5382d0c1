"""SWAtten: Swin-Transformer-based attention with a channel squeeze (LIC-TCM's entropy model).

Liu, Sun, Katto, arXiv 2303.14978, sec. 3.3 and fig. 4: the simplified attention module of
Cheng et al. (:class:`~mmcodec.layers.attention_block.AttentionBlock`) with its mask branch fed
by a Swin block pair (W-MSA then SW-MSA) instead of the input itself, wrapped in 1×1
convolutions that squeeze the input to ``inter_dim`` channels (128 in the paper) and expand it
back, which keeps the parameters of the channel-wise entropy model low:

    u = conv1×1(x);  out = conv1×1(u + conv_a(u) ⊙ sigmoid(conv_b(SwinPair(u))))

It precedes the mean and scale transforms of each slice (fig. 3). Attribute names are the
official ``SWAtten``'s (``in_conv``, ``non_local_block``, ``conv_a``, ``conv_b``, ``out_conv``).
"""
from __future__ import annotations

import torch

from .attention_block import AttentionBlock
from .residual import conv1x1
from .swin import SwinBlockPair


class SWAtten(AttentionBlock):
    """``in_dim`` → ``inter_dim`` → attention → ``out_dim`` channels (any H, W)."""

    def __init__(self, in_dim: int, out_dim: int, head_dim: int = 16, window: int = 8, drop_path: float = 0.0,
                 inter_dim: int = 128) -> None:
        super().__init__(inter_dim)
        self.non_local_block = SwinBlockPair(inter_dim, head_dim, window, drop_path)
        self.in_conv = conv1x1(in_dim, inter_dim)
        self.out_conv = conv1x1(inter_dim, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.in_conv(x)
        out = x + self.conv_a(x) * torch.sigmoid(self.conv_b(self.non_local_block(x)))
        return self.out_conv(out)
