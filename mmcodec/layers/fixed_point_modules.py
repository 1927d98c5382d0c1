"""Fixed-point evaluation of a module tree, bit-exact on every platform: LIC-TCM's entropy networks.

:class:`~mmcodec.layers.integer_network.IntegerNetwork` evaluates a *chain* of convolutions in
fixed point (after Ballé, Johnston, Minnen, arXiv 1905.11940). The networks that set LIC-TCM's
entropy parameters (Liu, Sun, Katto, arXiv 2303.14978: h_mean_s / h_scale_s with TCM blocks,
sec. 3.2, fig. 2; SWAtten and the slice transforms of the channel-wise entropy model, sec. 3.3,
figs. 3–4) are trees with residual sums, windowed self-attention (softmax), LayerNorm, GELU, IGDN,
a sigmoid gate and pixel shuffles. :func:`fixed_point_forward` evaluates any tree built of the
modules registered here (:func:`fixed_point_evaluator`), under the same rule:

- Values are integers in units of 2^-F (F = ``ACTIVATION_BITS``) held in float64.
- A *reduction* (a convolution's or a linear layer's sum, QKᵀ, the attention's weighted sum of V,
  LayerNorm's mean and variance) sums integers only, each partial sum provably below 2^53 (inputs
  clamped to a bound derived from the weights, as ``IntegerNetwork`` does) or summed in int64, so
  its result does not depend on the order of the sums, i.e. on the library, the kernel or the
  thread count. Weights are integers in units of 2^-W, biases in units of 2^-(F+W).
- Everything else is elementwise, a fixed sequence of IEEE 754 operations, each correctly
  rounded: exp, erf and the sigmoid come from :mod:`mmcodec.layers.exact_tanh` and
  :mod:`mmcodec.layers.exact_activations`, never from the math library.
- Each module's output is rounded (half up) back to units of 2^-F.

Softmax(QKᵀ·s + B)·V (arXiv 2103.14030, eq. 4) becomes: logits from the exact integer QKᵀ, the
scale s and the position bias B; e_j = exp(logit_j − max) rounded to units of 2^-``SOFTMAX_BITS``
(0 where masked); out = Σ_j e_j·v_j / Σ_j e_j, both sums exact, then one division.
LayerNorm: the mean rounded to the grid, the deviations d exact, Σ d² in int64, then
d / sqrt(Σd²/C + ε)·γ + β elementwise. The result follows the float network to within the grid's
rounding, amplified by the layers after it (``tests/layers/test_fixed_point_modules.py``).
"""
from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .attention_block import AttentionBlock, ResidualUnit
from .exact_activations import exact_gelu, exact_sigmoid
from .exact_tanh import exact_exp
from .gdn import GDN
from .integer_network import (
    ACTIVATION_BITS,
    EXACT_LIMIT,
    SLOPE_BITS,
    WEIGHT_BITS,
    _fixed,
    _integer_layer,
    _integer_normalization,
    _normalize,
    cached_for_weights,
    convolve_in_row_chunks,
    exact_sum_limit,
    fixed_bias,
    rescale_sums,
)
from .residual import ResidualBlock, ResidualBlockUpsample
from .swatten import SWAtten
from .swin import DropPath, SwinBlockPair, SwinTransformerBlock
from .tcm_block import TCMBlock
from .window_attention import WindowAttention

ONE = 2.0 ** ACTIVATION_BITS
SOFTMAX_BITS = 20
"""exp(logit − max) is rounded to units of 2^-SOFTMAX_BITS: the largest weight is exactly 2^SOFTMAX_BITS."""
_SOFTMAX_FLOOR = -40.0   # exp(−40) ≈ 4·10^-18 rounds to 0 at SOFTMAX_BITS
_INT64_LIMIT = 2.0 ** 62

Evaluator = Callable[[nn.Module, torch.Tensor], torch.Tensor]
_EVALUATORS: dict[type, Evaluator] = {}


