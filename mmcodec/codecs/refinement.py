"""Encoder-side latent refinement: optimise one image's latents for R + λ·D before coding them.

The analysis transform is trained to be good on average (amortised inference); for one given
image a better ŷ usually exists. Yang, Marino, Mandt, "Improving Inference for Neural Image
Compression" (arXiv 2006.04240, sec. 3) close this amortisation gap at encode time by gradient
descent on the latents of the rate–distortion loss (their eq. 2, here eq. 2 of arXiv 1802.01436:
L = R + λ·D), with rounding replaced by *stochastic Gumbel annealing* (SGA, their sec. 3.3):
each element u = v − μ is rounded down or up at random with the relaxed one-hot probabilities

    π_floor ∝ exp(−atanh(u − ⌊u⌋) / τ),   π_ceil ∝ exp(−atanh(⌈u⌉ − u) / τ),

sampled by the Gumbel-softmax trick (Jang et al., arXiv 1611.01144) at temperature τ, which is
annealed towards 0 so that the relaxation ends close to true rounding. The decoder is untouched:
the refined latents are coded exactly as :meth:`LearnedCodec.compress` codes its own, so any
decoder reads the files.

Here τ falls geometrically from 0.5 to 0.15 over the steps (the paper's schedule is exponential
in the step as well) and Adam moves the latents with steps of 0.01: the schedule that lowered R + λ·D
most on whole training images (``benchmarks/refinement_schedule.py``). Every ``check_every`` steps
the *exact* loss (true rounding, the model's likelihoods) is evaluated: the latents returned are
the best seen, the encoder's own among them, so refinement never returns a worse R + λ·D than no refinement.

D is the model's training distortion (:func:`mmcodec.train.losses.rate_distortion_loss`) with one
change for depth maps: hole pixels add no error (``valid``), since the holes travel exactly in their
own stream and the decoder overwrites whatever the codec put there, so the refined latents need
not spend bits on the hole-filled values. A conditioned codec's side information (the features of
the decoded colour for ``rgb-conditional-depth``) is computed once and held fixed. For the
channel-conditional codecs (ms2020, LIC-TCM and the RGB-D thesis's fusion models) each slice of
y is rounded around its own μ, which the relaxed slices before it predict.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..entropy.quantization import quantize
from ..errors import InputError, ModelError
from ..train.losses import rate_distortion_loss
from .base import CodedLatents, LearnedCodec, Rounding

REFINABLE_METRICS = ("mse", "ms-ssim", "comprehensive-similarity")   # the training distortions
MAX_REFINE_PIXELS = 1 << 22     # the optimisation keeps every activation for the backward pass
MAX_REFINE_STEPS = 10_000        # ≈ 45 min for a Kodak image on 2 CPU cores; the gain flattens long before
TAU_START, TAU_END = 0.5, 0.15
LEARNING_RATE = 0.01
REFINEMENT_SCHEDULE = f"SGA, Adam {LEARNING_RATE}, tau {TAU_START} to {TAU_END}"
"""Names the schedule in results, so that results refined by another one are not reused."""
_EPS = 1e-4


@dataclass
class RefinementResult:
    """The latents to code (with the codec's side information) and the exact loss (bits per
    pixel + λ·D) before and after."""

    latents: dict[str, torch.Tensor]
    initial_loss: float
    final_loss: float
    side: object = None


def annealed_rounding(tau: float, generator: torch.Generator) -> Rounding:
    """A differentiable random rounding of v around μ (SGA, arXiv 2006.04240 sec. 3.3)."""

    def rounding(values: torch.Tensor, means: torch.Tensor | None) -> torch.Tensor:
        offset = values - means if means is not None else values
        floor = torch.floor(offset).detach()
        frac = offset - floor                                      # in [0, 1), carries the gradient
        logits = torch.stack([-torch.atanh(frac.clamp(_EPS, 1 - _EPS)),
                              -torch.atanh((1 - frac).clamp(_EPS, 1 - _EPS))], dim=-1) / tau
        uniform = torch.rand(logits.shape, generator=generator).to(logits.device).clamp(1e-10, 1 - 1e-7)
        gumbel = -torch.log(-torch.log(uniform))
        ceil_weight = torch.softmax((logits + gumbel) / tau, dim=-1)[..., 1]
        rounded = floor + ceil_weight
        return rounded + means if means is not None else rounded

    return rounding


def refined_name(name: str, steps: int) -> str:
    """How results of coding with ``steps`` refinement steps are named: ``<name>+refine<steps>``
    (``name`` itself without refinement)."""
    return f"{name}+refine{steps}" if steps else name


exact_rounding: Rounding = quantize
"""round(v − μ) + μ: what the coder transmits."""


def rate_distortion(codec: LearnedCodec, latents: dict[str, torch.Tensor], rounding: Rounding,
                    x: torch.Tensor, lmbda: float, metric: str, side: object = None,
                    valid: torch.Tensor | None = None) -> torch.Tensor:
    """The training objective (:func:`mmcodec.train.losses.rate_distortion_loss`: bits per pixel
    + λ·D) of ``x`` (unpadded) when ``latents`` are rounded by ``rounding``. Pixels where
    ``valid`` is False (depth holes, restored exactly from their own stream) add no distortion."""
    out = codec.relaxed_forward(latents, rounding, side)
    height, width = x.shape[-2:]
    x_hat = out["x_hat"][..., :height, :width]
    if valid is not None:
        x_hat = torch.where(valid, x_hat, x[:, : x_hat.shape[1]])
    return rate_distortion_loss({"x_hat": x_hat, "likelihoods": out["likelihoods"]}, x, lmbda, metric)["loss"]


def refine_latents(codec: LearnedCodec, padded: torch.Tensor, height: int, width: int, lmbda: float,
                   metric: str, steps: int, learning_rate: float = LEARNING_RATE, check_every: int = 10,
                   seed: int = 0, valid: torch.Tensor | None = None, tau_end: float = TAU_END) -> RefinementResult:
    """Refine the latents of ``padded`` (the input padded for the codec, its own pixels in the
    top-left ``height`` × ``width``) by ``steps`` SGA steps; deterministic for a given ``seed``.
    ``valid`` (bool, 1 × 1 × ``height`` × ``width``) marks the pixels whose error counts (depth:
    not a hole); ``learning_rate`` (Adam's) and ``tau_end`` (the last temperature) are the
    schedule's knobs (``benchmarks/refinement_schedule.py``). Code the result with
    ``codec.compress_latents(result.latents, result.side)``."""
    if not codec.refinable:
        raise ModelError(f"the '{codec.name}' architecture does not support latent refinement")
    if steps < 1:
        raise InputError("refinement needs at least one step")
    if steps > MAX_REFINE_STEPS:
        raise InputError(f"refinement is limited to {MAX_REFINE_STEPS} steps (asked for {steps})")
    if lmbda <= 0 or metric not in REFINABLE_METRICS:
        raise ModelError(f"refinement needs the model's λ and an MSE, MS-SSIM or comprehensive-similarity objective "
                         f"(the model has λ={lmbda}, metric {metric})")
    if padded.shape[-2] * padded.shape[-1] > MAX_REFINE_PIXELS:
        raise InputError(f"refinement is limited to {MAX_REFINE_PIXELS} pixels "
                         f"({padded.shape[-1]}x{padded.shape[-2]} after padding); code larger images without it")
    if metric == "ms-ssim" and min(height, width) < 161:
        raise InputError("MS-SSIM refinement needs images of at least 161 pixels on each side")
    if valid is not None and tuple(valid.shape[-2:]) != (height, width):
        raise InputError(f"the valid-pixel mask is {valid.shape[-1]}x{valid.shape[-2]}, the input {width}x{height}")
    x = padded[..., :height, :width]
    generator = torch.Generator().manual_seed(seed)
    side = codec.side_information(padded)

    def loss(latents: dict[str, torch.Tensor], rounding: Rounding) -> torch.Tensor:
        return rate_distortion(codec, latents, rounding, x, lmbda, metric, side, valid)

    with torch.no_grad():
        start = codec.initial_latents(padded)
        initial = float(loss(start, exact_rounding))
    best, best_loss = {k: v.clone() for k, v in start.items()}, initial
    latents = {k: v.clone().requires_grad_(True) for k, v in start.items()}
    optimizer = torch.optim.Adam(latents.values(), lr=learning_rate)
    for step in range(steps):
        tau = TAU_START * (tau_end / TAU_START) ** (step / max(1, steps - 1))
        relaxed = loss(latents, annealed_rounding(tau, generator))
        grads = torch.autograd.grad(relaxed, list(latents.values()))    # no gradients into the weights
        for value, grad in zip(latents.values(), grads):
            value.grad = grad
        optimizer.step()
        if (step + 1) % check_every == 0 or step + 1 == steps:
            with torch.no_grad():
                exact = float(loss(latents, exact_rounding))
            if math.isfinite(exact) and exact < best_loss:
                best, best_loss = {k: v.detach().clone() for k, v in latents.items()}, exact
    return RefinementResult(best, initial, best_loss, side)


def compress_refined(codec: LearnedCodec, padded: torch.Tensor, height: int, width: int, lmbda: float,
                     metric: str, steps: int, valid: torch.Tensor | None = None) -> CodedLatents:
    """``codec.compress(padded)``, with the latents first refined for ``steps`` steps if > 0."""
    if not steps:
        return codec.compress(padded)
    refined = refine_latents(codec, padded, height, width, lmbda, metric, steps, valid=valid)
    return codec.compress_latents(refined.latents, refined.side)
