"""Probability models of latents (torch) and their entropy coding (constriction)."""
from .conditional import GaussianConditional, LaplaceConditional
from .factorized import FactorizedEntropyModel
from .mixture import GaussianMixtureConditional

__all__ = ["FactorizedEntropyModel", "GaussianConditional", "LaplaceConditional",
           "GaussianMixtureConditional"]
