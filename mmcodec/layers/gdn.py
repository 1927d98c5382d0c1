"""Generalized divisive normalization (GDN) and its inverse.

Ballé, Laparra, Simoncelli, "Density modeling of images using a generalized normalization
transformation", arXiv 1511.06281, eq. (6):  y_i = x_i / sqrt(beta_i + sum_j gamma_ij x_j^2).
The inverse (IGDN, used in synthesis transforms) multiplies instead of dividing.
The 1×1 normalisation convolution runs on torch's native kernels: oneDNN's result for it
changed with the thread count (and the native one is faster for this shape).
beta and gamma are kept non-negative by the squared reparametrisation of arXiv 1802.01436.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .lower_bound import lower_bound
from .native import native_kernels

_PEDESTAL = 2.0**-18


class _NonNegative(nn.Module):
    """Stores p = sqrt(max(v, min) + pedestal) and returns max(p, bound)^2 - pedestal."""

    def __init__(self, minimum: float = 0.0) -> None:
        super().__init__()
        self.bound = (minimum + _PEDESTAL) ** 0.5

    def init(self, value: torch.Tensor) -> torch.Tensor:
        return torch.sqrt(torch.clamp(value + _PEDESTAL, min=_PEDESTAL))

    def forward(self, raw: torch.Tensor) -> torch.Tensor:
        return lower_bound(raw, self.bound) ** 2 - _PEDESTAL


class GDN(nn.Module):
    """GDN over the channel axis of an NCHW tensor; ``inverse=True`` gives IGDN."""

    def __init__(self, channels: int, inverse: bool = False, beta_min: float = 1e-6,
                 gamma_init: float = 0.1) -> None:
        super().__init__()
        self.inverse = inverse
        self._beta = _NonNegative(beta_min)
        self._gamma = _NonNegative(0.0)
        self.beta = nn.Parameter(self._beta.init(torch.ones(channels)))
        self.gamma = nn.Parameter(self._gamma.init(gamma_init * torch.eye(channels)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels = x.shape[1]
        beta = self._beta(self.beta)
        gamma = self._gamma(self.gamma).reshape(channels, channels, 1, 1)
        with native_kernels():
            norm = torch.sqrt(F.conv2d(x * x, gamma, beta))
        return x * norm if self.inverse else x / norm
