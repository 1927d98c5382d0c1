"""Residual blocks of the LIC-TCM transforms (and of Cheng et al. 2020, where they come from).

LIC-TCM (Liu, Sun, Katto, arXiv 2303.14978, sec. 3.1-3.2, fig. 2) builds g_a from residual
blocks with stride (RBS) and g_s from residual block upsamplings (RBU), and the CNN branch of
each TCM block is a residual block. They are the blocks of Cheng, Sun, Takeuchi, Katto,
arXiv 2001.01431 (fig. 2), as implemented in CompressAI (``compressai.layers``):

- :class:`ResidualBlock`: x + LReLU(conv3×3(LReLU(conv3×3(x)))), a 1×1 skip if widths differ;
- :class:`ResidualBlockWithStride` (RBS): GDN(conv3×3(LReLU(conv3×3/s(x)))) + conv1×1/s(x);
- :class:`ResidualBlockUpsample` (RBU): IGDN(conv3×3(LReLU(subpel(x)))) + subpel(x), with
  ``subpel`` a 3×3 convolution to r²·C channels and a pixel shuffle (sub-pixel convolution).

Attribute names are CompressAI's, so the official LIC-TCM weights map one to one.
"""
from __future__ import annotations

import torch
from torch import nn

from .gdn import GDN
from .native import NativeConv2d


def conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """1×1 convolution, on native kernels (thread-count independent, see ``layers/native.py``)."""
    return NativeConv2d(in_channels, out_channels, kernel_size=1, stride=stride)


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1)


def subpel_conv3x3(in_channels: int, out_channels: int, factor: int = 1) -> nn.Sequential:
    """3×3 convolution to ``out_channels · factor²`` channels, then a pixel shuffle (upsampling)."""
    return nn.Sequential(nn.Conv2d(in_channels, out_channels * factor ** 2, kernel_size=3, padding=1),
                         nn.PixelShuffle(factor))


class ResidualBlock(nn.Module):
    """Two 3×3 convolutions with leaky ReLUs and an identity (or 1×1) shortcut."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = conv3x3(in_channels, out_channels)
        self.leaky_relu = nn.LeakyReLU(inplace=True)
        self.conv2 = conv3x3(out_channels, out_channels)
        self.skip = conv1x1(in_channels, out_channels) if in_channels != out_channels else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.leaky_relu(self.conv1(x))
        out = self.leaky_relu(self.conv2(out))
        return out + (self.skip(x) if self.skip is not None else x)


class ResidualBlockWithStride(nn.Module):
    """RBS: downsamples by ``stride`` (first convolution and the 1×1 shortcut), GDN at the end."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 2) -> None:
        super().__init__()
        self.conv1 = conv3x3(in_channels, out_channels, stride=stride)
        self.leaky_relu = nn.LeakyReLU(inplace=True)
        self.conv2 = conv3x3(out_channels, out_channels)
        self.gdn = GDN(out_channels)
        self.skip = (conv1x1(in_channels, out_channels, stride=stride)
                     if stride != 1 or in_channels != out_channels else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.gdn(self.conv2(self.leaky_relu(self.conv1(x))))
        return out + (self.skip(x) if self.skip is not None else x)


class ResidualBlockUpsample(nn.Module):
    """RBU: upsamples by ``factor`` with sub-pixel convolutions (main path and shortcut), IGDN."""

    def __init__(self, in_channels: int, out_channels: int, factor: int = 2) -> None:
        super().__init__()
        self.subpel_conv = subpel_conv3x3(in_channels, out_channels, factor)
        self.leaky_relu = nn.LeakyReLU(inplace=True)
        self.conv = conv3x3(out_channels, out_channels)
        self.igdn = GDN(out_channels, inverse=True)
        self.upsample = subpel_conv3x3(in_channels, out_channels, factor)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.igdn(self.conv(self.leaky_relu(self.subpel_conv(x))))
        return out + self.upsample(x)
