"""Starting a model from a smaller model's weights so that it first computes that model exactly.

A multimodal codec that reads one more modality than a trained single-modality codec (the RGB-D
thesis's 4-channel LIC-TCM, ../shared/papers/multimodal-lic-tcm-rgbd-thesis.txt sec. 3.1.1; the
RGB-conditional depth codec) differs from it only in layers whose inputs grew by the context's
channels and in modules the smaller model lacks. Started with the smaller model's weights in the
leading (target) channels, zeros in the context's and the new modules arranged to add nothing, it
computes the smaller model's output at step 0, and training only has to learn what the context
adds: a short run starts from the baseline's quality instead of from random weights. (The
thesis's Attention MM-LIC-TCM, sec. 3.1.3, takes its baseline's weights the same way, but its new
prompt networks change the attention from the start.)
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

import torch

from ..errors import ModelError


def grown_state(own: Mapping[str, torch.Tensor], source: Mapping[str, torch.Tensor],
                is_new: Callable[[str], bool] = lambda key: False,
                may_grow: Callable[[str], bool] = lambda key: True) -> dict[str, torch.Tensor]:
    """``own`` (a model's state dict) with ``source``'s weights written into it.

    - an entry of the same shape is copied from ``source``;
    - an entry of ``source`` smaller in exactly one dimension (inputs that grew by the context's
      channels), if ``may_grow(key)``, fills the leading part of that dimension; the rest is zero;
    - an entry ``source`` lacks keeps ``own``'s value, if ``is_new(key)`` says the smaller model has
      no such module; otherwise it is an error, as is an entry of ``source`` that ``own`` lacks;
    - empty entries of ``own`` (entropy tables, sized when loaded) take ``source``'s as they are.

    Raises :class:`ModelError` naming the first entry that does not fit."""
    foreign = sorted(set(source) - set(own))
    if foreign:
        raise ModelError(f"initial weights hold {foreign[0]}, which this model lacks")
    state: dict[str, torch.Tensor] = {}
    for key, target in own.items():
        if key not in source:
            if not is_new(key):
                raise ModelError(f"initial weights lack {key}")
            state[key] = target
            continue
        weights = source[key]
        if target.numel() == 0 or weights.shape == target.shape:
            state[key] = weights
            continue
        grown = [d for d in range(target.dim()) if target.shape[d] != weights.shape[d]] \
            if target.dim() == weights.dim() else []
        if len(grown) != 1 or target.shape[grown[0]] < weights.shape[grown[0]] or not may_grow(key):
            raise ModelError(f"initial weights for {key} have shape {list(weights.shape)}, "
                             f"not {list(target.shape)} or a part of it")
        extended = torch.zeros_like(target)
        extended.narrow(grown[0], 0, weights.shape[grown[0]]).copy_(weights)
        state[key] = extended
    return state


ANALYSIS_AND_SYNTHESIS = ("g_a.", "g_s.")


def state_with_transforms(own: Mapping[str, torch.Tensor], source: Mapping[str, torch.Tensor],
                          sources_named: str) -> dict[str, torch.Tensor]:
    """The state to start a codec from: ``source`` itself when it holds exactly ``own``'s entries
    (the codec's own weights), else ``own`` with the analysis and synthesis transforms (g_a, g_s)
    of ``source``, a trained codec that builds them as this one does (arXiv 1802.01436 fig. 4:
    the factorized, hyperprior, mean-scale and channel-wise codecs of the same N and M). The
    entropy model keeps its initialisation: training it for the trained transforms (frozen, or
    fitted first, ``train/prior_fit.py``) is the next step. ``sources_named`` lists, for the error
    message, the codecs whose weights fit."""
    if set(source) == set(own):
        return dict(source)
    shared = {key: value for key, value in source.items() if key.startswith(ANALYSIS_AND_SYNTHESIS)}
    if not shared:
        raise ModelError(f"initial weights must be this model's, or a codec's with the same g_a and g_s "
                         f"({sources_named})")
    try:
        return grown_state(own, shared, is_new=lambda key: not key.startswith(ANALYSIS_AND_SYNTHESIS),
                           may_grow=lambda key: False)
    except ModelError as exc:
        raise ModelError(f"initial weights must be this model's, or a codec's with the same g_a and g_s "
                         f"({sources_named}): {exc}") from None
