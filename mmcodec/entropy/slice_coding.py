"""The coding loop of a channel-wise entropy model: its slices in one ANS stream.

Minnen & Singh (arXiv 2007.08739, sec. 3, fig. 2) code y in channel slices; the μ and σ of slice
i depend on the slices decoded before it, and latent residual prediction (sec. 4) corrects each
decoded slice before it serves as context. The encoder knows every slice's tables, so all slices
go into one stream (:func:`~mmcodec.entropy.coder.encode_groups`), which the decoder pops slice
by slice as it learns each slice's tables (:class:`~mmcodec.entropy.coder.GroupDecoder`). That
costs one coder flush and one container entry for the whole of y instead of one per slice (as
LIC-TCM's reference code, arXiv 2303.14978, also does). Files written before 2026-12-08 hold one
stream per slice; :func:`decode_slices` reads those too.

The networks are the caller's: ``parameters(index, decoded)`` gives (μ, σ, mean support) of slice
``index`` from the slices decoded before it, ``predict(index, support, ŷ_i)`` the slice after
LRP. The float model (:class:`~mmcodec.entropy.channel_context.ChannelContextEntropyModel`) and
its fixed-point form (:class:`~mmcodec.codecs.fixed_point_slices.FixedPointSlices`) share this loop
through :class:`SliceCoding`.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

import numpy as np
import torch

from ..errors import ContainerError
from .coder import GroupDecoder, encode_groups
from .conditional import GaussianConditional

SliceParameters = Callable[[int, list[torch.Tensor]], tuple[torch.Tensor, torch.Tensor, torch.Tensor]]
ResidualPrediction = Callable[[int, torch.Tensor, torch.Tensor], torch.Tensor]
SliceSymbols = list[tuple[np.ndarray, np.ndarray]]   # per slice: (integer residuals, table indices)


def slice_symbols(y_slices: Sequence[torch.Tensor], parameters: SliceParameters, predict: ResidualPrediction,
                  conditional: GaussianConditional, exact_scales: bool
                  ) -> tuple[SliceSymbols, torch.Tensor, torch.Tensor]:
    """Every slice's integer residuals round(y_i − μ_i) and table indices, in order, without coding
    them; returns (symbols, ŷ after LRP, integer residuals as float)."""
    symbols, decoded, residuals = [], [], []
    for index, y_slice in enumerate(y_slices):
        mu, scale, support = parameters(index, decoded)
        values, table_index, y_hat_slice = conditional.symbols(y_slice.cpu(), scale.cpu(), mu.cpu(), exact_scales)
        symbols.append((values, table_index))
        residuals.append(torch.from_numpy(values).to(torch.float32))
        decoded.append(predict(index, support, y_hat_slice.to(mu.device)))
    return symbols, torch.cat(decoded, dim=1), torch.cat(residuals, dim=1)


def encode_slices(y_slices: Sequence[torch.Tensor], parameters: SliceParameters, predict: ResidualPrediction,
                  conditional: GaussianConditional, exact_scales: bool) -> tuple[bytes, torch.Tensor, torch.Tensor]:
    """All slices in one stream; returns (stream, ŷ after LRP, integer residuals)."""
    symbols, y_hat, residuals = slice_symbols(y_slices, parameters, predict, conditional, exact_scales)
    return encode_groups(symbols, conditional.tables()), y_hat, residuals


def decode_slices(data: bytes | Sequence[bytes], num_slices: int, parameters: SliceParameters,
                  predict: ResidualPrediction, conditional: GaussianConditional, exact_scales: bool
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode the slices in order from one stream (``bytes``) or from one stream per slice (a
    sequence, files before 2026-12-08); returns (ŷ after LRP, integer residuals). Raises
    ContainerError for a wrong stream count or a stream holding more than its slices."""
    tables = conditional.tables()
    one_stream = isinstance(data, (bytes, bytearray, memoryview))
    if not one_stream and len(data) != num_slices:
        raise ContainerError(f"expected {num_slices} slice streams, got {len(data)}")
    readers = [GroupDecoder(bytes(stream)) for stream in ([data] if one_stream else data)]
    decoded, residuals = [], []
    for index in range(num_slices):
        mu, scale, support = parameters(index, decoded)
        reader = readers[0 if one_stream else index]
        values = reader.decode(conditional.table_indexes(scale.cpu(), exact_scales), tables)
        y_hat_slice = conditional.dequantize(values, scale.cpu(), mu.cpu())
        residuals.append(torch.from_numpy(values.reshape(scale.shape)).to(torch.float32))
        decoded.append(predict(index, support, y_hat_slice.to(mu.device)))
    for reader in readers:
        reader.finish()
    return torch.cat(decoded, dim=1), torch.cat(residuals, dim=1)


class SliceCoding:
    """``symbols`` / ``compress`` / ``decompress`` of a channel-wise model's slices, from the
    subclass's per-slice networks (:meth:`_coding_steps`), its slice count and its
    ``gaussian_conditional``; ``exact_scales`` says whether σ comes from fixed-point networks, and
    :meth:`_coding_context` is entered around the networks (the float model's exact kernels)."""

    num_slices: int
    gaussian_conditional: GaussianConditional
    exact_scales: bool = False

    def _coding_steps(self, latent_means: torch.Tensor, latent_scales: torch.Tensor
                      ) -> tuple[SliceParameters, ResidualPrediction]:
        raise NotImplementedError

    def _coding_context(self) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()

    @torch.no_grad()
    def symbols(self, y: torch.Tensor, latent_means: torch.Tensor, latent_scales: torch.Tensor
                ) -> tuple[SliceSymbols, torch.Tensor, torch.Tensor]:
        """Every slice's (integer residuals, table indices) as :meth:`compress` codes them, and
        (ŷ after LRP, integer residuals)."""
        with self._coding_context():
            return slice_symbols(y.chunk(self.num_slices, dim=1), *self._coding_steps(latent_means, latent_scales),
                                 self.gaussian_conditional, self.exact_scales)

    @torch.no_grad()
    def compress(self, y: torch.Tensor, latent_means: torch.Tensor, latent_scales: torch.Tensor
                 ) -> tuple[bytes, torch.Tensor, torch.Tensor]:
        """All slices in one stream; returns (stream, ŷ after LRP, integer residuals)."""
        with self._coding_context():
            return encode_slices(y.chunk(self.num_slices, dim=1), *self._coding_steps(latent_means, latent_scales),
                                 self.gaussian_conditional, self.exact_scales)

    @torch.no_grad()
    def decompress(self, data: bytes | Sequence[bytes], latent_means: torch.Tensor, latent_scales: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor]:
        """Decode the slices in order from one stream, or one stream per slice (older files);
        returns (ŷ after LRP, integer residuals)."""
        with self._coding_context():
            return decode_slices(data, self.num_slices, *self._coding_steps(latent_means, latent_scales),
                                 self.gaussian_conditional, self.exact_scales)
