"""Factorized prior: a learned, non-parametric density per channel.

Ballé, Minnen, Singh, Hwang, Johnston, "Variational image compression with a scale
hyperprior", arXiv 1802.01436, appendix 6.1: the cumulative c(x) of each channel is a
composition of K element-wise maps f_k(x) = g_k(H^(k) x + b^(k)), g_k(x) = x + a^(k) ⊙ tanh(x),
with H^(k) = softplus(.) >= 0 and a^(k) = tanh(.) > -1 so that c is monotone. The likelihood of a
quantised value is c(x + 1/2) - c(x - 1/2) (eq. 12 of 1802.01436's appendix).
Three quantiles per channel (tail, median, 1 - tail) are learned by an auxiliary loss; the
integer tables built by :meth:`update` cover the range between the tails, and everything
beyond is escaped losslessly by the coder.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..layers.lower_bound import lower_bound
from .coder import decode_with_tables, encode_with_tables
from .quantization import perturb, quantize
from .table_model import TabledEntropyModel
from .tables import PmfTables

LIKELIHOOD_BOUND = 1e-9
_MAX_TABLE = 4096


class FactorizedEntropyModel(TabledEntropyModel):
    """Per-channel learned prior for an NCHW latent (``z`` in hyperprior codecs)."""

    def __init__(self, channels: int, filters: tuple[int, ...] = (3, 3, 3), init_scale: float = 10.0,
                 tail_mass: float = 1e-9) -> None:
        super().__init__()
        self.channels = channels
        self.tail_mass = tail_mass
        widths = (1, *filters, 1)
        scale = init_scale ** (1.0 / (len(widths) - 1))
        self.matrices = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.factors = nn.ParameterList()
        for k in range(len(widths) - 1):
            init = math.log(math.expm1(1.0 / scale / widths[k + 1]))
            self.matrices.append(nn.Parameter(torch.full((channels, widths[k + 1], widths[k]), init)))
            self.biases.append(nn.Parameter(torch.rand(channels, widths[k + 1], 1) - 0.5))
            if k < len(widths) - 2:
                self.factors.append(nn.Parameter(torch.zeros(channels, widths[k + 1], 1)))
        self.quantiles = nn.Parameter(torch.tensor([-init_scale, 0.0, init_scale]).repeat(channels, 1, 1))
        target = math.log(2.0 / tail_mass - 1.0)
        self.register_buffer("quantile_targets", torch.tensor([-target, 0.0, target]), persistent=False)

    # ---- density -------------------------------------------------------------------------
    def _logits_cumulative(self, x: torch.Tensor, detach_density: bool = False) -> torch.Tensor:
        """c(x) before the sigmoid, for x of shape (C, 1, n)."""
        def param(p: torch.Tensor) -> torch.Tensor:
            return p.detach() if detach_density else p

        logits = x
        for k, (matrix, bias) in enumerate(zip(self.matrices, self.biases)):
            logits = torch.matmul(F.softplus(param(matrix)), logits) + param(bias)
            if k < len(self.factors):
                logits = logits + torch.tanh(param(self.factors[k])) * torch.tanh(logits)
        return logits

    def _likelihood(self, values: torch.Tensor) -> torch.Tensor:
        """P(value) for a (C, 1, n) tensor of (noisy or rounded) values."""
        lower = self._logits_cumulative(values - 0.5)
        upper = self._logits_cumulative(values + 0.5)
        sign = -torch.sign(lower + upper).detach()  # evaluate in the flatter tail for accuracy
        return torch.abs(torch.sigmoid(sign * upper) - torch.sigmoid(sign * lower))

    @property
    def medians(self) -> torch.Tensor:
        return self.quantiles[:, 0, 1]

    def aux_loss(self) -> torch.Tensor:
        """Pulls the three learned quantiles to the tail / median / tail targets."""
        logits = self._logits_cumulative(self.quantiles, detach_density=True)
        return torch.abs(logits - self.quantile_targets).sum()

    def forward(self, x: torch.Tensor, training: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (x̂, likelihoods). Training: x + U(-1/2, 1/2); else rounded around the medians."""
        training = self.training if training is None else training
        medians = self.medians.detach().view(1, -1, 1, 1)
        x_hat = perturb(x) if training else quantize(x, medians)
        return x_hat, self.likelihood(x_hat)

    def likelihood(self, values: torch.Tensor) -> torch.Tensor:
        """P(value) of every element of an NCHW tensor of (noisy or rounded) values, bounded below."""
        n, c, h, w = values.shape
        flat = values.permute(1, 0, 2, 3).reshape(c, 1, -1)
        likelihood = self._likelihood(flat).reshape(c, n, h, w).permute(1, 0, 2, 3)
        return lower_bound(likelihood, LIKELIHOOD_BOUND)

    # ---- integer tables -----------------------------------------------------------------
    @torch.no_grad()
    def update(self) -> None:
        """Build the integer coding tables from the current density (call after training)."""
        medians = self.quantiles[:, 0, 1]
        low = torch.floor(self.quantiles[:, 0, 0] - medians).clamp(max=0)
        high = torch.ceil(self.quantiles[:, 0, 2] - medians).clamp(min=0)
        half = torch.clamp(torch.maximum(-low, high), max=_MAX_TABLE // 2).to(torch.int64)
        low = -half
        widest = int(half.max())
        steps = torch.arange(-widest, widest + 1, dtype=torch.float32)
        all_pmfs = self._likelihood((steps.view(1, 1, -1) + medians.view(-1, 1, 1))).double()[:, 0]
        pmfs, tails = [], []
        for c in range(self.channels):
            pmf = all_pmfs[c, widest - int(half[c]): widest + int(half[c]) + 1]
            pmfs.append(pmf.numpy())
            tails.append(max(0.0, 1.0 - float(pmf.sum())))
        tables = PmfTables.from_float_pmfs(pmfs, tails, low.numpy().astype(np.int32))
        self._store_tables(tables)

    def _table_count(self) -> int:
        return self.channels

    # ---- coding -------------------------------------------------------------------------
    def _channel_index(self, shape: torch.Size) -> np.ndarray:
        n, c, h, w = shape
        return np.broadcast_to(np.arange(c, dtype=np.int32).reshape(1, c, 1, 1), (n, c, h, w))

    def compress(self, x: torch.Tensor) -> tuple[bytes, torch.Tensor]:
        """Code ``x`` (N, C, H, W); returns the stream and the dequantised x̂ the decoder gets."""
        medians = self.medians.detach().view(1, -1, 1, 1)
        symbols = torch.round(x - medians).to(torch.int32)
        data = encode_with_tables(symbols.numpy(), self._channel_index(x.shape), self.tables())
        return data, symbols.to(x.dtype) + medians

    def decompress(self, data: bytes, shape: tuple[int, int, int, int]) -> torch.Tensor:
        symbols = decode_with_tables(data, self._channel_index(torch.Size(shape)), self.tables())
        medians = self.medians.detach().view(1, -1, 1, 1)
        return torch.from_numpy(symbols.reshape(shape)).to(torch.float32) + medians
