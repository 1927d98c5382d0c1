"""Mean-scale hyperprior codec (Minnen, Ballé, Toderici, arXiv 1809.02736, "mbt2018-mean":
the hyperprior of arXiv 1802.01436 predicting a mean and a scale per element, eq. 5, without
the autoregressive context). The decoder input is round(y - μ) + μ.

Coding computes μ and σ with a fixed-point copy of h_s (:mod:`mmcodec.layers.integer_network`,
after arXiv 1905.11940), so that a file decodes on any platform (files of model version 2,
``mmcodec.api.MODEL_VERSIONS``); files written before it (version 1) are decoded with the float h_s
they were written with."""
from __future__ import annotations

import torch
from torch import nn

from ..entropy.conditional import GaussianConditional, LaplaceConditional
from ..entropy.factorized import FactorizedEntropyModel
from ..layers import conv, deconv, gdn_analysis, gdn_synthesis
from ..layers.integer_network import integer_network_for
from ..layers.native import exact_kernels
from .base import CodedLatents, LearnedCodec, Rounding, latent_digest
from .latent_widening import HyperpriorLayout, widened_latent_state
from .registry import register
from .transform_widening import transform_width, widened_transform_state

_DISTRIBUTIONS = {"gaussian": GaussianConditional, "laplace": LaplaceConditional}
LATENT_LAYOUT = HyperpriorLayout(analysis_out="g_a.6", synthesis_in="g_s.0")
"""Where this codec's layers see the latent's width M (for :mod:`.latent_widening`)."""


def hyper_analysis(n: int, m: int) -> nn.Sequential:
    """h_a of arXiv 1809.02736 (fig. 4, without the context model): y (m channels) → z (n), stride 4."""
    return nn.Sequential(conv(m, n, 3, 1), nn.LeakyReLU(inplace=True), conv(n, n),
                         nn.LeakyReLU(inplace=True), conv(n, n))


