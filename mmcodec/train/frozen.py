"""Holding part of a model fixed during training (the ``frozen`` setting).

Used to learn a better entropy model for analysis and synthesis transforms that are already
trained: ``mean-scale-channel`` started from a shipped mean-scale codec
(:meth:`MeanScaleChannelCodec.load_initial_weights`), or ``ms2020`` started from its g_a and g_s,
with ``frozen: [g_a., g_s.]``. The latents are coded as round(y − μ) + μ with a straight-through
gradient (arXiv 2007.08739 sec. 3: ŷ = y + stop_gradient(round(y − μ) + μ − y)), so μ gets no
gradient from the distortion, and with the transforms fixed such a run lowers the rate of the same
latents, while the distortion still teaches latent residual prediction through the fixed g_s.
The factorized prior's quantiles stay trainable: only the auxiliary loss moves them
(``train/trainer.py``).
"""
from __future__ import annotations

from torch import nn


def freeze_parameters(model: nn.Module, prefixes: list[str]) -> int:
    """Stop gradients to every parameter whose name starts with one of ``prefixes``; returns how
    many elements were frozen. Raises ValueError for a prefix that names no parameter."""
    named = [(name, p) for name, p in model.named_parameters() if not name.endswith("quantiles")]
    frozen = 0
    for prefix in prefixes:
        matched = [p for name, p in named if name.startswith(prefix)]
        if not matched:
            raise ValueError(f"frozen: no parameter of {getattr(model, 'name', type(model).__name__)} "
                             f"starts with {prefix!r}")
        for parameter in matched:
            if parameter.requires_grad:
                parameter.requires_grad_(False)
                frozen += parameter.numel()
    return frozen
