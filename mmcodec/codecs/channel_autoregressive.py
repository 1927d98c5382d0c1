"""Channel-wise autoregressive codec of Minnen & Singh (arXiv 2007.08739, "ms2020").

Architecture as the official implementation (tensorflow/compression, models/ms2020.py), which
the paper's fig. 2 describes, with x in [0, 1] instead of [0, 255]:

- g_a / g_s: four 5×5 stride-2 (transposed) convolutions with GDN / IGDN, N = 192 filters,
  M = 320 latent channels (arXiv 1802.01436 fig. 4 with a wider latent);
- h_a on y (not |y|): conv3×3 (M) → ReLU → conv5×5/2 (256) → ReLU → conv5×5/2 (N, no bias);
- two hyper-synthesis paths, h_mean_s and h_scale_s, each deconv5×5/2 (N) → ReLU →
  deconv5×5/2 (256) → ReLU → conv3×3 (M) → ReLU (the output is a feature map, not μ or σ);
- 10 slices of 32 channels; slice i is conditioned on the hyper features and the first
  min(i, 5) decoded slices through cc_mean_i / cc_scale_i, and corrected by LRP
  (:mod:`mmcodec.entropy.channel_context`); each slice transform is conv5×5 (224) → ReLU →
  conv5×5 (128) → ReLU → conv3×3 (32).

The widths that the official code writes as constants scale with M and N here (256 = (M + N)/2,
224 = 0.7·M, 128 = 0.4·M), so the defaults reproduce them exactly and small test models stay
small. As the official code, the scale transforms predict a scale *index* into 64 levels
log-spaced in [0.11, 256] (``scale_parameterization="index"``; ``"direct"`` predicts σ itself,
as CompressAI-style re-implementations). ẑ is coded with the factorized prior; the slices of ŷ
share one stream, which the decoder decodes slice by slice (:mod:`mmcodec.entropy.slice_coding`;
files before 2026-12-08 hold one stream per slice, "y0" … "y9", and still decode).

Deviations from the official code: its stride-1 layers are transposed convolutions where this
uses ordinary ones (the same function class and size); z is quantised around the learned
medians of the factorized prior (CompressAI's convention) rather than around 0
(``offset_heuristic=False``); scales are snapped to this package's 160-entry table for coding.
Files of model version 2 compute every entropy parameter in fixed point, the same bits on every
platform (:mod:`.fixed_point_slices`; the predicted scale index goes to its table entry without
exp); version-1 files decode with the float networks they were written with.
"""
from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from ..entropy.channel_context import ChannelContextEntropyModel, ScaleFromIndex, hyperlatent
from ..entropy.coder import encode_with_tables
from ..entropy.factorized import FactorizedEntropyModel
from ..layers import conv, deconv, gdn_analysis, gdn_synthesis
from ..layers.fixed_point_modules import fixed_point_forward
from ..layers.native import exact_kernels
from .base import CodedLatents, LearnedCodec, Rounding, latent_digest
from .fixed_point_slices import FixedPointSlices
from .registry import register
from .warm_start import state_with_transforms


