"""Transformer-CNN Mixture (TCM) block.

Liu, Sun, Katto, "Learned Image Compression with Mixed Transformer-CNN Architectures",
arXiv 2303.14978, sec. 3.2, fig. 2 (right) and eq. 2:

    F_cnn, F_trans = Split(conv1×1(F))
    F'_cnn   = Res(F_cnn) + F_cnn                    (CNN branch: a residual block; local)
    F'_trans = SwinT(F_trans)                        (transformer branch; non-local)
    F_out    = F + conv1×1(Concat(F'_cnn, F'_trans))

Consecutive TCM blocks alternate W-MSA (stage I) and SW-MSA (stage II) in their SwinT branch.
Attribute names are the official ``ConvTransBlock``'s (``conv1_1``, ``conv1_2``,
``conv_block``, ``trans_block``).
"""
from __future__ import annotations

import torch
from torch import nn

from .residual import ResidualBlock, conv1x1
from .swin import SwinTransformerBlock


class TCMBlock(nn.Module):
    """A TCM block on NCHW maps of ``conv_dim + trans_dim`` channels (H, W multiples of ``window``)."""

    def __init__(self, conv_dim: int, trans_dim: int, head_dim: int, window: int, drop_path: float = 0.0,
                 shifted: bool = False) -> None:
        super().__init__()
        self.conv_dim, self.trans_dim = conv_dim, trans_dim
        width = conv_dim + trans_dim
        self.trans_block = SwinTransformerBlock(trans_dim, head_dim, window, shifted, drop_path)
        self.conv1_1 = conv1x1(width, width)
        self.conv1_2 = conv1x1(width, width)
        self.conv_block = ResidualBlock(conv_dim, conv_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        conv_x, trans_x = torch.split(self.conv1_1(x), (self.conv_dim, self.trans_dim), dim=1)
        conv_x = self.conv_block(conv_x) + conv_x
        trans_x = self.trans_block(trans_x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        return x + self.conv1_2(torch.cat((conv_x, trans_x), dim=1))


def tcm_stage(dim: int, head_dim: int, window: int, depth: int, drop_paths: list[float] | None = None
              ) -> list[nn.Module]:
    """``depth`` TCM blocks of ``2·dim`` channels (half CNN, half transformer), W and SW alternating."""
    drop_paths = drop_paths or [0.0] * depth
    return [TCMBlock(dim, dim, head_dim, window, drop_paths[i], shifted=bool(i % 2)) for i in range(depth)]
