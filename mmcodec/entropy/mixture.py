"""K-component Gaussian mixture conditional model.

Cheng, Sun, Takeuchi, Katto, "Learned image compression with discretized Gaussian mixture
likelihoods and attention modules", arXiv 2001.01568, eq. (8): P(ŷ) = Σ_k w_k [Φ((ŷ+½-μ_k)/σ_k)
- Φ((ŷ-½-μ_k)/σ_k)]. A mixture has no small family of shared tables, so coding builds one
probability vector per element over a window of 2T+1 values around the element's rounded
mixture mean (plus an escape bin), in chunks, and codes each chunk in one vectorised call of
constriction's categorical model.
"""
from __future__ import annotations

import struct

import constriction
import numpy as np
import torch
from torch import nn

from ..errors import ContainerError
from ..layers.lower_bound import lower_bound
from .coder import _HALF, _unzigzag, _zigzag
from .quantization import perturb, quantize

LIKELIHOOD_BOUND = 1e-9
SCALE_BOUND = 0.11
MAX_HALF_WINDOW = 255
_CHUNK = 8192
_ESCAPE_PROBABILITY = 1e-7


class GaussianMixtureConditional(nn.Module):
    """Parameters come as tensors of shape (N, K, C, H, W): weight logits, means, scales."""

    def __init__(self, components: int = 3) -> None:
        super().__init__()
        self.components = components

    @staticmethod
    def _cdf(x: torch.Tensor) -> torch.Tensor:
        return 0.5 * torch.erfc(-x * (2 ** -0.5))

    def likelihood(self, values: torch.Tensor, weight_logits: torch.Tensor, means: torch.Tensor,
                   scales: torch.Tensor) -> torch.Tensor:
        weights = torch.softmax(weight_logits, dim=1)
        scales = lower_bound(scales, SCALE_BOUND)
        v = values.unsqueeze(1) - means
        mass = self._cdf((v + 0.5) / scales) - self._cdf((v - 0.5) / scales)
        return lower_bound((weights * mass).sum(dim=1), LIKELIHOOD_BOUND)

    def forward(self, y: torch.Tensor, weight_logits: torch.Tensor, means: torch.Tensor,
                scales: torch.Tensor, training: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        training = self.training if training is None else training
        y_hat = perturb(y) if training else quantize(y)
        return y_hat, self.likelihood(y_hat, weight_logits, means, scales)

    # ---- coding -------------------------------------------------------------------------
    @staticmethod
    def _flatten(weight_logits, means, scales):
        k = means.shape[1]
        def flat(t: torch.Tensor) -> np.ndarray:
            return t.detach().double().movedim(1, -1).reshape(-1, k).numpy()
        weights = torch.softmax(weight_logits.double(), dim=1)
        return flat(weights), flat(means), flat(torch.clamp(scales, min=SCALE_BOUND))

    @staticmethod
    def _centres(weights: np.ndarray, means: np.ndarray) -> np.ndarray:
        return np.round((weights * means).sum(axis=1))

    @classmethod
    def _probabilities(cls, weights, means, scales, centres, half: int) -> np.ndarray:
        """(n, 2*half + 2) probabilities: the window around each centre, then the escape bin."""
        grid = torch.from_numpy(centres[:, None] + np.arange(-half, half + 1)[None, :]).unsqueeze(-1)
        mu, sigma = torch.from_numpy(means)[:, None, :], torch.from_numpy(scales)[:, None, :]
        mass = cls._cdf((grid + 0.5 - mu) / sigma) - cls._cdf((grid - 0.5 - mu) / sigma)
        pmf = (torch.from_numpy(weights)[:, None, :] * mass).sum(-1).numpy()
        pmf = np.maximum(pmf, 0.0)
        return np.concatenate([pmf, np.full((pmf.shape[0], 1), _ESCAPE_PROBABILITY)], axis=1)

    def compress(self, y: torch.Tensor, weight_logits: torch.Tensor, means: torch.Tensor,
                 scales: torch.Tensor) -> tuple[bytes, torch.Tensor]:
        weights, mus, sigmas = self._flatten(weight_logits, means, scales)
        centres = self._centres(weights, mus)
        spread = np.abs(mus - centres[:, None]) + 8.0 * sigmas
        half = int(np.clip(np.ceil(spread.max()) if spread.size else 1, 1, MAX_HALF_WINDOW))
        y_hat = torch.round(y)
        values = y_hat.detach().reshape(-1).numpy().astype(np.int64)
        # element order of _flatten is (N, C, H, W) with K moved last, i.e. y's own order
        symbols = values - centres.astype(np.int64) + half
        escaped = (symbols < 0) | (symbols > 2 * half)
        symbols = np.where(escaped, 2 * half + 1, symbols).astype(np.int32)
        coder = constriction.stream.stack.AnsCoder()
        esc = _zigzag(values[escaped].astype(np.int32))
        if esc.size:
            coder.encode_reverse((esc >> 16).astype(np.int32), _HALF)
            coder.encode_reverse((esc & 0xFFFF).astype(np.int32), _HALF)
        family = constriction.stream.model.Categorical(perfect=False)
        starts = list(range(0, symbols.size, _CHUNK))
        for start in reversed(starts):
            sl = slice(start, start + _CHUNK)
            probs = self._probabilities(weights[sl], mus[sl], sigmas[sl], centres[sl], half)
            coder.encode_reverse(symbols[sl], family, probs)
        return struct.pack("<H", half) + coder.get_compressed().astype("<u4").tobytes(), y_hat

    def decompress(self, data: bytes, weight_logits: torch.Tensor, means: torch.Tensor,
                   scales: torch.Tensor) -> torch.Tensor:
        if len(data) < 2 or (len(data) - 2) % 4:
            raise ContainerError("mixture stream has an invalid length")
        (half,) = struct.unpack("<H", data[:2])
        if not 1 <= half <= MAX_HALF_WINDOW:
            raise ContainerError("mixture stream has an invalid window")
        weights, mus, sigmas = self._flatten(weight_logits, means, scales)
        centres = self._centres(weights, mus)
        try:
            coder = constriction.stream.stack.AnsCoder(np.frombuffer(data[2:], dtype="<u4").astype(np.uint32))
            family = constriction.stream.model.Categorical(perfect=False)
            symbols = np.empty(centres.size, dtype=np.int64)
            for start in range(0, centres.size, _CHUNK):
                sl = slice(start, start + _CHUNK)
                probs = self._probabilities(weights[sl], mus[sl], sigmas[sl], centres[sl], half)
                symbols[sl] = coder.decode(family, probs)
            escaped = symbols == 2 * half + 1
            values = symbols + centres.astype(np.int64) - half
            n_escaped = int(escaped.sum())
            if n_escaped:
                low = coder.decode(_HALF, n_escaped).astype(np.uint32)
                high = coder.decode(_HALF, n_escaped).astype(np.uint32)
                values[escaped] = _unzigzag((high << 16) | low)
        except Exception as exc:
            raise ContainerError(f"mixture stream is corrupt ({exc})") from None
        return torch.from_numpy(values.reshape(means[:, 0].shape)).to(torch.float32)
