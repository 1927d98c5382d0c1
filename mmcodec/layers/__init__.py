"""Neural building blocks shared by the codecs."""
from .convolutions import conv, deconv, gdn_analysis, gdn_synthesis
from .gdn import GDN
from .lower_bound import LowerBound, lower_bound
from .residual import ResidualBlock, ResidualBlockUpsample, ResidualBlockWithStride, conv1x1, conv3x3, subpel_conv3x3
from .swatten import SWAtten
from .swin import SwinBlockPair, SwinTransformerBlock
from .tcm_block import TCMBlock
from .window_attention import WindowAttention

__all__ = ["GDN", "LowerBound", "lower_bound", "conv", "deconv", "gdn_analysis", "gdn_synthesis",
           "ResidualBlock", "ResidualBlockUpsample", "ResidualBlockWithStride", "conv1x1", "conv3x3",
           "subpel_conv3x3", "SWAtten", "SwinBlockPair", "SwinTransformerBlock", "TCMBlock", "WindowAttention"]