def fixed_point_evaluator(module_class: type) -> Callable[[Evaluator], Evaluator]:
    """Register ``function(module, values)`` as the fixed-point form of ``module_class`` (and of its
    subclasses that have none of their own). ``values`` and the result are integers in units of 2^-F."""
    def register(function: Evaluator) -> Evaluator:
        _EVALUATORS[module_class] = function
        return function
    return register


def evaluate(module: nn.Module, values: torch.Tensor) -> torch.Tensor:
    """``module`` applied to ``values`` (float64 integers in units of 2^-F) in fixed point."""
    for cls in type(module).__mro__:
        function = _EVALUATORS.get(cls)
        if function is not None:
            return function(module, values)
    raise ValueError(f"fixed-point evaluation: unsupported module {type(module).__name__}")


def _to_grid(values: torch.Tensor) -> torch.Tensor:
    """Real values (float64) → integers in units of 2^-F, rounded half up."""
    return torch.floor(values * ONE + 0.5)


# ---- cached fixed-point weights ---------------------------------------------------------------
_WEIGHTS: "weakref.WeakKeyDictionary[nn.Module, tuple[tuple, object]]" = weakref.WeakKeyDictionary()


def _cached(module: nn.Module, build: Callable[[], object]) -> object:
    """``build()`` for one layer's own current parameters (``cached_for_weights``)."""
    return cached_for_weights(_WEIGHTS, module, build, recurse=False)


@dataclass(frozen=True)
class _IntegerLinear:
    weight_t: torch.Tensor    # (in, out), integers in units of 2^-W
    bias: torch.Tensor        # (out,), integers in units of 2^-(F+W)
    input_limit: float


def _integer_linear(layer: nn.Linear) -> _IntegerLinear:
    weight = _fixed(layer.weight, WEIGHT_BITS)
    bias = fixed_bias(layer.bias, layer.out_features)
    return _IntegerLinear(weight.t().contiguous(), bias, exact_sum_limit(weight.abs().sum(dim=1), bias, layer))


# ---- layers -----------------------------------------------------------------------------------
@fixed_point_evaluator(nn.Conv2d)
@fixed_point_evaluator(nn.ConvTranspose2d)
def _convolution(module: nn.Module, values: torch.Tensor) -> torch.Tensor:
    layer = _cached(module, lambda: _integer_layer(module, None))
    sums = convolve_in_row_chunks(values.clamp(-layer.input_limit, layer.input_limit), layer)
    return rescale_sums(sums.add_(layer.bias.view(1, -1, 1, 1)))


@fixed_point_evaluator(nn.Linear)
def _linear(module: nn.Linear, values: torch.Tensor) -> torch.Tensor:
    layer = _cached(module, lambda: _integer_linear(module))
    sums = torch.matmul(values.clamp(-layer.input_limit, layer.input_limit), layer.weight_t)
    return rescale_sums(sums.add_(layer.bias))


@fixed_point_evaluator(nn.LeakyReLU)
def _leaky_relu(module: nn.LeakyReLU, values: torch.Tensor) -> torch.Tensor:
    slope = round(module.negative_slope * 2 ** SLOPE_BITS)
    return torch.where(values < 0, torch.floor(values * slope / 2.0 ** SLOPE_BITS), values)


@fixed_point_evaluator(nn.ReLU)
def _relu(module: nn.ReLU, values: torch.Tensor) -> torch.Tensor:
    return values.clamp(min=0)


@fixed_point_evaluator(nn.GELU)
def _gelu(module: nn.GELU, values: torch.Tensor) -> torch.Tensor:
    if module.approximate != "none":
        raise ValueError(f"fixed-point evaluation: GELU(approximate={module.approximate!r}) is not supported")
    return _to_grid(exact_gelu(values / ONE))


@fixed_point_evaluator(GDN)
def _gdn(module: GDN, values: torch.Tensor) -> torch.Tensor:
    layer = _cached(module, lambda: _integer_normalization(module))
    return _normalize(values.clamp(-layer.input_limit, layer.input_limit), layer)


