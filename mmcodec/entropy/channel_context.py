"""Channel-wise autoregressive entropy model with latent residual prediction.

Minnen & Singh, "Channel-wise autoregressive entropy models for learned image compression",
arXiv 2007.08739, sec. 3-4 and fig. 2 (official code: tensorflow/compression, models/ms2020.py):
the latent y is split along channels into S equal slices y_0 … y_{S-1}. Slice i is modelled as
a Gaussian N(μ_i, σ_i²) ∗ U(-1/2, 1/2) whose parameters come from the hyper-synthesis outputs
(one path for the means, one for the scales) concatenated with the already decoded slices
ŷ_0 … ŷ_{k-1}, k = min(i, max_support_slices) (the *first* k slices, as the official code):

    μ_i = cc_mean_i([h_mean_s(ẑ), ŷ_<k])        σ_i = cc_scale_i([h_scale_s(ẑ), ŷ_<k])

The slice is coded as round(y_i − μ_i), and latent residual prediction (LRP, sec. 4) adds
0.5·tanh(lrp_i([h_mean_s(ẑ), ŷ_<k, ŷ_i])) to the dequantised slice before it serves as context
for later slices and as input to the synthesis. LIC-TCM (Liu, Sun, Katto, arXiv 2303.14978,
sec. 3.3, fig. 3) puts a SWAtten module before every mean and scale transform
(``make_attention``); the LRP input is then the attended mean support.

Training: the rate uses the likelihood of y_i + U(-1/2, 1/2); the slice passed on is
round(y_i − μ_i) + μ_i with a straight-through gradient (arXiv 2007.08739 sec. 3). Evaluation
and coding use the rounded value; every parameter network runs on native kernels and one thread then
(``layers/native.py``), so the decoder reproduces μ and σ bit for bit.
"""
from __future__ import annotations

import contextlib
import decimal
import functools
import math
from collections.abc import Callable
from decimal import Decimal

import torch
from torch import nn

from ..layers.lower_bound import lower_bound
from ..layers.native import exact_kernels
from .conditional import GaussianConditional
from .factorized import FactorizedEntropyModel
from .quantization import quantize, straight_through_round
from .slice_coding import ResidualPrediction, SliceCoding, SliceParameters

TransformFactory = Callable[[int, int], nn.Module]   # (in_channels, out_channels) -> module
AttentionFactory = Callable[[int], nn.Module]         # channels -> module keeping the width


class ScaleFromIndex(nn.Module):
    """σ = exp(log σ_min + i·(log σ_max − log σ_min)/(levels − 1)) of a predicted scale index i.

    The official ms2020 code predicts scale *indices* into tfc's LocationScaleIndexedEntropyModel
    (64 levels in [0.11, 256]), clipped to [0, levels − 1] with bounds that let the gradient
    push back inside. Coding then snaps σ to this package's scale table as usual.
    """

    def __init__(self, levels: int = 64, scale_min: float = 0.11, scale_max: float = 256.0) -> None:
        super().__init__()
        self.levels, self.scale_min, self.scale_max = levels, scale_min, scale_max
        self.offset = math.log(scale_min)
        self.factor = (math.log(scale_max) - math.log(scale_min)) / (levels - 1)

    def forward(self, index: torch.Tensor) -> torch.Tensor:
        index = -lower_bound(-lower_bound(index, 0.0), -(self.levels - 1.0))
        return torch.exp(self.offset + self.factor * index)

    def exact_table_scales(self, index: torch.Tensor, scale_table: torch.Tensor, grid_bits: int) -> torch.Tensor:
        """The scale-table entry (float64) that σ of each predicted index falls on, the same on
        every platform, for indices that are exact multiples of 2^-``grid_bits`` (the outputs of a
        fixed-point network, :mod:`mmcodec.layers.fixed_point_modules`).

        σ(i) = exp(ln σ_min + i·(ln σ_max − ln σ_min)/(levels − 1)) is increasing in i, so instead of
        computing exp (whose last bit depends on the math library) the geometric-mean thresholds
        between neighbouring table entries (those of
        :meth:`~mmcodec.entropy.conditional.GaussianConditional.exact_scale_indexes`) are moved
        into the index domain once, in exact decimal arithmetic (:func:`index_thresholds`), and
        each index is compared with them as an integer. The entry returned snaps back to itself
        in ``exact_scale_indexes``."""
        units = torch.round(index.double().clamp(0.0, self.levels - 1.0) * 2.0 ** grid_bits).to(torch.int64)
        thresholds = index_thresholds(tuple(scale_table.double().tolist()), self.scale_min, self.scale_max,
                                      self.levels, grid_bits)
        entries = torch.searchsorted(torch.tensor(thresholds, dtype=torch.int64), units.contiguous(), right=True)
        return scale_table.double()[entries]

    def extra_repr(self) -> str:
        return f"levels={self.levels}, scale_min={self.scale_min}, scale_max={self.scale_max}"


