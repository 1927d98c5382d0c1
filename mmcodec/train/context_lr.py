"""A larger learning rate for the weights of a conditional model that read the colour context.

A conditioned depth model warm-started from a depth-only one (``prior_residual``,
:meth:`DepthMeanScaleCodec.load_initial_weights`) begins with those weights at zero, like
ControlNet's zero-initialised branch (Zhang et al., arXiv 2302.05543), and at the learning rate
that suits the trained weights they barely leave zero in a short run. Scaling their gradients
would not help: Adam's step (Kingma & Ba, arXiv 1412.6980, Algorithm 1) is invariant to the
gradient's scale. So after every Adam update the step of the masked elements is multiplied:
w ← w_old + k·(w_new − w_old), which is Adam with a learning rate k× larger on those elements
alone (element-wise, even inside a tensor whose other part holds depth weights).
"""
from __future__ import annotations

import torch
from torch import nn


class ContextStepBoost:
    """Multiplies the Adam step of the context-reading elements of ``model`` by ``factor``."""

    def __init__(self, model: nn.Module, factor: float) -> None:
        masks_of = getattr(model, "context_weight_masks", None)
        masks = masks_of() if masks_of is not None else {}
        if not masks:
            raise ValueError("context_lr_factor needs a model conditioned on a colour context")
        if factor <= 0:
            raise ValueError(f"context_lr_factor must be positive, not {factor}")
        parameters = dict(model.named_parameters())
        self.factor = factor
        self.items = [(parameters[name], mask.to(parameters[name].device)) for name, mask in masks.items()]
        self._before: list[torch.Tensor] = []

    def before_step(self) -> None:
        self._before = [p.detach().clone() for p, _ in self.items]

    @torch.no_grad()
    def after_step(self) -> None:
        for (p, mask), old in zip(self.items, self._before):
            p.add_((p - old) * mask * (self.factor - 1))
        self._before = []
