"""Structure Prior Fusion (SPF) and the Enhanced Spatial Attention (ESA) block inside it.

ESA is the block of RFANet (Liu, Zhang, Tang, Wu, "Residual Feature Aggregation Network for
Image Super-Resolution", CVPR 2020, sec. 3.2, fig. 4; the authors' draft code ``ESA.py``):

    c = conv1×1(x)                                  (C → f = C/4, lightweight)
    v = conv3×3/2(c)  (no padding)                  (larger receptive field)
    v = maxpool 7×7/3(v)
    v = conv3×3(ReLU(conv3×3(ReLU(conv3×3(v)))))    (the convolution group)
    m = σ(conv1×1(upsample_bilinear(v, size of x) + conv1×1(c)))   (f → C)
    ESA(x) = x ⊙ m

SPF is the fusion module of Chen et al., "End-to-end depth map compression framework via
RGB-to-depth structure priors learning", ICIP 2022, as the thesis
../shared/papers/multimodal-lic-tcm-rgbd-thesis.txt describes it (sec. 2.4.2, fig. 17; the
figure itself is not in the text): a convolution extracts features from each modality, the two
are concatenated along the channels, ESA emphasises the regions of interest of the
concatenation, and "the 3×3 convolutional layer after the summation is not part of the ESA
block". Our reading of that wiring, for main-path (here depth) features d and context (here
RGB) features r of ``channels`` channels each:

    SPF(d, r) = conv3×3( ESA( [conv3×3(d), conv3×3(r)] ) + d )

- each feature-extraction convolution halves the width (C → C/2), so the concatenation, and
  ESA's output, have C channels and can be summed with d;
- the summation is a residual connection around the fusion to the main-path input d (the only
  tensor of the figure's width that the text leaves to sum with), and the final 3×3
  convolution (C → C) gives the fused main-path features.

Neither the widths nor the operand of the summation are in the text. This reading is supported
by the thesis' parameter count of the Convolutional MM-LIC-TCM (table 15: 47.6 M; see
:mod:`mmcodec.codecs.tcm_conv_fusion`, which with it has 47.62 M); feature convolutions
keeping C channels (and a C-wide final convolution after ESA on 2C) would give 48.2 M.

Deviation: RFANet's 7×7 max-pooling needs a map of at least 7 × 7 after the strided
convolution (inputs of at least 15 × 15). A smaller map is extended by replication to 7 in that
dimension first, which makes the pooling window the whole (clipped) map; maps of 15 or more
are pooled exactly as RFANet pools them. Inputs must be at least 3 × 3.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .residual import conv1x1, conv3x3

POOL_KERNEL, POOL_STRIDE = 7, 3


class EnhancedSpatialAttention(nn.Module):
    """RFANet's ESA on ``channels`` channels, reduced to ``channels // reduction`` inside."""

    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        f = channels // reduction
        if f < 1:
            raise ValueError(f"ESA needs at least {reduction} channels, got {channels}")
        self.conv1 = conv1x1(channels, f)                                    # reduce
        self.conv_f = conv1x1(f, f)                                          # skip path
        self.conv2 = nn.Conv2d(f, f, kernel_size=3, stride=2, padding=0)     # strided, receptive field
        self.conv_max = conv3x3(f, f)                                        # the convolution group
        self.conv3 = conv3x3(f, f)
        self.conv3_ = conv3x3(f, f)
        self.conv4 = conv1x1(f, channels)                                    # restore the width
        self.relu = nn.ReLU(inplace=True)

    @staticmethod
    def _max_pool(x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        ph, pw = max(0, POOL_KERNEL - h), max(0, POOL_KERNEL - w)
        if ph or pw:   # smaller than the window: pool over the whole map in that dimension
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        return F.max_pool2d(x, kernel_size=POOL_KERNEL, stride=POOL_STRIDE)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        reduced = self.conv1(x)
        v = self._max_pool(self.conv2(reduced))
        v = self.relu(self.conv_max(v))
        v = self.relu(self.conv3(v))
        v = self.conv3_(v)
        v = F.interpolate(v, size=x.shape[-2:], mode="bilinear", align_corners=False)
        mask = torch.sigmoid(self.conv4(v + self.conv_f(reduced)))
        return x * mask


class StructurePriorFusion(nn.Module):
    """SPF: fuses context features (``context_channels``, default ``channels``) into main-path
    features of ``channels`` channels; the output has ``channels`` channels (see the module
    docstring for the wiring)."""

    def __init__(self, channels: int, context_channels: int | None = None) -> None:
        super().__init__()
        if channels % 2:
            raise ValueError(f"SPF needs an even number of channels, got {channels}")
        half = channels // 2
        self.extract_main = conv3x3(channels, half)
        self.extract_context = conv3x3(channels if context_channels is None else context_channels, half)
        self.esa = EnhancedSpatialAttention(channels)
        self.fuse = conv3x3(channels, channels)
        self.start_as_identity()

    def start_as_identity(self) -> None:
        """Our initialisation (neither paper gives one): the two feature extractions start at zero
        and the final convolution as the identity, so SPF(d, r) = d until training moves them, a
        zero-initialised residual branch as ControlNet's zero convolutions (Zhang et al., arXiv
        2302.05543). A Convolutional MM-LIC-TCM started from a depth baseline then codes as that
        baseline at step 0. Gradients still reach the extractions: ESA(x) = x ⊙ m with m > 0."""
        with torch.no_grad():
            for extraction in (self.extract_main, self.extract_context):
                extraction.weight.zero_()
                extraction.bias.zero_()
            nn.init.dirac_(self.fuse.weight)
            self.fuse.bias.zero_()

    def forward(self, main: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        stacked = torch.cat([self.extract_main(main), self.extract_context(context)], dim=1)
        return self.fuse(self.esa(stacked) + main)
