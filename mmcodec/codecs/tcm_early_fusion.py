"""4-channel LIC-TCM: early fusion of RGB and depth by stacking them at the input.

Thesis ../shared/papers/multimodal-lic-tcm-rgbd-thesis.txt, sec. 3.1.1 (fig. 20): LIC-TCM
(Liu, Sun, Katto, arXiv 2303.14978; :class:`~mmcodec.codecs.tcm.TCMCodec`) with 4 input
channels (RGB plus depth) and otherwise the same architecture; g_s outputs either the three
RGB channels ("4C LIC-TCM (RGB target)") or the one depth channel ("4C LIC-TCM (Depth
target)"). Only the first layer of g_a (one more input channel than the RGB baseline, three
more than the depth baseline) and the last layer of g_s differ from the single-modality
models, so the parameter counts are the baselines' to the precision of the thesis (tables
14-15: 45.18 M and 45.17 M at N = 64).

The input follows this package's multimodal convention, target channels first and the
context after: ``[rgb (3), depth (1)]`` for ``target="rgb"``, ``[depth (1), rgb (3)]`` for
``target="depth"``; ``x_hat`` has the target's channels only (``out_channels``). The decoder
needs nothing but the streams: the context only enters the encoder.

A training run may start from the single-modality LIC-TCM of the target (the thesis's depth or RGB
baseline, same configuration): :meth:`TCMEarlyFusionCodec.load_initial_weights` puts its weights in
and zeros in g_a's context input channels, so the model starts as that baseline exactly
(:mod:`.warm_start`); the thesis trains these models from scratch.
"""
from __future__ import annotations

from typing import Any

import torch

from .registry import register
from .tcm import TCMCodec
from .warm_start import grown_state

#: target → (target channels, context channels)
TARGET_CHANNELS: dict[str, tuple[int, int]] = {"rgb": (3, 1), "depth": (1, 3)}


@register("tcm-4c", "4c-lic-tcm")
class TCMEarlyFusionCodec(TCMCodec):
    """LIC-TCM on a stacked RGB-D input (4 channels) that reconstructs the ``target`` modality."""

    modality = "rgbd"          # input: an RGB-D stack, target first; output: the target alone

    def __init__(self, target: str = "rgb", **tcm_config: Any) -> None:
        if target not in TARGET_CHANNELS:
            raise ValueError(f"target must be one of {sorted(TARGET_CHANNELS)}, not {target!r}")
        fixed = {"in_channels", "out_channels"} & tcm_config.keys()
        if fixed:
            raise ValueError(f"{sorted(fixed)} follow from the target ({target!r}); do not pass them")
        self.target = target
        self.target_channels, self.context_channels = TARGET_CHANNELS[target]
        super().__init__(in_channels=self.target_channels + self.context_channels,
                         out_channels=self.target_channels, **tcm_config)

    def config(self) -> dict:
        config = super().config()
        del config["in_channels"], config["out_channels"]
        return {"target": self.target, **config}

    def load_initial_weights(self, state: dict[str, torch.Tensor]) -> None:
        """Start training from ``state``: this model's own weights, or the weights of a LIC-TCM of
        the same configuration on the target alone (``in_channels`` = the target's), whose g_a's
        first layer is extended with zero weights on the context channels (:func:`grown_state`)."""
        first_layer = "g_a.0."    # the only one that reads the context
        self.load_state_dict(grown_state(self.state_dict(), state, may_grow=lambda key: key.startswith(first_layer)))
