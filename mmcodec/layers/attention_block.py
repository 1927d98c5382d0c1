"""Simplified attention module of Cheng, Sun, Takeuchi, Katto (arXiv 2001.01431, sec. 3.2, fig. 3).

out = x + a(x) ⊙ sigmoid(b(x)), the trunk ``a`` three residual units and the mask branch ``b``
three residual units and a 1×1 convolution; a residual unit is
ReLU(x + conv1×1(ReLU(conv3×3(ReLU(conv1×1(x)))))) with a bottleneck of half the width. This is
CompressAI's ``AttentionBlock``, the base of LIC-TCM's SWAtten (arXiv 2303.14978, sec. 3.3,
fig. 4), which replaces the input of the mask branch by a Swin block's output.
"""
from __future__ import annotations

import torch
from torch import nn

from .residual import conv1x1, conv3x3


class ResidualUnit(nn.Module):
    """Bottleneck residual unit (1×1 → 3×3 → 1×1 at half width), ReLU after the sum."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        half = channels // 2
        self.conv = nn.Sequential(conv1x1(channels, half), nn.ReLU(inplace=True), conv3x3(half, half),
                                  nn.ReLU(inplace=True), conv1x1(half, channels))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv(x) + x)


class AttentionBlock(nn.Module):
    """x + conv_a(x) ⊙ sigmoid(conv_b(x))."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv_a = nn.Sequential(ResidualUnit(channels), ResidualUnit(channels), ResidualUnit(channels))
        self.conv_b = nn.Sequential(ResidualUnit(channels), ResidualUnit(channels), ResidualUnit(channels),
                                    conv1x1(channels, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_a(x) * torch.sigmoid(self.conv_b(x))
