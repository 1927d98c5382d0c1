"""LIC-TCM: learned image compression with mixed Transformer-CNN architectures.

Liu, Sun, Katto, CVPR 2023, arXiv 2303.14978 (official code: github.com/jmliu206/LIC_TCM,
``models/tcm.py``), reconstructed layer for layer:

- g_a (sec. 3.2, fig. 2): RBS(3 → 2N) then three stages of [2 TCM blocks, downsampling], the
  first two downsamplings RBS(2N → 2N), the last a 3×3 stride-2 convolution to M = 320
  channels. A TCM block splits its 2N channels into a CNN half (residual block) and a
  transformer half (Swin block, W-MSA and SW-MSA alternating), window 8, head widths
  8 / 16 / 32 for the three stages.
- g_s mirrors it: RBU(M → 2N), three stages of [2 TCM blocks, upsampling] with RBU(2N → 2N),
  RBU, and a sub-pixel 3×3 convolution to 3 channels; head widths 32 / 16 / 8.
- h_a: RBS(M → 2N), 2 TCM blocks (window 4, head width 32), conv3×3/2 to 192 channels (z).
  h_mean_s and h_scale_s: RBU(192 → 2N), 2 TCM blocks (window 4), sub-pixel conv3×3 to M.
- Entropy model (sec. 3.3, fig. 3): 5 slices of 64 channels, each conditioned on the hyper
  features and every previous slice; SWAtten (Swin-based attention, 128 inner channels, head
  width 16, window 8) before each slice's mean and scale transforms, which are conv3×3 (224) →
  GELU → conv3×3 (128) → GELU → conv3×3 (64); LRP as Minnen & Singh
  (:mod:`mmcodec.entropy.channel_context`).

Sizes (``TCMCodec.sizes``): N = 64 (small), 96 (medium), 128 (large; the official default).
Parameters here: 45,180,752 / 59,133,650 / 76,568,148, those of the official code counted layer
by layer (its z prior is CompressAI's EntropyBottleneck with four hidden (3, 3, 3, 3) layers).
The paper's table gives 44.96 M for the small model; the thesis
../shared/papers/multimodal-lic-tcm-rgbd-thesis.txt measured the official code with DeepSpeed's
profiler at 45.18 M (45.17 M with one input channel; tables 14-15), equal to these counts at
the precision shown.

``TCMCodec.cpu_config`` is a configuration small enough to train on a CPU: N = 32, M = 128 in 4
slices of 32, z with 64 channels, 32-channel SWAtten, slice transforms 96 → 64; 7.0 M parameters
and about 129 k MACs per pixel (the small model: 560 k; mbt2018-mean with N = 128: 91 k). Train it
on crops of at least 256² (twice the padding multiple): on 128² crops, a single window of its coarse
attention levels, it learns to code such crops and not whole images (docs/design.md).

Inputs are padded to ``padding_multiple`` = lcm(8·window, 16·attention_window, 32·hyper_window,
64) (g_a / g_s windows down to 1/8 of the image, SWAtten windows at 1/16, h_a / h_s windows at
1/32, z at 1/64): 128 with the paper's windows, so every window partition is exact and the
model computes what the official one computes. Deviations from the official code:

- the official ``SwinBlock`` (SWAtten's non-local branch), as we recall it, pads centrally when
  a side is at most one window and does not crop back (so a latent of exactly one window, a
  128 × 128 input, would not fit); here a map that is not a whole number of windows is
  zero-padded at the bottom/right and cropped, and a whole number of windows is left alone;
- 1×1 convolutions run on torch's native CPU kernels (``layers/native.py``: oneDNN's results
  depended on the thread count); the function and the parameters are unchanged;
- the width literals of the official code (320, 192, 128, 224) are constructor arguments with
  the official values as defaults; the slice count and support follow ``num_slices`` /
  ``max_support_slices`` instead of the literal 5;
- coding uses this package's entropy layer (160-entry scale table; as the reference, one ANS stream
  for all slices, :mod:`mmcodec.entropy.slice_coding`) instead of CompressAI's rANS with 64 scales;
- the networks that set the entropy parameters (h_mean_s, h_scale_s, SWAtten, the slice and LRP
  transforms) code in fixed point (:mod:`mmcodec.layers.fixed_point_modules`,
  :mod:`.fixed_point_slices`; files of model version 2), so that a file decodes on any platform;
  files of version 1 decode with the float networks.
"""
from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import nn

from ..entropy.channel_context import ChannelContextEntropyModel
from ..entropy.factorized import FactorizedEntropyModel
from ..layers import conv
from ..layers.fixed_point_modules import fixed_point_forward
from ..layers.residual import ResidualBlockUpsample, ResidualBlockWithStride, conv3x3, subpel_conv3x3
from ..layers.swatten import SWAtten
from ..layers.tcm_block import tcm_stage
from .channel_autoregressive import ChannelConditionalCodec
from .registry import register


def _cc_transform(hidden: tuple[int, int]):
    """LIC-TCM's mean / scale / LRP transform: conv3×3 → GELU → conv3×3 → GELU → conv3×3."""
    def make(in_channels: int, out_channels: int) -> nn.Module:
        return nn.Sequential(conv(in_channels, hidden[0], 3, 1), nn.GELU(), conv(hidden[0], hidden[1], 3, 1),
                             nn.GELU(), conv(hidden[1], out_channels, 3, 1))
    return make