@fixed_point_evaluator(nn.PixelShuffle)
def _pixel_shuffle(module: nn.PixelShuffle, values: torch.Tensor) -> torch.Tensor:
    return F.pixel_shuffle(values, module.upscale_factor)


@fixed_point_evaluator(nn.Identity)
@fixed_point_evaluator(nn.Dropout)
@fixed_point_evaluator(DropPath)
def _identity(module: nn.Module, values: torch.Tensor) -> torch.Tensor:
    return values   # evaluation mode: no dropout


@fixed_point_evaluator(nn.Sequential)
def _sequential(module: nn.Sequential, values: torch.Tensor) -> torch.Tensor:
    for layer in module:
        values = evaluate(layer, values)
    return values


@fixed_point_evaluator(nn.LayerNorm)
def _layer_norm(module: nn.LayerNorm, values: torch.Tensor) -> torch.Tensor:
    """(x − mean) / sqrt(var + ε)·γ + β over the last dimension (biased variance, as torch)."""
    if len(module.normalized_shape) != 1:
        raise ValueError("fixed-point evaluation: LayerNorm over more than the last dimension")
    channels = module.normalized_shape[0]
    limit = math.floor(math.sqrt(_INT64_LIMIT / channels) / 2)   # (2·limit)²·C stays below 2^62
    values = values.clamp(-limit, limit)
    mean = torch.floor(values.sum(dim=-1, keepdim=True) / channels + 0.5)   # an exact sum, one division
    deviation = values - mean
    squares = deviation.to(torch.int64).square().sum(dim=-1, keepdim=True)  # exact in int64
    variance = squares.double() / channels / (ONE * ONE)
    normalized = (deviation / ONE) / torch.sqrt(variance + module.eps)
    if module.weight is not None:
        normalized = normalized * module.weight.detach().double()
    if module.bias is not None:
        normalized = normalized + module.bias.detach().double()
    return _to_grid(normalized)


# ---- attention --------------------------------------------------------------------------------
def _exact_product_limit(terms: int) -> float:
    """|a|, |b| bound (units of 2^-F) under which a sum of ``terms`` products a·b stays below 2^52."""
    return float(math.floor(math.sqrt(EXACT_LIMIT / max(terms, 1))))


@fixed_point_evaluator(WindowAttention)
def _window_attention(module: WindowAttention, values: torch.Tensor) -> torch.Tensor:
    """W-MSA / SW-MSA (arXiv 2103.14030, eq. 4) on a (B, H, W, C) map, without prompt tokens."""
    _, h, w, _ = values.shape
    tokens = module.windows(values)                                               # (B, nW, P, C)
    q, k, v = module.split_heads(_linear(module.embedding_layer, tokens), 3)       # (heads, B, nW, P, d)
    qk_limit = _exact_product_limit(module.head_dim)
    q, k = q.clamp(-qk_limit, qk_limit), k.clamp(-qk_limit, qk_limit)
    scale = 1.0 / math.sqrt(module.head_dim)   # √ and ÷ are correctly rounded (a library's pow may not be)
    logits = torch.matmul(q, k.transpose(-1, -2)) / (ONE * ONE) * scale           # exact sums, then scaled
    logits = logits + module.relative_bias().detach().double()[:, None, None]
    mask = module.window_mask(h, w, values.device)
    if mask is not None:
        logits = logits.masked_fill(mask, -math.inf)
    exponent = (logits - logits.amax(dim=-1, keepdim=True)).clamp(min=_SOFTMAX_FLOOR)
    weights = torch.floor(exact_exp(exponent) * 2.0 ** SOFTMAX_BITS + 0.5)   # 0 where masked (or < 2^-21)
    v_limit = math.floor(EXACT_LIMIT / (2.0 ** SOFTMAX_BITS * tokens.shape[2]))
    weighted = torch.matmul(weights, v.clamp(-v_limit, v_limit))                   # exact sums
    out = torch.floor(weighted / weights.sum(dim=-1, keepdim=True) + 0.5)          # (heads, B, nW, P, d)
    return module.unwindows(_linear(module.linear, module.join_heads(out)), h, w)


