"""Fixed-point evaluation of a small convolutional network, bit-exact on every platform.

The decoder must compute the entropy parameters exactly as the encoder did, and floating-point
convolutions do not: their sums run in an order that depends on the CPU, the library's kernel and
the thread count. Measured on Kodak (``benchmarks/entropy_parameter_agreement.py``): the float32
hyper-synthesis of the default model, computed once with torch's native kernels on one thread and
once with oneDNN on two, snaps dozens of the 4.7 million scales of the 24 images to another entry
of the scale table, and one such element breaks the arithmetic decoding of everything after it.

Ballé, Johnston, Minnen (arXiv 1905.11940, "Integer networks for data compression with
latent-variable models", sec. 2) make the network integer. Here a trained float network is
converted after training: activations are integers in units of 2^-F (``ACTIVATION_BITS``), weights
integers in units of 2^-W (``WEIGHT_BITS``), biases in units of 2^-(F+W). Every convolution then
sums products of integers, which float64 represents exactly as long as every partial sum stays
below 2^53, so the result does not depend on the order of the sums; the conversion bounds the
activations (``clamp``) so that it provably does. After each layer the sum is rescaled to units of
2^-F with round-half-up (an exact floor in float64), and the nonlinearities act on integers
(LeakyReLU's slope as a fixed-point multiplier). The outputs are exact multiples of 2^-F.

GDN (Ballé, Laparra, Simoncelli, arXiv 1511.06281, eq. 6: y_i = x_i / sqrt(β_i + Σ_j γ_ij x_j²))
and its inverse (x_i · sqrt(…)) convert the same way: x² is rounded to units of 2^-F, γ to units
of 2^-W and β to 2^-(F+W), so the normalisation pool β + Σ_j γ_ij x_j² is again an exact sum of
integers; the square root and the division (or product) that follow act on single numbers, and
IEEE 754 rounds both correctly, so they too give the same bits on every platform (unlike exp or
tanh, whose last bit depends on the library).

F = 14 and W = 16: the rounding of the activations, amplified by the layers after it, moves the
default model's h_s outputs by at most 0.01 (μ up to ±46) and 0.0024 (σ) on a test input
(``tests/layers/test_integer_network.py``), and on Kodak the files change by a few bytes
(``benchmarks/entropy_parameter_agreement.py``). More bits for either would leave the largest
weights of h_s too little range for exact sums.
"""
from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .gdn import GDN
from .tiling import apply_in_bands

ACTIVATION_BITS = 14
WEIGHT_BITS = 16
SLOPE_BITS = 16
EXACT_LIMIT = 2.0 ** 52  # below 2^53 with a margin for the rounding offset and the bias
MIN_ACTIVATION_RANGE = 2.0 ** 10  # a layer must represent activations up to at least this magnitude
EXACT_SQUARE = 2.0 ** 26  # |x| in units of 2^-ACTIVATION_BITS up to which x² is exact in float64


@dataclass(frozen=True)
class _IntegerLayer:
    """One convolution (or transposed convolution) in fixed point, with what follows it."""
    weight: torch.Tensor      # float64 holding integers, units of 2^-WEIGHT_BITS
    bias: torch.Tensor        # float64 holding integers, units of 2^-(ACTIVATION_BITS + WEIGHT_BITS)
    transposed: bool
    stride: tuple[int, int]
    padding: tuple[int, int]
    output_padding: tuple[int, int]
    input_limit: float        # |input| is clamped to this (units of 2^-ACTIVATION_BITS)
    slope: int | None         # negative slope of a following LeakyReLU in units of 2^-SLOPE_BITS; 0 = ReLU


@dataclass(frozen=True)
class _IntegerNormalization:
    """GDN in fixed point: x / sqrt(β + Σ_j γ_ij x_j²), or x · sqrt(…) for the inverse."""
    gamma: torch.Tensor       # float64 holding integers, units of 2^-WEIGHT_BITS, shape (C, C, 1, 1)
    beta: torch.Tensor        # float64 holding integers, units of 2^-(ACTIVATION_BITS + WEIGHT_BITS)
    input_limit: float        # |input| is clamped to this (units of 2^-ACTIVATION_BITS)
    inverse: bool = False     # IGDN


