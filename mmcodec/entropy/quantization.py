"""Quantisation proxies for training and the exact rounding used for coding.

Training (Ballé et al., arXiv 1611.01704 sec. 2): additive uniform noise u ~ U(-1/2, 1/2)
stands in for rounding in the rate term. For the synthesis input, Minnen & Singh (arXiv
2007.08739 sec. 3) round around the predicted mean with a straight-through gradient.
"""
from __future__ import annotations

import torch


def perturb(x: torch.Tensor) -> torch.Tensor:
    """x + U(-1/2, 1/2), the training proxy of rounding."""
    return x + torch.empty_like(x).uniform_(-0.5, 0.5)


def quantize(x: torch.Tensor, means: torch.Tensor | None = None) -> torch.Tensor:
    """round(x - means) + means (means = 0 if None); no gradient."""
    if means is None:
        return torch.round(x)
    return torch.round(x - means) + means


def straight_through_round(x: torch.Tensor, means: torch.Tensor | None = None) -> torch.Tensor:
    """round(x - means) + means in the forward pass, identity gradient in the backward pass."""
    rounded = quantize(x, means)
    return x + (rounded - x).detach()