@fixed_point_evaluator(SwinTransformerBlock)
def _swin_block(module: SwinTransformerBlock, values: torch.Tensor) -> torch.Tensor:
    values = values + evaluate(module.msa, evaluate(module.ln1, values))
    return values + evaluate(module.mlp, evaluate(module.ln2, values))


@fixed_point_evaluator(SwinBlockPair)
def _swin_pair(module: SwinBlockPair, values: torch.Tensor) -> torch.Tensor:
    h, w = values.shape[-2:]
    ph, pw = (-h) % module.window, (-w) % module.window
    if ph or pw:
        values = F.pad(values, (0, pw, 0, ph))
    t = evaluate(module.block_2, evaluate(module.block_1, values.permute(0, 2, 3, 1)))
    return t.permute(0, 3, 1, 2)[..., :h, :w]


# ---- residual structures ----------------------------------------------------------------------
@fixed_point_evaluator(ResidualBlock)
def _residual_block(module: ResidualBlock, values: torch.Tensor) -> torch.Tensor:
    out = evaluate(module.leaky_relu, evaluate(module.conv1, values))
    out = evaluate(module.leaky_relu, evaluate(module.conv2, out))
    return out + (evaluate(module.skip, values) if module.skip is not None else values)


@fixed_point_evaluator(ResidualBlockUpsample)
def _residual_block_upsample(module: ResidualBlockUpsample, values: torch.Tensor) -> torch.Tensor:
    out = evaluate(module.leaky_relu, evaluate(module.subpel_conv, values))
    out = evaluate(module.igdn, evaluate(module.conv, out))
    return out + evaluate(module.upsample, values)


@fixed_point_evaluator(TCMBlock)
def _tcm_block(module: TCMBlock, values: torch.Tensor) -> torch.Tensor:
    conv_x, trans_x = torch.split(evaluate(module.conv1_1, values), (module.conv_dim, module.trans_dim), dim=1)
    conv_x = evaluate(module.conv_block, conv_x) + conv_x
    trans_x = evaluate(module.trans_block, trans_x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
    return values + evaluate(module.conv1_2, torch.cat((conv_x, trans_x), dim=1))


@fixed_point_evaluator(ResidualUnit)
def _residual_unit(module: ResidualUnit, values: torch.Tensor) -> torch.Tensor:
    return (evaluate(module.conv, values) + values).clamp(min=0)


def _gated(trunk: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
    """trunk ⊙ sigmoid(gate), rounded to the grid."""
    return _to_grid(trunk / ONE * exact_sigmoid(gate / ONE))


@fixed_point_evaluator(AttentionBlock)
def _attention_block(module: AttentionBlock, values: torch.Tensor) -> torch.Tensor:
    return values + _gated(evaluate(module.conv_a, values), evaluate(module.conv_b, values))


@fixed_point_evaluator(SWAtten)
def _swatten(module: SWAtten, values: torch.Tensor) -> torch.Tensor:
    x = evaluate(module.in_conv, values)
    out = x + _gated(evaluate(module.conv_a, x), evaluate(module.conv_b, evaluate(module.non_local_block, x)))
    return evaluate(module.out_conv, out)


@torch.no_grad()
def fixed_point_forward(network: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``network`` applied to ``x`` in fixed point: float input on any grid (rounded to units of
    2^-F), float64 output, every value a multiple of 2^-F, the same bits on every platform (each
    layer's integer weights are built once and again when its parameters change)."""
    # On the CPU always: a GPU library may pick FFT or Winograd convolutions, which round.
    return (evaluate(network, _fixed(x.cpu(), ACTIVATION_BITS)) / ONE).to(x.device)
