"""Conditional entropy models: each latent element has its own mean and scale.

Ballé et al. 2018 (arXiv 1802.01436, eq. 6-7) model y_i ~ N(0, σ_i²) ∗ U(-1/2, 1/2) with σ from
a hyperprior; Minnen, Ballé, Toderici 2018 (arXiv 1809.02736, eq. 5) add a mean μ_i. The
likelihood of the quantised residual v = ŷ - μ is F((v + 1/2)/σ) - F((v - 1/2)/σ), F being the
standard Gaussian CDF (or the Laplace CDF for :class:`LaplaceConditional`).

For coding, σ is snapped to the nearest entry of a fixed log-spaced scale table and the residual
``round(y - μ)`` is coded with that entry's integer table, so the encoder and the decoder index
exactly the same integers.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ..layers.lower_bound import lower_bound
from .coder import decode_with_tables, encode_with_tables
from .quantization import perturb, quantize, straight_through_round
from .table_model import TabledEntropyModel
from .tables import PmfTables

SCALE_MIN = 0.11
SCALE_MAX = 256.0
SCALE_LEVELS = 160
LIKELIHOOD_BOUND = 1e-9
TAIL_MASS = 1e-9


def default_scale_table() -> torch.Tensor:
    """SCALE_LEVELS scales spaced evenly in log between SCALE_MIN and SCALE_MAX (ratio ≈ 1.05)."""
    return torch.exp(torch.linspace(math.log(SCALE_MIN), math.log(SCALE_MAX), SCALE_LEVELS,
                                    dtype=torch.float64)).float()


class GaussianConditional(TabledEntropyModel):
    """Mean-scale Gaussian model of a latent; subclasses change the distribution (``_cdf``)."""

    def __init__(self, scale_table: torch.Tensor | None = None, scale_bound: float = SCALE_MIN) -> None:
        super().__init__()
        self.scale_bound = scale_bound
        self.register_buffer("scale_table", default_scale_table() if scale_table is None else scale_table)

    # ---- distribution -----------------------------------------------------------------
    @staticmethod
    def _cdf(x: torch.Tensor) -> torch.Tensor:
        """Standard Gaussian CDF, via erfc for accuracy in the lower tail."""
        return 0.5 * torch.erfc(-x * (2 ** -0.5))

    @staticmethod
    def _tail_bound(scale: float, tail_mass: float) -> float:
        """|v| beyond which the mass of one tail is below tail_mass / 2."""
        from statistics import NormalDist
        return -NormalDist().inv_cdf(tail_mass / 2) * scale

    def likelihood(self, values: torch.Tensor, scales: torch.Tensor,
                   means: torch.Tensor | None = None) -> torch.Tensor:
        """P(value) of a (noisy or rounded) value under N(means, scales²) ∗ U(-1/2, 1/2)."""
        v = values - means if means is not None else values
        scales = lower_bound(scales, self.scale_bound)
        v = torch.abs(v)  # symmetric: evaluate in the lower tail for numerical accuracy
        upper = self._cdf((0.5 - v) / scales)
        lower = self._cdf((-0.5 - v) / scales)
        return lower_bound(upper - lower, LIKELIHOOD_BOUND)

    def forward(self, y: torch.Tensor, scales: torch.Tensor, means: torch.Tensor | None = None,
                straight_through: bool = False, training: bool | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (ŷ for the synthesis, likelihoods for the rate).

        Training: likelihoods of y + U(-1/2, 1/2); ŷ is the same noisy value, or, with
        ``straight_through``, round(y - μ) + μ with an identity gradient. Evaluation: both use
        round(y - μ) + μ, exactly what the coder transmits.
        """
        training = self.training if training is None else training
        if training:
            noisy = perturb(y)
            y_hat = straight_through_round(y, means) if straight_through else noisy
            return y_hat, self.likelihood(noisy, scales, means)
        y_hat = quantize(y, means)
        return y_hat, self.likelihood(y_hat, scales, means)

    # ---- integer tables -----------------------------------------------------------------
    @torch.no_grad()
    def update(self) -> None:
        """Build one integer table per entry of the scale table."""
        pmfs, tails, offsets = [], [], []
        for scale in self.scale_table.double().tolist():
            half = int(math.ceil(self._tail_bound(scale, TAIL_MASS)))
            support = torch.arange(-half, half + 1, dtype=torch.float64)
            upper = self._cdf((support + 0.5) / scale)
            lower = self._cdf((support - 0.5) / scale)
            pmf = (upper - lower).numpy()
            pmfs.append(pmf)
            tails.append(max(0.0, 1.0 - float(pmf.sum())))
            offsets.append(-half)
        tables = PmfTables.from_float_pmfs(pmfs, tails, np.array(offsets, dtype=np.int32))
        self._store_tables(tables)

    def _table_count(self) -> int:
        return self.scale_table.numel()

    def scale_indexes(self, scales: torch.Tensor) -> np.ndarray:
        """Index of the nearest (in log) scale-table entry for every element."""
        log_table = torch.log(self.scale_table.double())
        step = (log_table[-1] - log_table[0]) / (log_table.numel() - 1)
        log_scales = torch.log(torch.clamp(scales.double(), min=float(self.scale_table[0])))
        index = torch.round((log_scales - log_table[0]) / step)
        return index.clamp(0, log_table.numel() - 1).to(torch.int32).numpy()

    def exact_scale_indexes(self, scales: torch.Tensor) -> np.ndarray:
        """Index of the nearest (in log) table entry for scales that every platform computes
        alike (the exact fixed-point outputs of :class:`mmcodec.layers.integer_network.IntegerNetwork`).

        Compares with the geometric means of neighbouring entries instead of rounding a
        logarithm, whose last bit differs between math libraries: float32 entries multiply
        exactly in float64 and IEEE square roots are correctly rounded, so the thresholds, and
        the comparisons, are the same everywhere.
        """
        table = self.scale_table.double()
        thresholds = torch.sqrt(table[:-1] * table[1:])
        return torch.searchsorted(thresholds, scales.double().contiguous(), right=True).to(torch.int32).numpy()

    def table_indexes(self, scales: torch.Tensor, exact_scales: bool = False) -> np.ndarray:
        """The coding table of every element: :meth:`exact_scale_indexes` or :meth:`scale_indexes`."""
        return self.exact_scale_indexes(scales) if exact_scales else self.scale_indexes(scales)

    # ---- coding -------------------------------------------------------------------------
    def symbols(self, y: torch.Tensor, scales: torch.Tensor, means: torch.Tensor | None = None,
                exact_scales: bool = False) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
        """(integer residuals round(y - μ), their table indices, ŷ exactly as the decoder will
        rebuild it) without coding them: what :meth:`compress` codes, for a caller that puts several
        latents in one stream (:func:`~mmcodec.entropy.coder.encode_groups`). ``exact_scales``: the
        scales come from an integer network (:meth:`exact_scale_indexes`)."""
        residual = torch.round(y - means if means is not None else y)
        y_hat = residual + means if means is not None else residual
        return residual.to(torch.int32).numpy(), self.table_indexes(scales, exact_scales), y_hat

    def dequantize(self, values: np.ndarray, scales: torch.Tensor, means: torch.Tensor | None = None) -> torch.Tensor:
        """ŷ from decoded integer residuals (:meth:`symbols` undone)."""
        residual = torch.from_numpy(values.reshape(scales.shape)).to(torch.float32)
        return residual + means if means is not None else residual

    def compress(self, y: torch.Tensor, scales: torch.Tensor, means: torch.Tensor | None = None,
                 exact_scales: bool = False) -> tuple[bytes, torch.Tensor]:
        """Code round(y - μ); returns the stream and ŷ exactly as the decoder will rebuild it."""
        values, table_index, y_hat = self.symbols(y, scales, means, exact_scales)
        return encode_with_tables(values, table_index, self.tables()), y_hat

    def decompress(self, data: bytes, scales: torch.Tensor, means: torch.Tensor | None = None,
                   exact_scales: bool = False) -> torch.Tensor:
        return self.dequantize(decode_with_tables(data, self.table_indexes(scales, exact_scales), self.tables()),
                               scales, means)


class LaplaceConditional(GaussianConditional):
    """Same as :class:`GaussianConditional` with a Laplace distribution (scale b = σ)."""

    @staticmethod
    def _cdf(x: torch.Tensor) -> torch.Tensor:
        half_tail = 0.5 * torch.exp(-torch.abs(x))
        return torch.where(x < 0, half_tail, 1.0 - half_tail)

    @staticmethod
    def _tail_bound(scale: float, tail_mass: float) -> float:
        return -math.log(tail_mass) * scale
