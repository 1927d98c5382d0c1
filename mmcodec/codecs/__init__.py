"""Learned codecs, one per file, registered by name (see :mod:`.registry`)."""
from .base import CodedLatents, LearnedCodec
from .channel_autoregressive import ChannelAutoregressiveCodec
from .conditional_depth import DepthMeanScaleCodec, RgbConditionalDepthCodec
from .factorized import FactorizedCodec
from .hyperprior import HyperpriorCodec
from .mean_scale import MeanScaleHyperpriorCodec
from .mean_scale_channel import MeanScaleChannelCodec
from .registry import architecture_class, architectures, canonical_name, create
from .tcm import TCMCodec
from .tcm_attention_fusion import TCMAttentionFusionCodec
from .tcm_conv_fusion import TCMConvFusionCodec
from .tcm_early_fusion import TCMEarlyFusionCodec

__all__ = ["CodedLatents", "LearnedCodec", "FactorizedCodec", "HyperpriorCodec",
           "MeanScaleHyperpriorCodec", "MeanScaleChannelCodec", "ChannelAutoregressiveCodec", "TCMCodec",
           "DepthMeanScaleCodec", "RgbConditionalDepthCodec", "TCMEarlyFusionCodec", "TCMConvFusionCodec",
           "TCMAttentionFusionCodec",
           "architecture_class", "architectures", "canonical_name", "create"]