def _pair(value: int | tuple[int, ...]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _fixed(values: torch.Tensor, bits: int) -> torch.Tensor:
    """round(values · 2^bits) as float64 integers (exact: float32 → float64 and ·2^bits are exact)."""
    return torch.round(values.detach().double() * 2.0 ** bits)


def _integer_layer(layer: nn.Conv2d | nn.ConvTranspose2d, slope: int | None) -> _IntegerLayer:
    if layer.groups != 1 or _pair(layer.dilation) != (1, 1) or layer.padding_mode != "zeros":
        raise ValueError(f"integer network: unsupported convolution {layer}")
    weight = _fixed(layer.weight, WEIGHT_BITS)
    bias = fixed_bias(layer.bias, layer.out_channels)
    transposed = isinstance(layer, nn.ConvTranspose2d)
    # Largest sum of |weights| that one output value can collect: per output channel, all of its inputs.
    per_output = weight.abs().sum(dim=(0, 2, 3) if transposed else (1, 2, 3))
    return _IntegerLayer(weight, bias, transposed, _pair(layer.stride), _pair(layer.padding),
                         _pair(getattr(layer, "output_padding", 0)), exact_sum_limit(per_output, bias, layer), slope)


def fixed_bias(bias: torch.Tensor | None, channels: int) -> torch.Tensor:
    """A layer's bias as float64 integers in units of 2^-(ACTIVATION_BITS + WEIGHT_BITS) (0 without one)."""
    if bias is None:
        return torch.zeros(channels, dtype=torch.float64)
    return _fixed(bias, ACTIVATION_BITS + WEIGHT_BITS)


def exact_sum_limit(per_output: torch.Tensor, bias: torch.Tensor, layer: nn.Module) -> float:
    """The |input| bound (units of 2^-ACTIVATION_BITS) under which every output sum of ``layer`` stays
    below EXACT_LIMIT: ``per_output`` holds each output's Σ|weight| (units of 2^-WEIGHT_BITS)."""
    limit = math.floor((EXACT_LIMIT - float(bias.abs().max()) - 2.0 ** WEIGHT_BITS) / max(float(per_output.max()), 1.0))
    if limit < MIN_ACTIVATION_RANGE * 2 ** ACTIVATION_BITS:
        raise ValueError(f"integer network: weights of {layer} too large for exact float64 sums")
    return float(limit)


def rescale_sums(sums: torch.Tensor) -> torch.Tensor:
    """A layer's integer sums (units of 2^-(ACTIVATION_BITS + WEIGHT_BITS)) in units of
    2^-ACTIVATION_BITS, rounded half up (in place: an exact floor in float64)."""
    return sums.add_(2.0 ** (WEIGHT_BITS - 1)).div_(2.0 ** WEIGHT_BITS).floor_()


def _integer_normalization(gdn: GDN) -> _IntegerNormalization:
    with torch.no_grad():
        beta, gamma = gdn._beta(gdn.beta), gdn._gamma(gdn.gamma)
    channels = beta.numel()
    gamma = _fixed(gamma, WEIGHT_BITS).reshape(channels, channels, 1, 1)
    beta = _fixed(beta, ACTIVATION_BITS + WEIGHT_BITS)
    if float(beta.min()) <= 0:
        raise ValueError(f"integer network: β of {gdn} rounds to 0 (a division by zero)")
    # The pool sums γ_ij·x_j² (x² in units of 2^-F) over j: bound x so that it stays below EXACT_LIMIT.
    largest_square = (EXACT_LIMIT - float(beta.max())) / max(float(gamma.sum(dim=1).max()), 1.0)
    limit = min(math.floor(math.sqrt(largest_square * 2 ** ACTIVATION_BITS)), EXACT_SQUARE)
    if limit < MIN_ACTIVATION_RANGE * 2 ** ACTIVATION_BITS:
        raise ValueError(f"integer network: γ of {gdn} too large for exact float64 sums")
    return _IntegerNormalization(gamma, beta, float(limit), gdn.inverse)


def _layers(module: nn.Module) -> list[nn.Module]:
    """The convolutions, activations and GDNs of ``module`` in the order they are registered
    (nested ``nn.Sequential``, ``nn.ModuleList`` and other containers are opened)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.LeakyReLU, nn.ReLU, GDN)) or not list(module.children()):
        return [module]
    return [layer for child in module.children() for layer in _layers(child)]


class IntegerNetwork:
    """A fixed-point copy of a chain of Conv2d / ConvTranspose2d layers, each optionally followed
    by a LeakyReLU, a ReLU or a GDN; built from the float network's current weights. The chain is
    the network's layers in registration order (:func:`_layers`), which must be the order in which
    its forward applies them, and the copy computes only the last layer's output.

    ``network(x)`` takes float input on any grid (it is rounded to units of 2^-ACTIVATION_BITS)
    and returns the output in float64, every value an exact multiple of 2^-ACTIVATION_BITS; the
    result is the same bit for bit on every platform and for every thread count.
    """

    def __init__(self, network: nn.Module) -> None:
        modules = _layers(network)
        layers: list[_IntegerLayer | _IntegerNormalization] = []
        index = 0
        while index < len(modules):
            layer = modules[index]
            if isinstance(layer, GDN) and layers:
                layers.append(_integer_normalization(layer))
                index += 1
                continue
            if not isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
                raise ValueError(f"integer network: expected a convolution, got {layer.__class__.__name__}")
            slope = None
            following = modules[index + 1] if index + 1 < len(modules) else None
            if isinstance(following, nn.LeakyReLU):
                slope, index = round(following.negative_slope * 2 ** SLOPE_BITS), index + 1
            elif isinstance(following, nn.ReLU):
                slope, index = 0, index + 1
            layers.append(_integer_layer(layer, slope))
            index += 1
        self.layers = layers

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        # On the CPU always: a GPU library may pick FFT or Winograd convolutions, which round.
        values = _fixed(x.cpu(), ACTIVATION_BITS)
        # In place where it can be (every tensor here is the network's own): at 1/16 of a 24-megapixel
        # image each temporary of h_s's last layer is 190 MB.
        for layer in self.layers:
            values.clamp_(-layer.input_limit, layer.input_limit)
            if isinstance(layer, _IntegerNormalization):
                values = _normalize(values, layer)
                continue
            values = rescale_sums(convolve_in_row_chunks(values, layer).add_(layer.bias.view(1, -1, 1, 1)))
            if layer.slope is not None:
                torch.where(values < 0, torch.floor(values * layer.slope / 2.0 ** SLOPE_BITS), values, out=values)
        return values.div_(2.0 ** ACTIVATION_BITS).to(x.device)


CHUNK_BYTES = 1 << 28
"""Bytes of unfolded input (torch's float64 convolution builds im2col buffers of C_in·k_h·k_w values
per output position) that one chunk of rows may take: 256 MB."""
MIN_CHUNK_REACHES = 8
"""A chunk is at least this many times the rows it reads beyond each side (at most 25% recomputed)."""


def _convolve(values: torch.Tensor, layer: _IntegerLayer) -> torch.Tensor:
    if layer.transposed:
        return F.conv_transpose2d(values, layer.weight, None, layer.stride, layer.padding, layer.output_padding)
    return F.conv2d(values, layer.weight, None, layer.stride, layer.padding)


def convolve_in_row_chunks(values: torch.Tensor, layer: _IntegerLayer) -> torch.Tensor:
    """``layer``'s convolution of ``values`` (float64 integers), computed in chunks of input rows.

    Torch convolves float64 through unfolded buffers (im2col; col2im for a transposed convolution)
    of C·k_h·k_w values per position: for h_s of a 24-megapixel image, whose last 3×3 convolution
    reads 192 channels at 1/16 of the image, 1.3 GB at once. Each chunk here convolves its rows of
    the input and the rows the kernel reaches beyond them (``reach``), with the layer's own padding,
    and keeps only the output rows that depend on the chunk's rows alone; each kept value is then the
    sum of exactly the products the whole evaluation sums, and since those are integers summed below
    2^53 (the layer's ``input_limit``), the result is the same bit for bit. The chunks are the bands of
    :func:`~mmcodec.layers.tiling.apply_in_bands`; small inputs are one chunk."""
    kernel_rows, kernel_cols = layer.weight.shape[2:]
    stride, padding = layer.stride[0], layer.padding[0]
    batch, width = values.shape[0], values.shape[-1]
    if layer.transposed:   # col2im columns: C_out·k·k per input position
        per_input_row = batch * layer.weight.shape[1] * kernel_rows * kernel_cols * width * 8
        # Output row o collects input rows i with i·s − p ≤ o ≤ i·s − p + k − 1, so the output rows
        # [lo·s, hi·s) need input rows from lo − ⌈(k − 1 − p)/s⌉ to hi − 1 + ⌈p/s⌉.
        reach = max(-(-(kernel_rows - 1 - padding) // stride), -(-padding // stride), 0)
        rows = max(1, CHUNK_BYTES // per_input_row, MIN_CHUNK_REACHES * reach)
    else:                  # im2col: C_in·k·k per output position, an output row per `stride` input rows
        output_width = width // layer.stride[1]
        per_input_row = batch * layer.weight.shape[1] * kernel_rows * kernel_cols * output_width * 8 // stride
        # Output row o reads input rows o·s − p … o·s − p + k − 1: the output rows [lo/s, hi/s) need
        # input rows from lo − p to hi − 1 + (k − 1 − p) − (s − 1); chunks start at multiples of s.
        reach = -(-max(padding, kernel_rows - 1 - padding, 0) // stride) * stride
        rows = max(stride, CHUNK_BYTES // max(per_input_row, 1), MIN_CHUNK_REACHES * reach) // stride * stride
    factor, align = (stride, 1) if layer.transposed else (1 / stride, stride)
    return apply_in_bands(lambda chunk: _convolve(chunk, layer), values, factor, rows, reach, align)


def _normalize(values: torch.Tensor, layer: _IntegerNormalization) -> torch.Tensor:
    """(I)GDN on integers in units of 2^-F: every step exact or one correctly rounded IEEE operation."""
    squares = torch.floor(values * values / 2.0 ** ACTIVATION_BITS + 0.5)            # x² in units of 2^-F
    pool = F.conv2d(squares, layer.gamma) + layer.beta.view(1, -1, 1, 1)              # units of 2^-(F+W)
    norm = torch.sqrt(pool / 2.0 ** (ACTIVATION_BITS + WEIGHT_BITS))
    return torch.floor((values * norm if layer.inverse else values / norm) + 0.5)


_COPIES: "weakref.WeakKeyDictionary[nn.Module, tuple[tuple, IntegerNetwork]]" = weakref.WeakKeyDictionary()


def cached_for_weights(cache: weakref.WeakKeyDictionary, module: nn.Module, build: Callable[[], object],
                       recurse: bool = True) -> object:
    """``build()`` for ``module``'s current weights, kept in ``cache``: built once and again when they
    change (the key follows each parameter's storage and version; the entry goes with the module)."""
    key = tuple((p.data_ptr(), p._version) for p in module.parameters(recurse=recurse))
    cached = cache.get(module)
    if cached is None or cached[0] != key:
        cached = cache[module] = (key, build())
    return cached[1]


def integer_network_for(network: nn.Module) -> IntegerNetwork:
    """The :class:`IntegerNetwork` of ``network``'s current weights, built once and rebuilt when they change."""
    return cached_for_weights(_COPIES, network, lambda: IntegerNetwork(network))