class ChannelConditionalCodec(LearnedCodec):
    """Common coding logic of hyperprior codecs with a channel-wise autoregressive y model.

    Subclasses build ``g_a``, ``g_s``, ``h_a``, ``h_mean_s``, ``h_scale_s``, ``z_model``
    (factorized prior of z, ``z_channels`` channels) and ``y_model``
    (:class:`~mmcodec.entropy.channel_context.ChannelContextEntropyModel`), and set ``m``.
    ``hyper_downsampling`` is the stride of h_a (z is at 1/(16·that) of the image).

    Refinable (:mod:`.refinement`): the latents are y and z; :meth:`relaxed_forward` rounds ẑ
    around the medians and each slice of y around its own μ, which depends on the (relaxed)
    slices before it, so the refinement's gradient reaches every slice through its successors.
    """

    refinable = True   # initial_latents / relaxed_forward / compress_latents

    hyper_downsampling = 4
    z_channels: int
    y_model: ChannelContextEntropyModel
    z_model: FactorizedEntropyModel

    def _hyper(self, z_hat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.h_mean_s(z_hat), self.h_scale_s(z_hat)

    def _coding_hyper(self, z_hat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with exact_kernels():
            return self._hyper(z_hat)

    def _fixed_point_hyper(self, z_hat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(means, scales) of the hyperprior from fixed-point networks, for a subclass whose
        ``entropy_parameter_modes`` include "integer"."""
        raise NotImplementedError

    def _slice_coding(self, z_hat: torch.Tensor, mode: str, device: torch.device
                      ) -> tuple[torch.Tensor, torch.Tensor, "ChannelContextEntropyModel | FixedPointSlices"]:
        """The hyperprior's outputs and the slice coder as ``mode`` computes them: "float", the float
        networks on exact kernels; "integer", their fixed-point copies (:mod:`.fixed_point_slices`)."""
        if mode == "integer":
            return *self._fixed_point_hyper(z_hat), FixedPointSlices(self.y_model)
        return *self._coding_hyper(z_hat.to(device)), self.y_model

    def slice_names(self) -> list[str]:
        """The slice streams of files written before 2026-12-08 ("y0", "y1", …), which still decode;
        newer files hold every slice in one stream "y" (:mod:`mmcodec.entropy.slice_coding`)."""
        return [f"y{i}" for i in range(self.y_model.num_slices)]

    def latent_shapes(self, height: int, width: int) -> dict[str, list[int]]:
        d = 16 * self.hyper_downsampling
        return {"z": [1, self.z_channels, height // d, width // d],
                "y": [1, self.y_model.channels, height // 16, width // 16]}

    def latent_layouts(self, height: int, width: int) -> list[dict[str, list[int]]]:
        """One stream for y, or (files before 2026-12-08) one stream per slice."""
        shapes = self.latent_shapes(height, width)
        per_slice = [1, self.y_model.slice_channels, *shapes["y"][2:]]
        return [shapes, {"z": shapes["z"], **{name: per_slice for name in self.slice_names()}}]

    def _y_streams(self, coded: CodedLatents) -> bytes | list[bytes]:
        """y's one stream, or its slice streams in order (files before 2026-12-08)."""
        if "y" in coded.streams:
            return coded.streams["y"]
        return [coded.streams[name] for name in self.slice_names()]

    def forward(self, x: torch.Tensor) -> dict:
        y = self.g_a(x)
        z = self.h_a(y)
        z_hat, z_likelihoods = hyperlatent(self.z_model, z)
        if self.training:
            latent_means, latent_scales = self._hyper(z_hat)
        else:
            latent_means, latent_scales = self._coding_hyper(z_hat)
        y_hat, y_likelihoods = self.y_model(y, latent_means, latent_scales)
        return {"x_hat": self.g_s(y_hat), "likelihoods": {"y": y_likelihoods, "z": z_likelihoods}}

    def initial_latents(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        y = self.analysis(x)
        return {"y": y, "z": self.h_a(y)}

    def relaxed_forward(self, latents: dict[str, torch.Tensor], rounding: Rounding, side: object = None) -> dict:
        z_hat = rounding(latents["z"], self.z_model.medians.detach().view(1, -1, 1, 1))
        latent_means, latent_scales = self._hyper(z_hat)
        y_hat, y_likelihoods = self.y_model.relaxed(latents["y"], latent_means, latent_scales, rounding)
        return {"x_hat": self.g_s(y_hat), "likelihoods": {"y": y_likelihoods, "z": self.z_model.likelihood(z_hat)}}

    @torch.no_grad()
    def compress(self, x: torch.Tensor) -> CodedLatents:
        return self.compress_latents(self.initial_latents(x))

    @torch.no_grad()
    def compress_latents(self, latents: dict[str, torch.Tensor], side: object = None) -> CodedLatents:
        y, z = latents["y"], latents["z"]
        mode = self.encoder_entropy_parameters()
        z_data, z_hat = self.z_model.compress(z.cpu())
        latent_means, latent_scales, slices = self._slice_coding(z_hat, mode, y.device)
        y_data, y_hat, residuals = slices.compress(y, latent_means, latent_scales)
        medians = self.z_model.medians.detach().cpu().view(1, -1, 1, 1)
        return CodedLatents({"z": z_data, "y": y_data}, {"z": list(z.shape), "y": list(y.shape)},
                            latent_digest(z_hat - medians, residuals), {"y": ["z"]}, mode,
                            {"y": y_hat.to(y.device, torch.float32)})

    @torch.no_grad()
    def decompress(self, coded: CodedLatents) -> tuple[torch.Tensor, str]:
        device = next(self.parameters()).device
        z_hat = self.z_model.decompress(coded.streams["z"], tuple(coded.shapes["z"]))
        latent_means, latent_scales, slices = self._slice_coding(z_hat, coded.entropy_parameters, device)
        y_hat, residuals = slices.decompress(self._y_streams(coded), latent_means, latent_scales)
        medians = self.z_model.medians.detach().cpu().view(1, -1, 1, 1)
        return self.synthesis(y_hat.to(device, torch.float32)), latent_digest(z_hat - medians, residuals)

    @torch.no_grad()
    def in_slice_streams(self, coded: CodedLatents, latents: dict[str, torch.Tensor]) -> CodedLatents:
        """``coded`` (this codec's coding of ``latents``) in the layout of files before 2026-12-08:
        one stream per slice ("y0", "y1", …, each depending on z and its context slices), to check
        that such files still decode and to measure what one stream saves
        (``benchmarks/slice_streams.py``). The latents, and so the digest, are the same."""
        _, z_hat = self.z_model.compress(latents["z"].cpu())
        latent_means, latent_scales, slices = self._slice_coding(z_hat, coded.entropy_parameters, latents["y"].device)
        symbols, _, _ = slices.symbols(latents["y"], latent_means, latent_scales)
        tables = self.y_model.gaussian_conditional.tables()
        names = self.slice_names()
        slice_shape = [coded.shapes["y"][0], self.y_model.slice_channels, *coded.shapes["y"][2:]]
        return CodedLatents({"z": coded.streams["z"], **{name: encode_with_tables(values, table_index, tables)
                                                         for name, (values, table_index) in zip(names, symbols)}},
                            {"z": coded.shapes["z"], **{name: slice_shape for name in names}}, coded.digest,
                            {name: ["z", *names[:self.y_model.support_count(i)]] for i, name in enumerate(names)},
                            coded.entropy_parameters)


def _slice_transform(hidden: tuple[int, int]):
    """The official SliceTransform: conv5×5 → ReLU → conv5×5 → ReLU → conv3×3."""
    def make(in_channels: int, out_channels: int) -> nn.Module:
        return nn.Sequential(conv(in_channels, hidden[0], 5, 1), nn.ReLU(inplace=True),
                             conv(hidden[0], hidden[1], 5, 1), nn.ReLU(inplace=True),
                             conv(hidden[1], out_channels, 3, 1))
    return make


@register("ms2020", "minnen2020", "minnen2020-channel", "channel-autoregressive")
class ChannelAutoregressiveCodec(ChannelConditionalCodec):
    """Minnen & Singh 2020; ``n`` = filters of g_a / g_s = hyperprior depth, ``m`` = latent depth."""

    padding_multiple = 64
    entropy_parameter_modes = ("float", "integer")   # integer: .fixed_point_slices (model version 2)
    test_config: ClassVar[dict] = {"n": 16, "m": 40}   # tiny model for the generic codec tests (10 slices of 4)

    def __init__(self, n: int = 192, m: int = 320, in_channels: int = 3, num_slices: int = 10,
                 max_support_slices: int = 5, slice_hidden: tuple[int, int] | None = None,
                 scale_parameterization: str = "index") -> None:
        super().__init__(in_channels)
        self.n, self.m, self.z_channels = n, m, n
        self.num_slices, self.max_support_slices = num_slices, max_support_slices
        if scale_parameterization not in ("index", "direct"):
            raise ValueError(f"scale_parameterization must be 'index' or 'direct', not {scale_parameterization!r}")
        self.scale_parameterization = scale_parameterization
        self.slice_hidden = tuple(slice_hidden) if slice_hidden else (m * 7 // 10, m * 2 // 5)
        mid = (m + n) // 2
        self.g_a = gdn_analysis(in_channels, n, m)
        self.g_s = gdn_synthesis(m, n, in_channels)
        self.h_a = nn.Sequential(conv(m, m, 3, 1), nn.ReLU(inplace=True), conv(m, mid), nn.ReLU(inplace=True),
                                 nn.Conv2d(mid, n, 5, stride=2, padding=2, bias=False))
        self.h_mean_s = self._hyper_synthesis(n, mid, m)
        self.h_scale_s = self._hyper_synthesis(n, mid, m)
        self.z_model = FactorizedEntropyModel(n)
        self.y_model = ChannelContextEntropyModel(
            m, num_slices, m, _slice_transform(self.slice_hidden), max_support_slices,
            scale_function=ScaleFromIndex() if scale_parameterization == "index" else None)

    @staticmethod
    def _hyper_synthesis(n: int, mid: int, m: int) -> nn.Sequential:
        return nn.Sequential(deconv(n, n), nn.ReLU(inplace=True), deconv(n, mid), nn.ReLU(inplace=True),
                             conv(mid, m, 3, 1), nn.ReLU(inplace=True))

    def _fixed_point_hyper(self, z_hat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return fixed_point_forward(self.h_mean_s, z_hat), fixed_point_forward(self.h_scale_s, z_hat)

    def load_initial_weights(self, state: dict[str, torch.Tensor]) -> None:
        """Start training from ``state``: this model's own weights, or the analysis and synthesis
        transforms of a trained codec with the same g_a / g_s (``mbt2018-mean`` or
        ``bmshj2018-hyperprior`` of the same N and M: both build them as arXiv 1802.01436 fig. 4,
        as this model does). Then h_a, the hyper-syntheses, the slice transforms and the prior of z
        keep their initialisation, and a run with ``frozen: [g_a., g_s.]`` learns the channel-wise
        entropy model alone for transforms that are already trained."""
        self.load_state_dict(state_with_transforms(self.state_dict(), state, "mbt2018-mean, bmshj2018-hyperprior"))

    def config(self) -> dict:
        return {"n": self.n, "m": self.m, "in_channels": self.in_channels, "num_slices": self.num_slices,
                "max_support_slices": self.max_support_slices, "slice_hidden": list(self.slice_hidden),
                "scale_parameterization": self.scale_parameterization}
