"""Factorized-prior codec (Ballé, Laparra, Simoncelli, arXiv 1611.01704; as bmshj2018-factorized
in arXiv 1802.01436 sec. 4): y = g_a(x), ŷ = Q(y) coded with a per-channel learned prior,
x̂ = g_s(ŷ). The loss is R + λ·D with R = -log2 p(ŷ) (eq. 2 of 1802.01436)."""
from __future__ import annotations

import torch

from ..entropy.factorized import FactorizedEntropyModel
from ..layers import gdn_analysis, gdn_synthesis
from .base import CodedLatents, LearnedCodec, Rounding, latent_digest
from .registry import register
from .warm_start import state_with_transforms


@register("factorized", "bmshj2018-factorized", "bls2017")
class FactorizedCodec(LearnedCodec):
    padding_multiple = 16
    refinable = True   # initial_latents / relaxed_forward / compress_latents

    def __init__(self, n: int = 128, m: int = 192, in_channels: int = 3) -> None:
        super().__init__(in_channels)
        self.n, self.m = n, m
        self.g_a = gdn_analysis(in_channels, n, m)
        self.g_s = gdn_synthesis(m, n, in_channels)
        self.y_model = FactorizedEntropyModel(m)

    def config(self) -> dict:
        return {"n": self.n, "m": self.m, "in_channels": self.in_channels}

    def load_initial_weights(self, state: dict[str, torch.Tensor]) -> None:
        """Start training from ``state``: this model's own weights, or the g_a and g_s of a trained
        codec that builds them as this one does (``mbt2018-mean``, ``bmshj2018-hyperprior`` or
        ``mean-scale-channel`` of the same N and M, arXiv 1802.01436 fig. 4). The prior of y keeps
        its initialisation; fit it to the transforms' latents before training
        (``fit_prior_crops``, :mod:`mmcodec.train.prior_fit`), or the first steps' rate gradients,
        measured by a prior that knows nothing of y, reshape the trained transforms."""
        self.load_state_dict(state_with_transforms(self.state_dict(), state,
                                                   "mbt2018-mean, bmshj2018-hyperprior, mean-scale-channel"))

    def latent_shapes(self, height: int, width: int) -> dict[str, list[int]]:
        return {"y": [1, self.m, height // 16, width // 16]}

    def forward(self, x: torch.Tensor) -> dict:
        y = self.g_a(x)
        y_hat, y_likelihoods = self.y_model(y)
        return {"x_hat": self.g_s(y_hat), "likelihoods": {"y": y_likelihoods}}

    def initial_latents(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"y": self.analysis(x)}

    def relaxed_forward(self, latents: dict[str, torch.Tensor], rounding: Rounding, side: object = None) -> dict:
        y_hat = rounding(latents["y"], self.y_model.medians.detach().view(1, -1, 1, 1))
        return {"x_hat": self.g_s(y_hat), "likelihoods": {"y": self.y_model.likelihood(y_hat)}}

    @torch.no_grad()
    def compress(self, x: torch.Tensor) -> CodedLatents:
        return self.compress_latents(self.initial_latents(x))

    @torch.no_grad()
    def compress_latents(self, latents: dict[str, torch.Tensor], side: object = None) -> CodedLatents:
        y = latents["y"]
        data, y_hat = self.y_model.compress(y)
        medians = self.y_model.medians.view(1, -1, 1, 1)
        return CodedLatents({"y": data}, {"y": list(y.shape)}, latent_digest(y_hat - medians), decoded={"y": y_hat})

    @torch.no_grad()
    def decompress(self, coded: CodedLatents) -> tuple[torch.Tensor, str]:
        y_hat = self.y_model.decompress(coded.streams["y"], tuple(coded.shapes["y"]))
        medians = self.y_model.medians.view(1, -1, 1, 1)
        return self.synthesis(y_hat), latent_digest(y_hat - medians)
