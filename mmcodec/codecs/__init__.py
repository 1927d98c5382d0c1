"""Learned codecs, one per file, registered by name (see :mod:`.registry`)."""
from .base import CodedLatents, LearnedCodec
from .factorized import FactorizedCodec
from .hyperprior import HyperpriorCodec
from .mean_scale import MeanScaleHyperpriorCodec
from .registry import architectures, canonical_name, create

__all__ = ["CodedLatents", "LearnedCodec", "FactorizedCodec", "HyperpriorCodec",
           "MeanScaleHyperpriorCodec", "architectures", "canonical_name", "create"]
