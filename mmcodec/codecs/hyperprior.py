"""Scale-hyperprior codec (Ballé, Minnen, Singh, Hwang, Johnston, arXiv 1802.01436 sec. 3,
fig. 4, "bmshj2018-hyperprior"): z = h_a(|y|) is coded with a factorized prior, σ = h_s(ẑ)
gives each y_i a zero-mean Gaussian N(0, σ_i²) (eq. 6-7). Rate = -log2 p(ŷ|ẑ) - log2 p(ẑ).

Coding computes σ with a fixed-point copy of h_s (:mod:`mmcodec.layers.fixed_point_modules`, after
arXiv 1905.11940), the same bits on every platform (files of model version 2); version-1 files
decode with the float h_s they were written with."""
from __future__ import annotations

import torch
from torch import nn

from ..entropy.conditional import GaussianConditional
from ..entropy.factorized import FactorizedEntropyModel
from ..layers import conv, deconv, gdn_analysis, gdn_synthesis
from ..layers.fixed_point_modules import fixed_point_forward
from ..layers.native import exact_kernels
from .base import CodedLatents, LearnedCodec, Rounding, latent_digest
from .registry import register


@register("hyperprior", "bmshj2018-hyperprior")
class HyperpriorCodec(LearnedCodec):
    padding_multiple = 64
    refinable = True   # initial_latents / relaxed_forward / compress_latents
    entropy_parameter_modes = ("float", "integer")

    def __init__(self, n: int = 128, m: int = 192, in_channels: int = 3) -> None:
        super().__init__(in_channels)
        self.n, self.m = n, m
        self.g_a = gdn_analysis(in_channels, n, m)
        self.g_s = gdn_synthesis(m, n, in_channels)
        self.h_a = nn.Sequential(conv(m, n, 3, 1), nn.ReLU(inplace=True), conv(n, n), nn.ReLU(inplace=True),
                                 conv(n, n))
        self.h_s = nn.Sequential(deconv(n, n), nn.ReLU(inplace=True), deconv(n, n), nn.ReLU(inplace=True),
                                 conv(n, m, 3, 1), nn.ReLU(inplace=True))
        self.z_model = FactorizedEntropyModel(n)
        self.y_model = GaussianConditional()

    def config(self) -> dict:
        return {"n": self.n, "m": self.m, "in_channels": self.in_channels}

    def _coding_scales(self, z_hat: torch.Tensor, mode: str) -> torch.Tensor:
        """σ as the decoder computes it: "integer" → exact multiples of 2^-14 (float64) from the
        fixed-point h_s; "float" → the float h_s on exact kernels."""
        if mode == "integer":
            return fixed_point_forward(self.h_s, z_hat)
        with exact_kernels():
            return self.h_s(z_hat)

    def latent_shapes(self, height: int, width: int) -> dict[str, list[int]]:
        return {"z": [1, self.n, height // 64, width // 64], "y": [1, self.m, height // 16, width // 16]}

    def forward(self, x: torch.Tensor) -> dict:
        y = self.g_a(x)
        z = self.h_a(torch.abs(y))
        z_hat, z_likelihoods = self.z_model(z)
        scales = self.h_s(z_hat)
        y_hat, y_likelihoods = self.y_model(y, scales)
        return {"x_hat": self.g_s(y_hat), "likelihoods": {"y": y_likelihoods, "z": z_likelihoods}}

    def initial_latents(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        y = self.analysis(x)
        return {"y": y, "z": self.h_a(torch.abs(y))}

    def relaxed_forward(self, latents: dict[str, torch.Tensor], rounding: Rounding, side: object = None) -> dict:
        z_hat = rounding(latents["z"], self.z_model.medians.detach().view(1, -1, 1, 1))
        scales = self.h_s(z_hat)
        y_hat = rounding(latents["y"], None)
        return {"x_hat": self.g_s(y_hat), "likelihoods": {"y": self.y_model.likelihood(y_hat, scales),
                                                          "z": self.z_model.likelihood(z_hat)}}

    @torch.no_grad()
    def compress(self, x: torch.Tensor) -> CodedLatents:
        return self.compress_latents(self.initial_latents(x))

    @torch.no_grad()
    def compress_latents(self, latents: dict[str, torch.Tensor], side: object = None) -> CodedLatents:
        y, z = latents["y"], latents["z"]
        mode = self.encoder_entropy_parameters()
        z_data, z_hat = self.z_model.compress(z)
        y_data, y_hat = self.y_model.compress(y, self._coding_scales(z_hat, mode), exact_scales=mode == "integer")
        medians = self.z_model.medians.view(1, -1, 1, 1)
        return CodedLatents({"z": z_data, "y": y_data}, {"z": list(z.shape), "y": list(y.shape)},
                            latent_digest(z_hat - medians, y_hat), {"y": ["z"]}, mode, {"y": y_hat})

    @torch.no_grad()
    def decompress(self, coded: CodedLatents) -> tuple[torch.Tensor, str]:
        mode = coded.entropy_parameters
        z_hat = self.z_model.decompress(coded.streams["z"], tuple(coded.shapes["z"]))
        y_hat = self.y_model.decompress(coded.streams["y"], self._coding_scales(z_hat, mode),
                                        exact_scales=mode == "integer")
        medians = self.z_model.medians.view(1, -1, 1, 1)
        return self.synthesis(y_hat), latent_digest(z_hat - medians, y_hat)