@register("tcm", "lic-tcm", "liu2023-tcm")
class TCMCodec(ChannelConditionalCodec):
    """LIC-TCM with ``n`` = N (half the width of the TCM blocks) and ``m`` = M latent channels.

    ``out_channels`` (default ``in_channels``) is the width of g_s's output, for the multimodal
    variants whose input stacks a context after the target (:mod:`.tcm_early_fusion`).
    """

    sizes: ClassVar[dict] = {"small": 64, "medium": 96, "large": 128}
    entropy_parameter_modes = ("float", "integer")   # integer: fixed-point entropy networks (model version 2)
    cpu_config: ClassVar[dict] = {"n": 32, "m": 128, "num_slices": 4, "z_channels": 64, "attention_dim": 32,
                                  "cc_hidden": (96, 64)}
    # tiny model for the generic codec tests: windows 4 / 2 give a padding multiple of 64
    test_config: ClassVar[dict] = {"n": 16, "m": 16, "num_slices": 2, "z_channels": 16, "head_dim": (8, 8, 8, 8, 8, 8),
                   "hyper_head_dim": 8, "window": 4, "hyper_window": 2, "attention_dim": 16, "attention_head_dim": 8,
                   "cc_hidden": (16, 16)}

    def __init__(self, n: int = 128, m: int = 320, in_channels: int = 3, z_channels: int = 192,
                 num_slices: int = 5, max_support_slices: int = 5,
                 config: tuple[int, ...] = (2, 2, 2, 2, 2, 2), head_dim: tuple[int, ...] = (8, 16, 32, 32, 16, 8),
                 window: int = 8, hyper_window: int = 4, hyper_head_dim: int = 32,
                 attention_dim: int = 128, attention_head_dim: int = 16, attention_window: int | None = None,
                 cc_hidden: tuple[int, int] = (224, 128), drop_path_rate: float = 0.0,
                 out_channels: int | None = None) -> None:
        super().__init__(in_channels)
        self.out_channels = in_channels if out_channels is None else out_channels
        self.n, self.m, self.z_channels = n, m, z_channels
        self.num_slices, self.max_support_slices = num_slices, max_support_slices
        self.block_config, self.head_dim = tuple(config), tuple(head_dim)
        self.window, self.hyper_window, self.hyper_head_dim = window, hyper_window, hyper_head_dim
        self.attention_dim, self.attention_head_dim = attention_dim, attention_head_dim
        self.attention_window = attention_window or window
        self.cc_hidden, self.drop_path_rate = tuple(cc_hidden), drop_path_rate
        self.padding_multiple = math.lcm(8 * window, 16 * self.attention_window, 32 * hyper_window, 64)

        # the official code indexes the drop-path schedule from 0 in every stage (``begin`` stays 0)
        total = sum(config)
        dpr = [drop_path_rate * i / max(1, total - 1) for i in range(total)]  # torch.linspace(0, rate, total)
        wide = 2 * n

        def stage(k: int, head: int, win: int) -> list[nn.Module]:
            return tcm_stage(n, head, win, config[k], dpr[:config[k]])

        self.g_a = nn.Sequential(
            ResidualBlockWithStride(in_channels, wide, 2),
            *stage(0, head_dim[0], window), ResidualBlockWithStride(wide, wide, 2),
            *stage(1, head_dim[1], window), ResidualBlockWithStride(wide, wide, 2),
            *stage(2, head_dim[2], window), conv3x3(wide, m, stride=2))
        self.g_s = nn.Sequential(
            ResidualBlockUpsample(m, wide, 2),
            *stage(3, head_dim[3], window), ResidualBlockUpsample(wide, wide, 2),
            *stage(4, head_dim[4], window), ResidualBlockUpsample(wide, wide, 2),
            *stage(5, head_dim[5], window), subpel_conv3x3(wide, self.out_channels, 2))
        self.h_a = nn.Sequential(
            ResidualBlockWithStride(m, wide, 2),
            *tcm_stage(n, hyper_head_dim, hyper_window, config[0]), conv3x3(wide, z_channels, stride=2))
        self.h_mean_s = self._hyper_synthesis(config[3])
        self.h_scale_s = self._hyper_synthesis(config[3])
        self.z_model = FactorizedEntropyModel(z_channels, filters=(3, 3, 3, 3))  # CompressAI's default, as official
        self.y_model = ChannelContextEntropyModel(
            m, num_slices, m, _cc_transform(self.cc_hidden), max_support_slices,
            make_attention=lambda c: SWAtten(c, c, attention_head_dim, self.attention_window, 0.0, attention_dim))

    def _hyper_synthesis(self, depth: int) -> nn.Sequential:
        wide = 2 * self.n
        return nn.Sequential(ResidualBlockUpsample(self.z_channels, wide, 2),
                             *tcm_stage(self.n, self.hyper_head_dim, self.hyper_window, depth),
                             subpel_conv3x3(wide, self.m, 2))

    def _fixed_point_hyper(self, z_hat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return fixed_point_forward(self.h_mean_s, z_hat), fixed_point_forward(self.h_scale_s, z_hat)

    def config(self) -> dict:
        return {"n": self.n, "m": self.m, "in_channels": self.in_channels, "z_channels": self.z_channels,
                "num_slices": self.num_slices, "max_support_slices": self.max_support_slices,
                "config": list(self.block_config), "head_dim": list(self.head_dim), "window": self.window,
                "hyper_window": self.hyper_window, "hyper_head_dim": self.hyper_head_dim,
                "attention_dim": self.attention_dim, "attention_head_dim": self.attention_head_dim,
                "attention_window": self.attention_window, "cc_hidden": list(self.cc_hidden),
                "drop_path_rate": self.drop_path_rate,   # out_channels only when it differs: older configs unchanged
                **({"out_channels": self.out_channels} if self.out_channels != self.in_channels else {})}

    # windowed attention has no small receptive field to band over: transform the whole image
    def analysis(self, x: torch.Tensor) -> torch.Tensor:
        return self.g_a(x)

    def synthesis(self, y_hat: torch.Tensor) -> torch.Tensor:
        return self.g_s(y_hat)
