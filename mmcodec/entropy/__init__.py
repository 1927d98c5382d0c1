"""Probability models of latents (torch) and their entropy coding (constriction)."""
from .channel_context import ChannelContextEntropyModel, ScaleFromIndex
from .conditional import GaussianConditional, LaplaceConditional
from .factorized import FactorizedEntropyModel
from .mixture import GaussianMixtureConditional

__all__ = ["ChannelContextEntropyModel", "ScaleFromIndex", "FactorizedEntropyModel", "GaussianConditional",
           "LaplaceConditional", "GaussianMixtureConditional"]
