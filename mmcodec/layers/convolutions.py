"""Strided convolutions and the GDN analysis / synthesis stacks of Ballé et al.

Transforms of arXiv 1802.01436 fig. 4 (and 1611.01704): four 5×5 stride-2 convolutions with
GDN between them for g_a, the mirror with transposed convolutions and IGDN for g_s.
"""
from __future__ import annotations

from torch import nn

from .gdn import GDN


def conv(in_channels: int, out_channels: int, kernel_size: int = 5, stride: int = 2) -> nn.Conv2d:
    """'Same'-padded convolution that downsamples by ``stride``."""
    return nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2)


def deconv(in_channels: int, out_channels: int, kernel_size: int = 5, stride: int = 2) -> nn.ConvTranspose2d:
    """Transposed convolution that upsamples by exactly ``stride``."""
    return nn.ConvTranspose2d(in_channels, out_channels, kernel_size, stride=stride,
                              output_padding=stride - 1, padding=kernel_size // 2)


def gdn_analysis(in_channels: int, n: int, m: int) -> nn.Sequential:
    """g_a: x (in_channels) → y (m channels) at 1/16 resolution."""
    return nn.Sequential(conv(in_channels, n), GDN(n), conv(n, n), GDN(n), conv(n, n), GDN(n), conv(n, m))


def gdn_synthesis(m: int, n: int, out_channels: int) -> nn.Sequential:
    """g_s: ŷ (m channels) → x̂ (out_channels) at full resolution."""
    return nn.Sequential(deconv(m, n), GDN(n, inverse=True), deconv(n, n), GDN(n, inverse=True),
                         deconv(n, n), GDN(n, inverse=True), deconv(n, out_channels))