@functools.lru_cache(maxsize=8)
def index_thresholds(table: tuple[float, ...], scale_min: float, scale_max: float, levels: int,
                     grid_bits: int) -> list[int]:
    """For each pair of neighbouring entries t_k, t_k+1 of a scale table, the smallest index (in
    units of 2^-``grid_bits``) whose σ (:class:`ScaleFromIndex`) is at least √(t_k·t_k+1).

    The square root is float64's (correctly rounded, as ``exact_scale_indexes`` computes it); the
    logarithms are Python's :mod:`decimal`, correctly rounded at 50 digits, so every platform
    derives the same integers. Raises ArithmeticError if a threshold falls so near a grid point
    that 50 digits cannot place it (it never does for the default tables)."""
    with decimal.localcontext() as context:
        context.prec = 50
        log_min, log_max = Decimal(scale_min).ln(), Decimal(scale_max).ln()
        step = (log_max - log_min) / (levels - 1)
        unit = Decimal(2) ** grid_bits
        thresholds = []
        for low, high in zip(table[:-1], table[1:]):
            position = (Decimal(math.sqrt(low * high)).ln() - log_min) / step * unit
            nearest = position.to_integral_value()
            if abs(position - nearest) < Decimal("1e-30"):
                raise ArithmeticError(f"scale threshold {math.sqrt(low * high)} falls on the index grid")
            thresholds.append(int(position.to_integral_value(rounding=decimal.ROUND_CEILING)))
    return thresholds