def hyper_synthesis(n: int, m: int) -> nn.Sequential:
    """h_s of arXiv 1809.02736: ẑ → [σ, μ] of y (2·m channels, scales first)."""
    return nn.Sequential(deconv(n, m), nn.LeakyReLU(inplace=True), deconv(m, m * 3 // 2),
                         nn.LeakyReLU(inplace=True), conv(m * 3 // 2, m * 2, 3, 1))


def fixed_point_hyper(h_s: nn.Sequential, z_hat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """σ (float64) and μ (float32) of y from the fixed-point copy of :func:`hyper_synthesis`'s h_s
    (:mod:`mmcodec.layers.integer_network`): exact multiples of 2^-14, the same on every platform."""
    scales, means = integer_network_for(h_s)(z_hat).chunk(2, dim=1)
    return scales, means.float()


@register("mean-scale", "mbt2018-mean", "mean-scale-hyperprior")
class MeanScaleHyperpriorCodec(LearnedCodec):
    padding_multiple = 64
    refinable = True   # initial_latents / relaxed_forward / compress_latents
    entropy_parameter_modes = ("float", "integer")

    def __init__(self, n: int = 128, m: int = 192, in_channels: int = 3, distribution: str = "gaussian",
                 straight_through: bool = True, transform_channels: int | None = None) -> None:
        """``n``: channels of the hyperprior (and of z); ``m``: channels of y; ``transform_channels``:
        hidden channels of g_a and g_s (``n`` if not given, as in arXiv 1809.02736)."""
        super().__init__(in_channels)
        self.n, self.m, self.distribution = n, m, distribution
        self.transform_channels = transform_channels or n
        self.straight_through = straight_through
        self.g_a = gdn_analysis(in_channels, self.transform_channels, m)
        self.g_s = gdn_synthesis(m, self.transform_channels, in_channels)
        self.h_a = hyper_analysis(n, m)
        self.h_s = hyper_synthesis(n, m)
        self.z_model = FactorizedEntropyModel(n)
        self.y_model = _DISTRIBUTIONS[distribution]()

    def config(self) -> dict:
        config = {"n": self.n, "m": self.m, "in_channels": self.in_channels, "distribution": self.distribution}
        if self.transform_channels != self.n:
            config["transform_channels"] = self.transform_channels
        return config

    def load_initial_weights(self, state: dict[str, torch.Tensor]) -> None:
        """Start training from ``state``: this model's own weights, or those of a model that differs
        only in a narrower latent (smaller ``m``, same ``n``) or in narrower transforms (smaller
        ``transform_channels``), widened so that this model first computes that one exactly: more
        latent channels (:mod:`.latent_widening`) or more hidden channels in g_a and g_s
        (:mod:`.transform_widening`) for the high rates (M = 192 → 320 and N = 128 → 192 above
        λ = 0.0067 in arXiv 1809.02736 sec. 4)."""
        own = self.state_dict()
        if set(state) == set(own) and any(value.numel() and state[key].shape != value.shape
                                          for key, value in own.items()):
            if transform_width(state) != self.transform_channels:
                state = widened_transform_state(self, state)
            else:
                state = widened_latent_state(own, state, LATENT_LAYOUT)
        self.load_state_dict(state)

    def _hyper(self, z_hat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scales, means = self.h_s(z_hat).chunk(2, dim=1)
        return scales, means

    def _coding_hyper(self, z_hat: torch.Tensor, mode: str) -> tuple[torch.Tensor, torch.Tensor]:
        """σ and μ as the decoder computes them: "integer" → exact multiples of 2^-14 from the
        fixed-point h_s (σ in float64, μ in float32, both exact); "float" → the float h_s."""
        if mode == "integer":
            return fixed_point_hyper(self.h_s, z_hat)
        with exact_kernels():
            return self._hyper(z_hat)

    def latent_shapes(self, height: int, width: int) -> dict[str, list[int]]:
        return {"z": [1, self.n, height // 64, width // 64], "y": [1, self.m, height // 16, width // 16]}

    def forward(self, x: torch.Tensor) -> dict:
        y = self.g_a(x)
        z = self.h_a(y)
        z_hat, z_likelihoods = self.z_model(z)
        scales, means = self._hyper(z_hat)
        y_hat, y_likelihoods = self.y_model(y, scales, means, straight_through=self.straight_through)
        return {"x_hat": self.g_s(y_hat), "likelihoods": {"y": y_likelihoods, "z": z_likelihoods}}

    def initial_latents(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        y = self.analysis(x)
        return {"y": y, "z": self.h_a(y)}

    def relaxed_forward(self, latents: dict[str, torch.Tensor], rounding: Rounding, side: object = None) -> dict:
        z_hat = rounding(latents["z"], self.z_model.medians.detach().view(1, -1, 1, 1))
        scales, means = self._hyper(z_hat)
        y_hat = rounding(latents["y"], means)
        return {"x_hat": self.g_s(y_hat), "likelihoods": {"y": self.y_model.likelihood(y_hat, scales, means),
                                                          "z": self.z_model.likelihood(z_hat)}}

    @torch.no_grad()
    def compress(self, x: torch.Tensor) -> CodedLatents:
        return self.compress_latents(self.initial_latents(x))

    @torch.no_grad()
    def compress_latents(self, latents: dict[str, torch.Tensor], side: object = None) -> CodedLatents:
        y, z = latents["y"], latents["z"]
        mode = self.encoder_entropy_parameters()
        z_data, z_hat = self.z_model.compress(z)
        scales, means = self._coding_hyper(z_hat, mode)
        y_data, y_hat = self.y_model.compress(y, scales, means, exact_scales=mode == "integer")
        medians = self.z_model.medians.view(1, -1, 1, 1)
        return CodedLatents({"z": z_data, "y": y_data}, {"z": list(z.shape), "y": list(y.shape)},
                            latent_digest(z_hat - medians, y_hat - means), {"y": ["z"]}, mode, {"y": y_hat})

    @torch.no_grad()
    def decompress(self, coded: CodedLatents) -> tuple[torch.Tensor, str]:
        mode = coded.entropy_parameters
        z_hat = self.z_model.decompress(coded.streams["z"], tuple(coded.shapes["z"]))
        scales, means = self._coding_hyper(z_hat, mode)
        y_hat = self.y_model.decompress(coded.streams["y"], scales, means, exact_scales=mode == "integer")
        medians = self.z_model.medians.view(1, -1, 1, 1)
        return self.synthesis(y_hat), latent_digest(z_hat - medians, y_hat - means)
