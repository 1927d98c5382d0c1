"""Starting a codec with wider transforms (more hidden channels in g_a and g_s) from a trained narrower one.

Why: the shipped image models use N = 64 hidden channels in g_a and g_s, where the mean-scale
hyperprior of Minnen et al. (arXiv 1809.02736, sec. 4) uses N = 128 for the low rates and 192 for
the high ones, and Ballé et al. (arXiv 1802.01436, sec. 4) N = 128 / 192 likewise. Their high-rate
points are the furthest behind JPEG 2000 (``docs/results/kodak.md``), and a model trained from
scratch at the larger width needs far more steps than one stage on an accelerator gives. Widening
a trained model keeps what it learned and adds capacity; unlike new latent channels
(:mod:`.latent_widening`), new hidden channels cost no bits, so the rate term does not hold them
at 0 and the distortion term alone decides what they learn.

How (function-preserving widening, as in Net2Net, Chen, Goodfellow and Shlens, arXiv 1511.05641,
but with fresh instead of copied units): for every convolution, transposed convolution and GDN
layer of the widened transforms,

- the block that maps old inputs to old outputs is the narrow model's;
- the old outputs read the new inputs through **zero** weights, so the old channels, and with them
  y and x̂, are computed exactly as before (a GDN's ``gamma`` from a new channel into an old one
  is 0 as well, which its fresh initialisation already is);
- the new outputs keep their fresh random initialisation (weights, bias, GDN ``beta`` and
  ``gamma``), so they are active from the first step; the zero weights that read them receive a
  gradient at once (activation × upstream gradient), and training moves them.

The hyperprior (h_a, h_s, the entropy models) is copied unchanged: its width is not widened here.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch
from torch import nn

from ..errors import ModelError
from ..layers.gdn import GDN


def _io_dims(module: nn.Module, parameter: str) -> tuple[int, int | None] | None:
    """(output dim, input dim or None) of a widenable parameter of ``module``; None if not widenable."""
    if isinstance(module, nn.ConvTranspose2d):
        return {"weight": (1, 0), "bias": (0, None)}.get(parameter)
    if isinstance(module, nn.Conv2d):
        return {"weight": (0, 1), "bias": (0, None)}.get(parameter)
    if isinstance(module, GDN):
        return {"gamma": (0, 1), "beta": (0, None)}.get(parameter)
    return None


def widened_transform_state(model: nn.Module, source: Mapping[str, torch.Tensor],
                            transforms: Iterable[str] = ("g_a", "g_s")) -> dict[str, torch.Tensor]:
    """``model``'s state (the wide model, freshly initialised) with the narrow ``source`` written into
    it so that the result computes ``source``'s model exactly (see the module docstring).

    Only the layers of ``transforms`` may differ in shape, and only by being wider in ``model``.
    Raises :class:`ModelError` otherwise."""
    own = model.state_dict()
    if set(own) != set(source):
        differing = sorted(set(own) ^ set(source))[0]
        raise ModelError(f"initial weights differ from this model in more than the transforms' width ({differing})")
    modules = dict(model.named_modules())
    state = {key: value.clone() for key, value in own.items()}
    for key, old in source.items():
        new = state[key]
        if old.shape == new.shape or new.numel() == 0:   # the same, or a coding table not built yet
            state[key] = old.clone()
            continue
        module_name, _, parameter = key.rpartition(".")
        dims = _io_dims(modules[module_name], parameter) if module_name.split(".")[0] in transforms else None
        if dims is None or old.dim() != new.dim() or any(a > b for a, b in zip(old.shape, new.shape)):
            raise ModelError(f"initial weights for {key} have shape {list(old.shape)}, not {list(new.shape)}: "
                             "only the hidden layers of the transforms may be narrower")
        out_dim, in_dim = dims
        # the old outputs must not read the new inputs (a fresh GDN's gamma is 0 off its diagonal already:
        # its stored value is sqrt(pedestal), which the reparametrisation maps to exactly 0)
        if in_dim is not None and not isinstance(modules[module_name], GDN):
            index = [slice(None)] * new.dim()
            index[out_dim], index[in_dim] = slice(0, old.shape[out_dim]), slice(old.shape[in_dim], None)
            new[tuple(index)] = 0
        new[tuple(slice(0, size) for size in old.shape)] = old
    return state


def transform_width(state: Mapping[str, torch.Tensor], first_layer: str = "g_a.0.weight") -> int:
    """The hidden width of the transforms of a state dict (output channels of g_a's first layer)."""
    if first_layer not in state:
        raise ModelError(f"initial weights have no {first_layer}")
    return int(state[first_layer].shape[0])
