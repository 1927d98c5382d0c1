"""Lower bound with a gradient that lets values below the bound climb back.

Ballé et al. 2018 (arXiv 1802.01436), used for scales and likelihoods: the forward pass
is ``max(x, bound)``; the backward pass lets the gradient through where ``x >= bound`` or
where it points upwards, so parameters stuck under the bound can recover.
"""
from __future__ import annotations

import torch
from torch import nn


class _LowerBoundFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, bound: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x, bound)
        return torch.maximum(x, bound)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):  # type: ignore[override]
        x, bound = ctx.saved_tensors
        pass_through = (x >= bound) | (grad_output < 0)
        return pass_through.to(grad_output.dtype) * grad_output, None


def lower_bound(x: torch.Tensor, bound: float) -> torch.Tensor:
    """``max(x, bound)`` with the straight-through gradient described above."""
    return _LowerBoundFunction.apply(x, torch.tensor(bound, dtype=x.dtype, device=x.device))


class LowerBound(nn.Module):
    """Module form of :func:`lower_bound` with a fixed bound."""

    def __init__(self, bound: float) -> None:
        super().__init__()
        self.bound = float(bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return lower_bound(x, self.bound)
