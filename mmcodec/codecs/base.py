"""The interface every learned codec speaks (DESIGN.md, "Layers").

- ``forward(x)`` → ``{"x_hat", "likelihoods": {name: tensor}}`` for training (x in [0, 1]);
- ``compress(x)`` → :class:`CodedLatents` (named byte streams + latent shapes + digest);
- ``decompress(coded)`` → x̂, and the digest of the latents it decoded;
- ``reconstruct(coded)`` → the same x̂ from the ŷ the encoder kept (no entropy decoding);
- ``update()`` builds the integer coding tables; ``aux_loss()`` trains the factorized quantiles;
- codecs with ``refinable = True`` split ``compress`` into ``initial_latents`` and
  ``compress_latents`` (with ``side_information``, what a conditioned codec's decoder already
  has) and give ``relaxed_forward``, so that the encoder can optimise the latents of one image
  before coding them (``refinement.py``).

Inputs of any height and width are padded (edge replication) to a multiple of
``padding_multiple`` before the transforms and cropped back afterwards.
"""
from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field
from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ..entropy.factorized import FactorizedEntropyModel
from ..layers.tiling import apply_in_bands

Rounding = Callable[[torch.Tensor, "torch.Tensor | None"], torch.Tensor]
"""Rounds latent values around their means (None: around 0): round(v − μ) + μ, or a
differentiable stand-in for it."""


@dataclass
class CodedLatents:
    """What a codec produces for one sample: streams by name and the shapes to decode them."""

    streams: dict[str, bytes]
    shapes: dict[str, list[int]]
    digest: str = ""
    dependencies: dict[str, list[str]] = field(default_factory=dict)
    entropy_parameters: str = "float"
    """How the decoder must compute the entropy parameters: "float" (the network as trained) or
    "integer" (its fixed-point copy, :mod:`mmcodec.layers.integer_network`); the file records it."""
    decoded: dict[str, torch.Tensor] = field(default_factory=dict, repr=False, compare=False)
    """The quantised latents the decoder will rebuild (``{"y": ŷ}``), kept by an encoder that
    reconstructs its own output (:meth:`LearnedCodec.reconstruct`) without decoding the streams
    again; never written to a file."""


@contextlib.contextmanager
def float_entropy_parameters(codec: "LearnedCodec") -> Iterator[None]:
    """Inside: ``codec`` codes with the float entropy parameters, as every file before model version 2
    (``mmcodec.api.MODEL_VERSIONS``), which a decoder of that time reads too."""
    previous, codec._writes_float_entropy_parameters = codec._writes_float_entropy_parameters, True
    try:
        yield
    finally:
        codec._writes_float_entropy_parameters = previous


def latent_digest(*integer_tensors: torch.Tensor) -> str:
    """SHA-256 (first 16 hex digits) of the quantised latents, as int32 little-endian."""
    h = hashlib.sha256()
    for t in integer_tensors:
        h.update(torch.round(t.detach()).to(torch.int32).numpy().astype("<i4").tobytes())
    return h.hexdigest()[:16]


