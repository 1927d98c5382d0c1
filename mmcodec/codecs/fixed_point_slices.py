"""Fixed-point slice coding for the channel-wise entropy models (files of model version 2).

A channel-wise entropy model (Minnen & Singh, arXiv 2007.08739, sec. 3) codes y in channel slices
whose μ and σ come from the hyper-synthesis outputs and the slices decoded before, and corrects
each decoded slice by latent residual prediction (sec. 4: ŷ_i + 0.5·tanh(lrp_i(·))). Every one of
these networks feeds the entropy parameters of the slices after it, so for a file to decode on any
platform all of them run in fixed point (:mod:`mmcodec.layers.fixed_point_modules`, after Ballé,
Johnston, Minnen, arXiv 1905.11940): the hyper-synthesis (the codec's ``_fixed_point_hyper``),
LIC-TCM's SWAtten before each slice's transforms (arXiv 2303.14978, sec. 3.3, fig. 3) where the
model has it, each slice's mean and scale transforms (``mean-scale-channel``'s corrections,
:class:`~.mean_scale_channel.SliceCorrection`, LIC-TCM's conv–GELU stacks or ms2020's conv–ReLU
stacks) and the LRP transforms, with LRP's tanh from :func:`mmcodec.layers.exact_tanh.exact_tanh`
rounded to the same grid. Every value that enters a later network (μ and σ of the hyperprior, ŷ
after LRP) is then an exact multiple of 2^-14, and the coder snaps σ with
:meth:`~mmcodec.entropy.conditional.GaussianConditional.exact_scale_indexes` (ms2020's predicted
scale index goes to its table entry in integers first).
"""
from __future__ import annotations

import torch

from ..entropy.channel_context import ChannelContextEntropyModel, ScaleFromIndex
from ..entropy.slice_coding import ResidualPrediction, SliceCoding, SliceParameters
from ..layers.exact_tanh import exact_tanh
from ..layers.fixed_point_modules import fixed_point_forward
from ..layers.integer_network import ACTIVATION_BITS

_GRID = 2.0 ** ACTIVATION_BITS


def _on_grid(values: torch.Tensor) -> torch.Tensor:
    """``values`` rounded (half up) to a multiple of 2^-ACTIVATION_BITS, in float64."""
    return torch.floor(values * _GRID + 0.5) / _GRID


class FixedPointSlices(SliceCoding):
    """The slice coder of a :class:`ChannelContextEntropyModel` in fixed point; every transform (and
    attention) module must have a fixed-point form
    (:func:`~mmcodec.layers.fixed_point_modules.fixed_point_evaluator`). σ is predicted directly, or
    as ms2020's scale index (:class:`~mmcodec.entropy.channel_context.ScaleFromIndex`), which is
    mapped to its scale-table entry without exp (:meth:`~.ScaleFromIndex.exact_table_scales`).

    Same interface as the model's ``symbols`` / ``compress`` / ``decompress``
    (:class:`~mmcodec.entropy.slice_coding.SliceCoding`); μ, σ and ŷ come out in float64."""

    exact_scales = True

    def __init__(self, model: ChannelContextEntropyModel) -> None:
        if model.scale_function is not None and not isinstance(model.scale_function, ScaleFromIndex):
            raise ValueError(f"fixed-point slices: scale function {type(model.scale_function).__name__} "
                             "is not supported")
        self.model = model
        self.num_slices, self.gaussian_conditional = model.num_slices, model.gaussian_conditional

    def slice_parameters(self, index: int, latent_means: torch.Tensor, latent_scales: torch.Tensor,
                         decoded: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(μ, σ, mean support) of slice ``index`` given the slices decoded before it."""
        model = self.model
        context = decoded[:model.support_count(index)]
        mean_support = torch.cat([latent_means, *context], dim=1)
        scale_support = torch.cat([latent_scales, *context], dim=1)
        if model.atten_mean is not None:
            mean_support = fixed_point_forward(model.atten_mean[index], mean_support)
            scale_support = fixed_point_forward(model.atten_scale[index], scale_support)
        mu = fixed_point_forward(model.cc_mean_transforms[index], mean_support)
        scale = fixed_point_forward(model.cc_scale_transforms[index], scale_support)
        if model.scale_function is not None:
            scale = model.scale_function.exact_table_scales(scale, model.gaussian_conditional.scale_table,
                                                            ACTIVATION_BITS)
        return mu, scale, mean_support

    def residual_prediction(self, index: int, mean_support: torch.Tensor, y_hat_slice: torch.Tensor) -> torch.Tensor:
        """ŷ_i + 0.5·tanh(lrp_i([mean support, ŷ_i])), the correction rounded to the grid."""
        lrp = fixed_point_forward(self.model.lrp_transforms[index], torch.cat([mean_support, y_hat_slice], dim=1))
        return y_hat_slice + _on_grid(0.5 * exact_tanh(lrp))

    def _coding_steps(self, latent_means: torch.Tensor, latent_scales: torch.Tensor
                      ) -> tuple[SliceParameters, ResidualPrediction]:
        def parameters(index: int, decoded: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            return self.slice_parameters(index, latent_means, latent_scales, decoded)
        return parameters, self.residual_prediction
