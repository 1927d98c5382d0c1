"""Convolutional MM-LIC-TCM: depth coding with RGB structure priors fused into the analysis.

Thesis ../shared/papers/multimodal-lic-tcm-rgbd-thesis.txt, sec. 3.1.2 (fig. 21), after
the dual-path codec of Chen et al., ICIP 2022 (sec. 2.4.2, figs. 16-17) on the LIC-TCM backbone
(Liu, Sun, Katto, arXiv 2303.14978; :class:`~mmcodec.codecs.tcm.TCMCodec`):

- g_a_depth is the depth baseline's g_a (LIC-TCM with one input channel): three analysis
  modules [RBS, TCM blocks] and a final 3×3 stride-2 convolution to the latent y;
- g_a_rgb is a second analysis path with the same modules on the 3-channel RGB image;
- two Structure Prior Fusion modules (:class:`~mmcodec.layers.structure_prior_fusion.
  StructurePriorFusion`), "both placed before the encoder" output; our reading: one after each
  of the last two analysis modules (2N channels at 1/4 and 1/8 of the image), each fusing the
  RGB path's features into the depth path, which continues with the fused features. The RGB
  path therefore ends with its third analysis module: the final convolution of g_a would have
  no consumer and is not built;
- h_a, h_mean_s, h_scale_s, the channel-wise entropy model and g_s (one output channel) are
  the depth baseline's. The decoder needs nothing but the streams; RGB only enters g_a.

The thesis initialises the shared parts from the trained depth baseline and freezes them:
:meth:`TCMConvFusionCodec.load_depth_baseline` and :meth:`~TCMConvFusionCodec.freeze_depth_path`.

Input: ``[depth (1), rgb (3)]`` (target first, the package's multimodal convention), depth as the
depth baseline sees it; ``x_hat`` is the depth (``out_channels`` = 1). Parameters at N = 64:
47,624,164 = the depth baseline's 45,168,968 + 1,772,060 (RGB path) + 2 × 341,568 (SPF);
the thesis reports 47.6 M (table 15).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ..layers.residual import ResidualBlockWithStride
from ..layers.structure_prior_fusion import StructurePriorFusion
from ..layers.tcm_block import tcm_stage
from .registry import register
from .tcm import TCMCodec

#: the depth baseline's modules, shared with it (state-dict prefixes; g_a is its depth path)
SHARED_PREFIXES = ("g_a.depth.", "g_s.", "h_a.", "h_mean_s.", "h_scale_s.", "z_model.", "y_model.")


class StructurePriorAnalysis(nn.Module):
    """g_a of the model: depth and RGB analysis paths, fused by SPF after the layers ``fuse_after``.

    ``depth`` is a complete LIC-TCM g_a; ``rgb`` has the same layers up to the last fusion point.
    Input: ``[depth, rgb]`` stacked; ``depth_channels`` is the width of the first part.
    """

    def __init__(self, depth: nn.Sequential, rgb: nn.Sequential, fusions: nn.ModuleList,
                 fuse_after: tuple[int, ...], depth_channels: int = 1) -> None:
        super().__init__()
        if len(fusions) != len(fuse_after) or len(rgb) != fuse_after[-1]:
            raise ValueError("one fusion per fusion point, and an RGB path that reaches the last one")
        self.depth, self.rgb, self.fusions = depth, rgb, fusions
        self.fuse_after, self.depth_channels = tuple(fuse_after), depth_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d, r = x[:, :self.depth_channels], x[:, self.depth_channels:]
        start = 0
        for fusion, end in zip(self.fusions, self.fuse_after):
            for i in range(start, end):
                d, r = self.depth[i](d), self.rgb[i](r)
            d, start = fusion(d, r), end
        for i in range(start, len(self.depth)):
            d = self.depth[i](d)
        return d


@register("mm-tcm-conv", "conv-mm-lic-tcm")
class TCMConvFusionCodec(TCMCodec):
    """Depth LIC-TCM whose analysis fuses an RGB analysis path through two SPF modules."""

    modality = "rgbd"          # input: [depth, rgb]; output: depth alone
    depth_channels, context_channels = 1, 3

    def __init__(self, **tcm_config: Any) -> None:
        fixed = {"in_channels", "out_channels"} & tcm_config.keys()
        if fixed:
            raise ValueError(f"{sorted(fixed)} are fixed (input [depth, rgb], output depth); do not pass them")
        super().__init__(in_channels=self.depth_channels, out_channels=self.depth_channels, **tcm_config)
        self.in_channels = self.depth_channels + self.context_channels
        ends, end = [], 0
        for depth in self.block_config[:3]:     # analysis module k: RBS, then its TCM blocks
            end += 1 + depth
            ends.append(end)
        fuse_after = tuple(ends[1:])            # after the last two analysis modules
        fusions = nn.ModuleList(StructurePriorFusion(2 * self.n) for _ in fuse_after)
        self.g_a = StructurePriorAnalysis(self.g_a, self._rgb_analysis(), fusions, fuse_after,
                                          self.depth_channels)

    def _rgb_analysis(self) -> nn.Sequential:
        """g_a_rgb: the analysis modules of LIC-TCM's g_a (as :class:`TCMCodec` builds them) on RGB."""
        config, wide = self.block_config, 2 * self.n
        total = sum(config)
        dpr = [self.drop_path_rate * i / max(1, total - 1) for i in range(total)]
        layers: list[nn.Module] = []
        for k in range(3):
            layers.append(ResidualBlockWithStride(self.context_channels if k == 0 else wide, wide, 2))
            layers.extend(tcm_stage(self.n, self.head_dim[k], self.window, config[k], dpr[:config[k]]))
        return nn.Sequential(*layers)

    @property
    def g_a_depth(self) -> nn.Sequential:
        """The depth analysis path (the depth baseline's g_a)."""
        return self.g_a.depth

    @property
    def g_a_rgb(self) -> nn.Sequential:
        """The RGB analysis path."""
        return self.g_a.rgb

    def config(self) -> dict:
        config = super().config()
        del config["in_channels"], config["out_channels"]
        return config

    # -- initialisation from the depth baseline (thesis sec. 3.1.2) ----------------------------------
    @staticmethod
    def is_shared(name: str) -> bool:
        """Whether a parameter / state-dict entry belongs to the parts shared with the depth baseline."""
        return name.startswith(SHARED_PREFIXES)

    def load_depth_baseline(self, baseline: TCMCodec | Mapping[str, torch.Tensor]) -> None:
        """Copy a trained depth baseline (a 1-channel ``tcm`` of the same configuration, or its
        state dict) into g_a_depth, the hyperprior, the entropy model and g_s."""
        if isinstance(baseline, nn.Module):
            expected = {**self.config(), "in_channels": self.depth_channels}
            if not isinstance(baseline, TCMCodec) or baseline.config() != expected:
                raise ValueError("the depth baseline must be a 1-channel 'tcm' of this model's configuration")
            baseline = baseline.state_dict()
        state = {("g_a.depth." + k[len("g_a."):] if k.startswith("g_a.") else k): v for k, v in baseline.items()}
        own = self.state_dict()
        unexpected = sorted(set(state) - set(own))
        missing = sorted(k for k in own if self.is_shared(k) and k not in state)
        parameters = dict(self.named_parameters())
        mismatched = sorted(k for k, v in state.items() if k in parameters and v.shape != parameters[k].shape)
        if unexpected or missing or mismatched:
            raise ValueError(f"not a depth baseline of this configuration: unexpected {unexpected[:3]}, "
                             f"missing {missing[:3]}, other shapes {mismatched[:3]}")
        self.load_state_dict(state, strict=False)

    def freeze_depth_path(self) -> None:
        """Stop gradients to the parts shared with the depth baseline; g_a_rgb and the SPF modules
        train. The factorized prior's quantiles stay trainable: the rate-distortion loss gives them
        no gradient (only the detached medians are used), the auxiliary loss fits them with its own
        optimizer (``train/trainer.py``, which needs them to require gradients), and with the
        frozen density of z that fit stays where the baseline left it."""
        for name, parameter in self.named_parameters():
            if self.is_shared(name) and not name.endswith("quantiles"):
                parameter.requires_grad_(False)
