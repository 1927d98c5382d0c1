"""Mean-scale hyperprior with a channel-wise autoregressive correction of its μ and σ.

The hyperprior of ``mbt2018-mean`` (Minnen, Ballé, Toderici, arXiv 1809.02736, eq. 5 without the
spatial context) predicts μ and σ for all of y from ẑ. Here y is split into slices along its
channels as in Minnen & Singh (arXiv 2007.08739, sec. 3, fig. 2) and slice i is modelled with

    μ_i = μ_hyper,i + Δμ_i([μ_hyper, ŷ_<i])        σ_i = σ_hyper,i + Δσ_i([σ_hyper, ŷ_<i])

followed by latent residual prediction (LRP, sec. 4): ŷ_i + 0.5·tanh(lrp_i([μ_hyper, ŷ_<i, ŷ_i])).
The slice transforms are ms2020's (conv5×5 → ReLU → conv5×5 → ReLU → conv3×3), and their last
layers start at zero, so a model started from a trained mean-scale codec
(:meth:`MeanScaleChannelCodec.load_initial_weights`: g_a, g_s, h_a, h_s and the prior of z are
copied) computes that codec's μ, σ and ŷ exactly at step 0, like the zero-initialised branch of
ControlNet (Zhang et al., arXiv 2302.05543); training then only adds what the decoded slices tell
about the next one. ms2020 learns its hyper-synthesis and slice transforms from scratch instead,
which on CPU budgets is far from the mean-scale model it would replace.

Coding is ms2020's (:class:`~.channel_autoregressive.ChannelConditionalCodec`): ẑ with the
factorized prior, then the slices in one stream, decoded slice by slice; with every network that
sets the entropy parameters in fixed point (:mod:`.fixed_point_slices`, files of model version 2),
so that a file decodes on any platform. Files of version 1 decode with the float networks.
"""
from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from ..entropy.channel_context import ChannelContextEntropyModel
from ..entropy.factorized import FactorizedEntropyModel
from ..errors import ModelError
from ..layers import conv, gdn_analysis, gdn_synthesis
from ..layers.fixed_point_modules import ONE, fixed_point_evaluator
from ..layers.integer_network import integer_network_for
from .channel_autoregressive import ChannelConditionalCodec
from .mean_scale import hyper_analysis, hyper_synthesis
from .registry import register
from .warm_start import grown_state


class SliceCorrection(nn.Module):
    """A slice's parameter from its hyperprior value plus a learned correction.

    Input: the support [hyper output (one channel per latent channel), decoded slices ...]
    (``in_channels``); output: the hyper output's channels of slice ``index`` plus conv5×5 → ReLU →
    conv5×5 → ReLU → conv3×3 of the whole support, whose last layer starts at zero. With
    ``residual_of_hyper`` False (the LRP transforms) the output is the correction alone."""

    def __init__(self, index: int, slice_channels: int, in_channels: int, hidden: tuple[int, int],
                 residual_of_hyper: bool = True) -> None:
        super().__init__()
        self.start = index * slice_channels if residual_of_hyper else None
        self.slice_channels = slice_channels
        self.net = nn.Sequential(conv(in_channels, hidden[0], 5, 1), nn.ReLU(inplace=True),
                                 conv(hidden[0], hidden[1], 5, 1), nn.ReLU(inplace=True),
                                 conv(hidden[1], slice_channels, 3, 1))
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, support: torch.Tensor) -> torch.Tensor:
        correction = self.net(support)
        if self.start is None:
            return correction
        return support[:, self.start:self.start + self.slice_channels] + correction


@fixed_point_evaluator(SliceCorrection)
def _fixed_point_slice_correction(module: SliceCorrection, values: torch.Tensor) -> torch.Tensor:
    """A SliceCorrection in fixed point (integers in units of 2^-14): its slice of the support plus
    its network's output, that network a chain of convolutions
    (:class:`~mmcodec.layers.integer_network.IntegerNetwork`)."""
    correction = integer_network_for(module.net)(values / ONE) * ONE
    if module.start is None:
        return correction
    return values[:, module.start:module.start + module.slice_channels] + correction


