"""Depth codecs: a mean-scale hyperprior for 16-bit depth, alone or conditioned on decoded RGB.

``depth-mean-scale`` is the mean-scale hyperprior (Minnen et al., arXiv 1809.02736, eq. 5 without
context) on one channel. ``rgb-conditional-depth`` is the same network with the colour image
of the frame as *side information that the decoder already has*: the RGB stream is decoded
first, and its reconstruction x̂_rgb (the uint8 pixels the decoder outputs) conditions three
places, in the spirit of decoder-side fusion for RGB-D coding (Chen et al., ICIP 2022; Gnutti et
al. 2024) and of conditional coding, where R(d | x̂_rgb) ≤ R(d):

1. g_a sees [d, x̂_rgb] stacked (the encoder may use anything the decoder will have);
2. the entropy parameters of y come from [h_s(ẑ), f_c(x̂_rgb)] (a conditional prior
   p(ŷ | ẑ, x̂_rgb)), with f_c a strided context encoder to the latent resolution;
3. g_s fuses the context features at every scale (1/16, 1/8, 1/4, 1/2) before each upsampling.

With ``prior_residual`` the conditional prior is h_s(ẑ) + e([h_s(ẑ), f_c(x̂_rgb)]) instead of
e([h_s(ẑ), f_c(x̂_rgb)]). Then :meth:`DepthMeanScaleCodec.load_initial_weights` can start a
conditional model from a trained depth-only one *exactly*: the context's weights in g_a and g_s
start at zero, and so does e's last layer, so the conditioned model begins as the depth-only model
and training can only add what the colour tells it (the zero-initialised branch of ControlNet,
Zhang et al., arXiv 2302.05543).

Coding computes the entropy parameters with fixed-point copies of h_s, of f_c down to its 1/16
features (GDN included) and of e (:mod:`mmcodec.layers.integer_network`, after arXiv 1905.11940),
so that a file decodes on any platform (model version 2, ``mmcodec.api.MODEL_VERSIONS``); files of
version 1 are decoded with the float networks they were written with. The other context features
feed only g_s and stay float.

Coding evaluates the full-resolution networks in row bands (:mod:`.tiling`), so a large frame needs
the memory of one band: g_a; the fixed-point f_c (bands of integers, so the same bits as the whole
frame); and at the decoder f_c with g_s together, each band of ŷ with its rows of x̂_rgb.

Training input is one tensor ``[d, x̂_rgb]`` (1 + 3 channels) with the depth first; the output
``x_hat`` is the depth alone (``out_channels`` = 1). Depth arrives as millimetres / 65535 (the
16-bit range) and is multiplied by ``depth_gain`` inside the network so its values span about
[0, 1] for indoor scenes (65535 / 8 ≈ 8.2 m).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import torch
from torch import nn

from ..entropy.conditional import GaussianConditional
from ..entropy.factorized import FactorizedEntropyModel
from ..errors import ModelError
from ..layers import GDN, conv, deconv
from ..layers.integer_network import integer_network_for
from ..layers.native import exact_kernels, native_kernels
from .base import CodedLatents, LearnedCodec, Rounding, latent_digest
from .latent_widening import widened_latent_state
from .mean_scale import fixed_point_hyper, hyper_analysis, hyper_synthesis
from .registry import register
from .warm_start import grown_state

CONTEXT_SYNTHESIS_HALO_ROWS = 8   # latent rows around a band of ŷ: ≥ what f_c and g_s together reach


class ContextEncoder(nn.Module):
    """f_c: x̂_rgb → features at 1/2, 1/4, 1/8 (``n`` channels) and 1/16 (``m`` channels)."""

    def __init__(self, in_channels: int, n: int, m: int) -> None:
        super().__init__()
        self.stages = nn.ModuleList([nn.Sequential(conv(in_channels, n), GDN(n)), nn.Sequential(conv(n, n), GDN(n)),
                                     nn.Sequential(conv(n, n), GDN(n)), conv(n, m)])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return features  # [1/2, 1/4, 1/8, 1/16]


@dataclass
class ColourContext:
    """What a conditioned depth codec's decoder has of the colour: x̂_rgb (padded, on [0, 1]) and,
    computed when first asked for, f_c(x̂_rgb) (float features at 1/2 … 1/16, for g_s and the float
    entropy parameters; an encoder of fixed-point files that neither refines nor decodes needs none)."""

    image: torch.Tensor
    encoder: ContextEncoder

    @cached_property
    def features(self) -> list[torch.Tensor]:
        with torch.no_grad(), exact_kernels():
            return self.encoder(self.image)


class FusedSynthesis(nn.Module):
    """g_s with the context features concatenated before each upsampling (none if ``c`` = 0)."""

    def __init__(self, m: int, n: int, out_channels: int, context_n: int, context_m: int) -> None:
        super().__init__()
        self.ups = nn.ModuleList([deconv(m + context_m, n), deconv(n + context_n, n), deconv(n + context_n, n),
                                  deconv(n + context_n, out_channels)])
        self.gdns = nn.ModuleList([GDN(n, inverse=True) for _ in range(3)])

    def forward(self, y_hat: torch.Tensor, context: list[torch.Tensor] | None) -> torch.Tensor:
        x = y_hat
        for i, up in enumerate(self.ups):
            if context is not None:
                x = torch.cat([x, context[3 - i]], dim=1)
            x = up(x)
            if i < 3:
                x = self.gdns[i](x)
        return x


@register("depth-mean-scale", "depth-baseline")
class DepthMeanScaleCodec(LearnedCodec):
    """Mean-scale hyperprior on depth; with ``context_channels`` > 0, conditioned on x̂_rgb."""

    padding_multiple = 64
    modality = "depth"

    def __init__(self, n: int = 64, m: int = 96, context_channels: int = 0, depth_gain: float = 8.0,
                 in_channels: int = 1, prior_residual: bool = False) -> None:
        super().__init__(in_channels + context_channels)
        self.n, self.m, self.depth_channels = n, m, in_channels
        self.context_channels, self.depth_gain = context_channels, depth_gain
        self.prior_residual = prior_residual and context_channels > 0
        self.out_channels = in_channels
        conditioned = context_channels > 0
        self.g_a = nn.Sequential(conv(in_channels + context_channels, n), GDN(n), conv(n, n), GDN(n), conv(n, n),
                                 GDN(n), conv(n, m))
        self.context = ContextEncoder(context_channels, n, m) if conditioned else None
        self.g_s = FusedSynthesis(m, n, in_channels, n if conditioned else 0, m if conditioned else 0)
        self.h_a = hyper_analysis(n, m)
        self.h_s = hyper_synthesis(n, m)
        self.entropy_parameters = nn.Sequential(
            nn.Conv2d(m * 2 + (m if conditioned else 0), m * 2, 1), nn.LeakyReLU(inplace=True),
            nn.Conv2d(m * 2, m * 2, 1)) if conditioned else None
        self.z_model = FactorizedEntropyModel(n)
        self.y_model = GaussianConditional()

    def config(self) -> dict:
        config = {"n": self.n, "m": self.m, "context_channels": self.context_channels,
                  "depth_gain": self.depth_gain, "in_channels": self.depth_channels}
        if self.prior_residual:
            config["prior_residual"] = True
        return config

    def load_initial_weights(self, state: dict[str, torch.Tensor]) -> None:
        """Start training from ``state``: this model's own weights, or (for a conditional model with
        ``prior_residual``) a depth-only model's, extended so the result computes that model exactly.

        Extension: a weight whose input channels grew by the context (g_a's first layer, each g_s
        layer) keeps the depth-only weights in its leading channels and zeros in the context's; the
        context encoder keeps its random initialisation and e's last layer starts at zero.

        A depth-only model can also start from a depth-only model with a narrower latent (smaller
        ``m``, same ``n``), widened so that it first computes that model exactly
        (:mod:`.latent_widening`)."""
        own = self.state_dict()
        if set(state) == set(own):
            misfit = next((key for key, value in own.items()
                           if value.numel() and state[key].shape != value.shape), None)
            if misfit is not None and self.context is None:
                state = widened_latent_state(own, state)
            elif misfit is not None:
                raise ModelError(f"initial weights for {misfit} have shape {list(state[misfit].shape)}, "
                                 f"not {list(own[misfit].shape)}")
            self.load_state_dict(state)
            return
        if not self.prior_residual or set(state) - set(own):
            raise ModelError("initial weights must be this model's, or a depth-only model's for a conditional "
                             "model with prior_residual")
        extended = grown_state(own, state, is_new=lambda key: key.startswith(("context.", "entropy_parameters.")))
        last = "entropy_parameters.2."     # e's last layer: zero, so the context adds nothing at first
        extended.update({key: torch.zeros_like(value) for key, value in own.items() if key.startswith(last)})
        self.load_state_dict(extended)

    def context_weight_masks(self) -> dict[str, torch.Tensor]:
        """Where each parameter reads the colour context: for every parameter that a depth-only
        model of the same size lacks or has smaller, True on the elements it lacks (the context
        encoder, e, the context's input channels of g_a and of each g_s layer); {} if unconditioned."""
        if self.context is None:
            return {}
        depth_only = DepthMeanScaleCodec(self.n, self.m, 0, self.depth_gain, self.depth_channels)
        shapes = {name: p.shape for name, p in depth_only.named_parameters()}
        masks = {}
        for name, p in self.named_parameters():
            if shapes.get(name) == p.shape:
                continue
            mask = torch.ones(p.shape, dtype=torch.bool)
            if name in shapes:
                mask[tuple(slice(0, size) for size in shapes[name])] = False
            masks[name] = mask
        return masks

    def latent_shapes(self, height: int, width: int) -> dict[str, list[int]]:
        return {"z": [1, self.n, height // 64, width // 64], "y": [1, self.m, height // 16, width // 16]}

    # -- shared pieces ----------------------------------------------------------------------------
    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        depth = x[:, : self.depth_channels] * self.depth_gain
        return depth, (x[:, self.depth_channels:] if self.context is not None else None)

    entropy_parameter_modes = ("float", "integer")

    def _gaussian_parameters(self, z_hat: torch.Tensor, features: list[torch.Tensor] | None, mode: str = "float",
                             image: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """σ and μ of y: "float" from the float networks and the float ``features``; "integer" from
        the fixed-point copies (exact multiples of 2^-14; σ in float64, μ in float32), the context
        computed again from ``image`` (x̂_rgb) by the fixed-point f_c."""
        if mode == "integer":
            if self.entropy_parameters is None:
                return fixed_point_hyper(self.h_s, z_hat)
            hyper = integer_network_for(self.h_s)(z_hat)
            context = self._fixed_point_context(image)   # f_c's last output: the 1/16 features
            params = integer_network_for(self.entropy_parameters)(torch.cat([hyper, context], dim=1))
            scales, means = (hyper + params if self.prior_residual else params).chunk(2, dim=1)
            return scales, means.float()
        params = self.h_s(z_hat)
        if self.entropy_parameters is not None:
            conditioned = self.entropy_parameters(torch.cat([params, features[3]], dim=1))
            params = params + conditioned if self.prior_residual else conditioned
        scales, means = params.chunk(2, dim=1)
        return scales, means

    def _coding_parameters(self, z_hat: torch.Tensor, features: list[torch.Tensor] | None, mode: str,
                           image: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """σ and μ as the coder computes them: the float networks on native kernels and one thread
        (:func:`exact_kernels`: the same bits on one machine); the fixed-point copies on all threads
        (their sums are exact in any order)."""
        if mode == "integer":
            return self._gaussian_parameters(z_hat, None, mode, image)
        with exact_kernels():
            return self._gaussian_parameters(z_hat, features)

    def _analysis_input(self, depth: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
        return depth if context is None else torch.cat([depth, context], dim=1)

    def _fixed_point_context(self, image: torch.Tensor) -> torch.Tensor:
        """The fixed-point f_c's 1/16 features of x̂_rgb (padded), in row bands: output row o reads
        rows 16·o − 30 … 16·o + 30 of x̂_rgb (four stride-2 5×5 convolutions), inside the 64-row
        halo, and every value is an exact integer sum, so the bands give the whole frame's bits."""
        return self.in_analysis_bands(integer_network_for(self.context), image)

    def _banded_synthesis(self, y_hat: torch.Tensor, image: torch.Tensor | None) -> torch.Tensor:
        """g_s(ŷ, f_c(x̂_rgb)) in row bands of ŷ; x̂_rgb (padded) travels with ŷ as 16×16 blocks
        folded into channels (pixel unshuffle), so each band computes f_c on its own rows only."""
        if image is None:
            return self.in_synthesis_bands(lambda band: self.g_s(band, None), y_hat)
        m = y_hat.shape[1]

        def band_synthesis(band: torch.Tensor) -> torch.Tensor:
            colour = nn.functional.pixel_shuffle(band[:, m:], 16)
            return self.g_s(band[:, :m], self.context(colour))

        packed = torch.cat([y_hat, nn.functional.pixel_unshuffle(image, 16)], dim=1)
        return self.in_synthesis_bands(band_synthesis, packed, CONTEXT_SYNTHESIS_HALO_ROWS)

    # -- training ---------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> dict:
        depth, context = self._split(x)
        features = self.context(context) if context is not None else None
        y = self.g_a(self._analysis_input(depth, context))
        z = self.h_a(y)
        z_hat, z_likelihoods = self.z_model(z)
        scales, means = self._gaussian_parameters(z_hat, features)
        y_hat, y_likelihoods = self.y_model(y, scales, means, straight_through=True)
        x_hat = self.g_s(y_hat, features) / self.depth_gain
        return {"x_hat": x_hat, "likelihoods": {"y": y_likelihoods, "z": z_likelihoods}}

    # -- coding (compress = compress_latents(initial_latents(x), side_information(x))) ---------------
    refinable = True

    def initial_latents(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        depth, context = self._split(x)
        y = self.analysis(self._analysis_input(depth, context))   # in row bands (one for frames to 4 MP)
        return {"y": y, "z": self.h_a(y)}

    @torch.no_grad()
    def side_information(self, x: torch.Tensor) -> ColourContext | None:
        """x̂_rgb and its context features f_c(x̂_rgb) (None unconditioned), computed as the decoder does."""
        _, context = self._split(x)
        if context is None:
            return None
        return ColourContext(context, self.context)

    def relaxed_forward(self, latents: dict[str, torch.Tensor], rounding: Rounding,
                        side: ColourContext | None = None) -> dict:
        self._check_side(side)
        features = side.features if side is not None else None
        z_hat = rounding(latents["z"], self.z_model.medians.detach().view(1, -1, 1, 1))
        scales, means = self._gaussian_parameters(z_hat, features)
        y_hat = rounding(latents["y"], means)
        likelihoods = {"y": self.y_model.likelihood(y_hat, scales, means), "z": self.z_model.likelihood(z_hat)}
        return {"x_hat": self.g_s(y_hat, features) / self.depth_gain, "likelihoods": likelihoods}

    @torch.no_grad()
    def compress(self, x: torch.Tensor) -> CodedLatents:
        """``x`` = [depth, x̂_rgb] (padded); the context must be the decoder's x̂_rgb exactly."""
        return self.compress_latents(self.initial_latents(x), self.side_information(x))

    @torch.no_grad()
    def compress_latents(self, latents: dict[str, torch.Tensor], side: ColourContext | None = None
                         ) -> CodedLatents:
        self._check_side(side)
        y, z = latents["y"], latents["z"]
        mode = self.encoder_entropy_parameters()
        z_data, z_hat = self.z_model.compress(z)
        image = side.image if side is not None else None
        features = side.features if side is not None and mode == "float" else None   # fixed point: from the image
        scales, means = self._coding_parameters(z_hat, features, mode, image)
        y_data, y_hat = self.y_model.compress(y, scales, means, exact_scales=mode == "integer")
        medians = self.z_model.medians.view(1, -1, 1, 1)
        return CodedLatents({"z": z_data, "y": y_data}, {"z": list(z.shape), "y": list(y.shape)},
                            latent_digest(z_hat - medians, y_hat - means), {"y": ["z"]}, mode, {"y": y_hat})

    def _check_side(self, side: ColourContext | None) -> None:
        if (side is None) != (self.context is None):
            raise ValueError("a conditional depth codec needs the context features, an unconditional one none")

    @torch.no_grad()
    def decompress(self, coded: CodedLatents, context: torch.Tensor | None = None) -> tuple[torch.Tensor, str]:
        """Depth / 65535 (padded size) and the latent digest; ``context`` = x̂_rgb when conditioned."""
        if (context is None) != (self.context is None):
            raise ValueError("a conditional depth codec needs the decoded RGB, an unconditional one none")
        mode = coded.entropy_parameters
        features = self._version_one_features(mode, context)
        z_hat = self.z_model.decompress(coded.streams["z"], tuple(coded.shapes["z"]))
        scales, means = self._coding_parameters(z_hat, features, mode, context)
        y_hat = self.y_model.decompress(coded.streams["y"], scales, means, exact_scales=mode == "integer")
        medians = self.z_model.medians.view(1, -1, 1, 1)
        return self._reconstruction(y_hat, context, features), latent_digest(z_hat - medians, y_hat - means)

    @torch.no_grad()
    def reconstruct(self, coded: CodedLatents, context: torch.Tensor | None = None) -> torch.Tensor:
        """What :meth:`decompress` returns for ``coded`` (bit for bit), from the ŷ that
        :meth:`compress_latents` kept (``coded.decoded``) instead of decoding the streams: the
        encoder's view of its own output (it chooses the median post-filter and the coding mode by
        it) without the entropy decoding and a second fixed-point f_c and h_s."""
        if "y" not in coded.decoded:
            return self.decompress(coded, context)[0]
        return self._reconstruction(coded.decoded["y"], context,
                                    self._version_one_features(coded.entropy_parameters, context))

    def _version_one_features(self, mode: str, context: torch.Tensor | None) -> list[torch.Tensor] | None:
        """The float f_c(x̂_rgb) of files of model version 1 (``mode`` "float"), where they set σ and μ
        too and g_s reads them whole; None otherwise (fixed point: f_c runs per band of the synthesis)."""
        if mode != "float" or context is None:
            return None
        with exact_kernels():
            return self.context(context)

    def _reconstruction(self, y_hat: torch.Tensor, context: torch.Tensor | None,
                        features: list[torch.Tensor] | None) -> torch.Tensor:
        """Depth / 65535 from ŷ: g_s with the float ``features`` (files of version 1), else in row
        bands with f_c computed per band from ``context`` (x̂_rgb)."""
        with native_kernels():
            if features is not None:
                return self.g_s(y_hat, features) / self.depth_gain
            return self._banded_synthesis(y_hat, context) / self.depth_gain


@register("rgb-conditional-depth", "rgbd-conditional-depth")
class RgbConditionalDepthCodec(DepthMeanScaleCodec):
    """:class:`DepthMeanScaleCodec` conditioned on the decoded 3-channel colour image."""

    def __init__(self, n: int = 64, m: int = 96, context_channels: int = 3, depth_gain: float = 8.0,
                 in_channels: int = 1, prior_residual: bool = False) -> None:
        super().__init__(n, m, context_channels, depth_gain, in_channels, prior_residual)