class LearnedCodec(nn.Module):
    """Base of every learned codec; subclasses set ``padding_multiple`` and the transforms."""

    padding_multiple: int = 64
    name: str = "learned-codec"
    modality: str = "image"   # what it codes: "image" (1 or 3 channels), "depth" (a depth map, maybe given
                              # the decoded colour) or "rgbd" (an RGB-D stack in, one of its modalities out)
    entropy_parameter_modes: tuple[str, ...] = ("float",)
    """Values of :attr:`CodedLatents.entropy_parameters` that this codec decodes (its encoder writes the last)."""
    _writes_float_entropy_parameters = False

    def __init__(self, in_channels: int = 3) -> None:
        super().__init__()
        self.in_channels = in_channels

    def encoder_entropy_parameters(self) -> str:
        """The entropy parameters :meth:`compress` codes with: the last mode, or "float" inside
        :func:`float_entropy_parameters`."""
        return "float" if self._writes_float_entropy_parameters else self.entropy_parameter_modes[-1]

    # -- configuration recorded with weights -------------------------------------------------
    def config(self) -> dict:
        raise NotImplementedError

    def load_initial_weights(self, state: dict[str, torch.Tensor]) -> None:
        """Weights to start a training run from (``init_from``); here they must match exactly."""
        self.load_state_dict(state)

    # -- geometry -------------------------------------------------------------------------------
    def pad(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        m = self.padding_multiple
        ph, pw = (-h) % m, (-w) % m
        if ph == 0 and pw == 0:
            return x
        mode = "replicate"
        return F.pad(x, (0, pw, 0, ph), mode=mode)

    @staticmethod
    def crop(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
        return x[..., :height, :width]

    # -- transforms for coding (banded, so large images fit in memory) --------------------------
    band_pixels = 1 << 22           # image pixels per band: Kodak-sized inputs are one band
    analysis_halo_rows = 64         # image rows, ≥ g_a's receptive field
    synthesis_halo_rows = 4         # latent rows, ≥ g_s's receptive field

    def analysis(self, x: torch.Tensor) -> torch.Tensor:
        """g_a(x), evaluated in row bands (x padded to ``padding_multiple``)."""
        return self.in_analysis_bands(self.g_a, x)

    def synthesis(self, y_hat: torch.Tensor) -> torch.Tensor:
        """g_s(ŷ), evaluated in row bands."""
        return self.in_synthesis_bands(self.g_s, y_hat)

    def in_analysis_bands(self, transform: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """``transform`` (an image → 1/16 network, like g_a) on row bands of about ``band_pixels``."""
        rows = max(16, self.band_pixels // x.shape[-1] // 16 * 16)
        return apply_in_bands(transform, x, 1 / 16, rows, self.analysis_halo_rows, 16)

    def in_synthesis_bands(self, transform: Callable[[torch.Tensor], torch.Tensor], y_hat: torch.Tensor,
                           halo_rows: int | None = None) -> torch.Tensor:
        """``transform`` (a latent → ×16 network, like g_s) on row bands of ŷ (``halo_rows`` latent
        rows of halo, by default ``synthesis_halo_rows``)."""
        rows = max(4, self.band_pixels // (y_hat.shape[-1] * 256))
        halo = self.synthesis_halo_rows if halo_rows is None else halo_rows
        return apply_in_bands(transform, y_hat, 16, rows, halo, 1)

    # -- entropy models ------------------------------------------------------------------------
    def factorized_models(self) -> list[FactorizedEntropyModel]:
        return [m for m in self.modules() if isinstance(m, FactorizedEntropyModel)]

    def aux_loss(self) -> torch.Tensor:
        losses = [m.aux_loss() for m in self.factorized_models()]
        return torch.stack(losses).sum() if losses else torch.zeros(())

    def update(self) -> None:
        """Build every integer coding table (factorized priors, conditional models)."""
        for module in self.modules():
            if module is not self and hasattr(module, "update") and hasattr(module, "tables"):
                module.update()

    def latent_shapes(self, height: int, width: int) -> dict[str, list[int]]:
        """Shape of every coded latent for a padded ``height`` × ``width`` input."""
        raise NotImplementedError

    def latent_layouts(self, height: int, width: int) -> list[dict[str, list[int]]]:
        """Every set of stream shapes this codec decodes for a padded ``height`` × ``width`` input:
        :meth:`latent_shapes`, which its encoder writes, first; then those of older files."""
        return [self.latent_shapes(height, width)]

    # -- latent refinement (refinement.py): compress(x) = compress_latents(initial_latents(x)) ------
    refinable: bool = False

    def initial_latents(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The unquantised latents the encoder would code for the padded input ``x``."""
        raise NotImplementedError

    def side_information(self, x: torch.Tensor) -> object:
        """What the decoder has besides the streams and the refinement keeps fixed (a conditioned
        codec's features of its decoded context), computed once from the padded input ``x``;
        None for a codec without any."""
        return None

    def relaxed_forward(self, latents: dict[str, torch.Tensor], rounding: Rounding, side: object = None) -> dict:
        """``{"x_hat", "likelihoods"}`` when every latent is rounded by ``rounding`` around the
        mean or median the coder uses for it (with exact rounding: what the decoder gets)."""
        raise NotImplementedError

    def compress_latents(self, latents: dict[str, torch.Tensor], side: object = None) -> CodedLatents:
        """Code given latents (those of ``initial_latents``, or refined ones)."""
        raise NotImplementedError

    # -- to be implemented ----------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def compress(self, x: torch.Tensor) -> CodedLatents:  # pragma: no cover - abstract
        raise NotImplementedError

    def decompress(self, coded: CodedLatents) -> tuple[torch.Tensor, str]:  # pragma: no cover
        raise NotImplementedError

    @torch.no_grad()
    def reconstruct(self, coded: CodedLatents) -> torch.Tensor:
        """What :meth:`decompress` returns as x̂ for ``coded``, bit for bit: the banded synthesis of
        the ŷ that ``compress_latents`` kept (``coded.decoded``, for the codecs whose x̂ is g_s(ŷ)
        alone), else decoded from the streams (a CodedLatents read from a file). An encoder that needs
        the decoder's x̂ (a joint RGB-D file conditions its depth on it) skips the entropy decoding
        and the hyper synthesis so."""
        if "y" not in coded.decoded:
            return self.decompress(coded)[0]
        return self.synthesis(coded.decoded["y"])