@register("mean-scale-channel", "mbt2018-mean-channel")
class MeanScaleChannelCodec(ChannelConditionalCodec):
    """``mbt2018-mean``'s transforms and hyperprior; y coded in ``num_slices`` channel slices whose
    μ and σ the decoded slices correct (``n`` filters, ``m`` latent channels, as mbt2018-mean)."""

    padding_multiple = 64
    test_config: ClassVar[dict] = {"n": 16, "m": 48, "num_slices": 4, "slice_hidden": [8, 8]}
    entropy_parameter_modes = ("float", "integer")   # integer: .fixed_point_slices (model version 2)

    def __init__(self, n: int = 128, m: int = 192, in_channels: int = 3, num_slices: int = 4,
                 slice_hidden: tuple[int, int] | list[int] = (64, 32)) -> None:
        super().__init__(in_channels)
        if m % num_slices or (m // num_slices) % 4:
            raise ValueError(f"{m} latent channels do not split into {num_slices} equal slices of a multiple of 4 "
                             "channels (convolutions to other widths, e.g. 10, decode differently on 1 and 2 threads)")
        self.n, self.m, self.z_channels, self.num_slices = n, m, n, num_slices
        self.slice_hidden = (int(slice_hidden[0]), int(slice_hidden[1]))
        self.g_a = gdn_analysis(in_channels, n, m)
        self.g_s = gdn_synthesis(m, n, in_channels)
        self.h_a = hyper_analysis(n, m)
        self.h_s = hyper_synthesis(n, m)
        self.z_model = FactorizedEntropyModel(n)
        s = m // num_slices
        self.y_model = ChannelContextEntropyModel(m, num_slices, m, lambda i, o: nn.Identity())
        support = [m + s * i for i in range(num_slices)]
        self.y_model.cc_mean_transforms = nn.ModuleList(
            SliceCorrection(i, s, c, self.slice_hidden) for i, c in enumerate(support))
        self.y_model.cc_scale_transforms = nn.ModuleList(
            SliceCorrection(i, s, c, self.slice_hidden) for i, c in enumerate(support))
        self.y_model.lrp_transforms = nn.ModuleList(
            SliceCorrection(i, s, c + s, self.slice_hidden, residual_of_hyper=False) for i, c in enumerate(support))

    def _hyper(self, z_hat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scales, means = self.h_s(z_hat).chunk(2, dim=1)     # mbt2018-mean's order
        return means, scales

    def _fixed_point_hyper(self, z_hat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scales, means = integer_network_for(self.h_s)(z_hat).chunk(2, dim=1)
        return means, scales

    def config(self) -> dict:
        return {"n": self.n, "m": self.m, "in_channels": self.in_channels, "num_slices": self.num_slices,
                "slice_hidden": list(self.slice_hidden)}

    def load_initial_weights(self, state: dict[str, torch.Tensor]) -> None:
        """Start training from ``state``: this model's own weights, or a trained ``mbt2018-mean`` of the
        same N and M (Gaussian), whose g_a, g_s, h_a, h_s, prior of z and scale table are copied; the
        slice corrections keep their zero last layers, so the model starts as that codec exactly."""
        own = self.state_dict()
        if set(state) == set(own):
            self.load_state_dict(state)
            return
        renamed = {("y_model.gaussian_conditional." + k.removeprefix("y_model.") if k.startswith("y_model.") else k): v
                   for k, v in state.items()}
        try:
            started = grown_state(own, renamed, is_new=lambda key: key.startswith(("y_model.cc_", "y_model.lrp_")),
                                  may_grow=lambda key: False)
        except ModelError as exc:
            raise ModelError(f"initial weights must be this model's, or an mbt2018-mean's (Gaussian) of the same N "
                             f"and M: {exc}") from None
        self.load_state_dict(started)
