"""Fixed-point slice coding for ``mean-scale-channel`` (files of model version 2).

``mean-scale-channel`` (:mod:`.mean_scale_channel`) codes y in channel slices whose μ and σ are the
hyperprior's plus corrections computed from the slices decoded before (Minnen & Singh, arXiv
2007.08739, sec. 3), and corrects each decoded slice by latent residual prediction (sec. 4:
ŷ_i + 0.5·tanh(lrp_i(·))). Every one of these networks feeds the entropy parameters of the slices
after it, so for a file to decode on any platform all of them run as fixed-point copies
(:mod:`mmcodec.layers.integer_network`, after Ballé, Johnston, Minnen, arXiv 1905.11940): the
hyper-synthesis, each slice's mean and scale corrections and the LRP transforms, with LRP's tanh
from :func:`mmcodec.layers.exact_tanh.exact_tanh` rounded to the same grid. Every value that enters
a later network (μ and σ of the hyperprior, ŷ after LRP) is then an exact multiple of 2^-14, and
the coder snaps σ with :meth:`~mmcodec.entropy.conditional.GaussianConditional.exact_scale_indexes`.
"""
from __future__ import annotations

import torch

from ..entropy.channel_context import ChannelContextEntropyModel
from ..layers.exact_tanh import exact_tanh
from ..layers.integer_network import ACTIVATION_BITS, integer_network_for

_GRID = 2.0 ** ACTIVATION_BITS


def _on_grid(values: torch.Tensor) -> torch.Tensor:
    """``values`` rounded (half up) to a multiple of 2^-ACTIVATION_BITS, in float64."""
    return torch.floor(values * _GRID + 0.5) / _GRID


class FixedPointSlices:
    """The slice coder of a :class:`ChannelContextEntropyModel` whose transforms are
    :class:`~.mean_scale_channel.SliceCorrection` (a slice of the support plus a convolutional
    correction), without attention and with σ predicted directly, in fixed point.

    Same interface as the model's ``compress`` / ``decompress``; μ, σ and ŷ come out in float64."""

    def __init__(self, model: ChannelContextEntropyModel) -> None:
        if model.atten_mean is not None or model.scale_function is not None:
            raise ValueError("fixed-point slices: attention and scale functions are not supported")
        self.model = model

    @staticmethod
    def _corrected(transform: torch.nn.Module, support: torch.Tensor) -> torch.Tensor:
        """A SliceCorrection in fixed point: its slice of the support plus its network's output."""
        correction = integer_network_for(transform.net)(support)
        if transform.start is None:
            return correction
        return support[:, transform.start:transform.start + transform.slice_channels] + correction

    def slice_parameters(self, index: int, latent_means: torch.Tensor, latent_scales: torch.Tensor,
                         decoded: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(μ, σ, mean support) of slice ``index`` given the slices decoded before it."""
        context = decoded[:self.model.support_count(index)]
        mean_support = torch.cat([latent_means, *context], dim=1)
        mu = self._corrected(self.model.cc_mean_transforms[index], mean_support)
        scale = self._corrected(self.model.cc_scale_transforms[index], torch.cat([latent_scales, *context], dim=1))
        return mu, scale, mean_support

    def residual_prediction(self, index: int, mean_support: torch.Tensor, y_hat_slice: torch.Tensor) -> torch.Tensor:
        """ŷ_i + 0.5·tanh(lrp_i([mean support, ŷ_i])), the correction rounded to the grid."""
        lrp = self._corrected(self.model.lrp_transforms[index], torch.cat([mean_support, y_hat_slice], dim=1))
        return y_hat_slice + _on_grid(0.5 * exact_tanh(lrp))

    @torch.no_grad()
    def compress(self, y: torch.Tensor, latent_means: torch.Tensor, latent_scales: torch.Tensor
                 ) -> tuple[list[bytes], torch.Tensor, torch.Tensor]:
        """One stream per slice, in order; returns (streams, ŷ after LRP, integer residuals)."""
        conditional = self.model.gaussian_conditional
        streams, decoded, residuals = [], [], []
        for index, y_slice in enumerate(y.cpu().chunk(self.model.num_slices, dim=1)):
            mu, scale, mean_support = self.slice_parameters(index, latent_means, latent_scales, decoded)
            data, y_hat_slice = conditional.compress(y_slice, scale, mu, exact_scales=True)
            streams.append(data)
            residuals.append(y_hat_slice - mu)
            decoded.append(self.residual_prediction(index, mean_support, y_hat_slice))
        return streams, torch.cat(decoded, dim=1), torch.cat(residuals, dim=1)

    @torch.no_grad()
    def decompress(self, streams: list[bytes], latent_means: torch.Tensor, latent_scales: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor]:
        """Decode the slices in order; returns (ŷ after LRP, integer residuals)."""
        if len(streams) != self.model.num_slices:
            raise ValueError(f"expected {self.model.num_slices} slice streams, got {len(streams)}")
        conditional = self.model.gaussian_conditional
        decoded, residuals = [], []
        for index, data in enumerate(streams):
            mu, scale, mean_support = self.slice_parameters(index, latent_means, latent_scales, decoded)
            y_hat_slice = conditional.decompress(data, scale, mu, exact_scales=True)
            residuals.append(y_hat_slice - mu)
            decoded.append(self.residual_prediction(index, mean_support, y_hat_slice))
        return torch.cat(decoded, dim=1), torch.cat(residuals, dim=1)