def hyperlatent(z_model: FactorizedEntropyModel, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(ẑ for the hyper-synthesis, likelihoods of z).

    As both official implementations: the likelihoods come from z + U(-1/2, 1/2) in training,
    while the hyper-synthesis always sees round(z − median) + median (straight-through gradient).
    """
    _, likelihoods = z_model(z)
    medians = z_model.medians.detach().view(1, -1, 1, 1)
    z_hat = straight_through_round(z, medians) if z_model.training else quantize(z, medians)
    return z_hat, likelihoods


class ChannelContextEntropyModel(SliceCoding, nn.Module):
    """Slice-wise conditional Gaussian model of y given the two hyper-synthesis outputs.

    ``channels`` latent channels in ``num_slices`` slices; ``hyper_channels`` is the width of
    each hyper-synthesis output; ``max_support_slices`` < 0 conditions on every previous slice.
    ``make_transform(in, out)`` builds the mean, scale and LRP transforms, ``make_attention(c)``
    (optional) the module applied to each mean / scale support first. ``scale_function``
    (optional, e.g. :class:`ScaleFromIndex`) maps the scale transforms' output to σ; without
    it the output is σ itself (lower-bounded by the Gaussian model), as CompressAI-style code.
    """

    def __init__(self, channels: int, num_slices: int, hyper_channels: int, make_transform: TransformFactory,
                 max_support_slices: int = -1, make_attention: AttentionFactory | None = None,
                 scale_function: nn.Module | None = None) -> None:
        super().__init__()
        if channels % num_slices:
            raise ValueError(f"{channels} latent channels do not split into {num_slices} equal slices")
        self.channels, self.num_slices, self.max_support_slices = channels, num_slices, max_support_slices
        self.slice_channels = s = channels // num_slices
        support = [hyper_channels + s * self.support_count(i) for i in range(num_slices)]
        self.cc_mean_transforms = nn.ModuleList(make_transform(c, s) for c in support)
        self.cc_scale_transforms = nn.ModuleList(make_transform(c, s) for c in support)
        self.lrp_transforms = nn.ModuleList(make_transform(c + s, s) for c in support)
        self.atten_mean = self.atten_scale = None
        if make_attention is not None:
            self.atten_mean = nn.ModuleList(make_attention(c) for c in support)
            self.atten_scale = nn.ModuleList(make_attention(c) for c in support)
        self.scale_function = scale_function
        self.gaussian_conditional = GaussianConditional()

    def support_count(self, index: int) -> int:
        """How many decoded slices condition slice ``index``."""
        return index if self.max_support_slices < 0 else min(index, self.max_support_slices)

    def _kernels(self) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext() if self.training else exact_kernels()

    # ---- per-slice networks -----------------------------------------------------------------
    def slice_parameters(self, index: int, latent_means: torch.Tensor, latent_scales: torch.Tensor,
                         decoded: list[torch.Tensor], shape: tuple[int, int]
                         ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(μ, σ, mean support) of slice ``index`` given the previously decoded slices."""
        context = decoded[:self.support_count(index)]
        mean_support = torch.cat([latent_means, *context], dim=1)
        scale_support = torch.cat([latent_scales, *context], dim=1)
        if self.atten_mean is not None:
            mean_support = self.atten_mean[index](mean_support)
            scale_support = self.atten_scale[index](scale_support)
        h, w = shape
        mu = self.cc_mean_transforms[index](mean_support)[..., :h, :w]
        scale = self.cc_scale_transforms[index](scale_support)[..., :h, :w]
        if self.scale_function is not None:
            scale = self.scale_function(scale)
        return mu, scale, mean_support

    def residual_prediction(self, index: int, mean_support: torch.Tensor, y_hat_slice: torch.Tensor) -> torch.Tensor:
        """ŷ_i + 0.5·tanh(lrp_i([mean support, ŷ_i])) (LRP, arXiv 2007.08739 sec. 4)."""
        lrp = self.lrp_transforms[index](torch.cat([mean_support, y_hat_slice], dim=1))
        return y_hat_slice + 0.5 * torch.tanh(lrp)

    # ---- training / evaluation ----------------------------------------------------------------
    def forward(self, y: torch.Tensor, latent_means: torch.Tensor, latent_scales: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """(ŷ for the synthesis, likelihoods of y)."""
        shape = tuple(y.shape[-2:])
        decoded, likelihoods = [], []
        with self._kernels():
            for index, y_slice in enumerate(y.chunk(self.num_slices, dim=1)):
                mu, scale, mean_support = self.slice_parameters(index, latent_means, latent_scales, decoded, shape)
                y_hat_slice, slice_likelihoods = self.gaussian_conditional(y_slice, scale, mu, straight_through=True)
                likelihoods.append(slice_likelihoods)
                decoded.append(self.residual_prediction(index, mean_support, y_hat_slice))
        return torch.cat(decoded, dim=1), torch.cat(likelihoods, dim=1)

    def relaxed(self, y: torch.Tensor, latent_means: torch.Tensor, latent_scales: torch.Tensor,
                rounding: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """(ŷ for the synthesis, likelihoods of ŷ) with every slice rounded by ``rounding``
        around its μ: exact rounding gives what the decoder gets; a differentiable stand-in lets
        the encoder refine y (:mod:`mmcodec.codecs.refinement`)."""
        shape = tuple(y.shape[-2:])
        decoded, likelihoods = [], []
        for index, y_slice in enumerate(y.chunk(self.num_slices, dim=1)):
            mu, scale, mean_support = self.slice_parameters(index, latent_means, latent_scales, decoded, shape)
            y_hat_slice = rounding(y_slice, mu)
            likelihoods.append(self.gaussian_conditional.likelihood(y_hat_slice, scale, mu))
            decoded.append(self.residual_prediction(index, mean_support, y_hat_slice))
        return torch.cat(decoded, dim=1), torch.cat(likelihoods, dim=1)

    # ---- coding -----------------------------------------------------------------------------------
    def _coding_steps(self, latent_means: torch.Tensor, latent_scales: torch.Tensor
                      ) -> tuple[SliceParameters, ResidualPrediction]:
        shape = tuple(latent_means.shape[-2:])

        def parameters(index: int, decoded: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            return self.slice_parameters(index, latent_means, latent_scales, decoded, shape)
        return parameters, self.residual_prediction

    def _coding_context(self) -> contextlib.AbstractContextManager:
        return exact_kernels()
