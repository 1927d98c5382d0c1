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

Here τ falls geometrically from 0.5 to 0.05 over the steps (the paper's schedule is exponential
in the step as well), Adam moves the latents, and every ``check_every`` steps the *exact* loss
(true rounding, the model's likelihoods) is evaluated: the latents returned are the best seen,
the encoder's own among them, so refinement never returns a worse R + λ·D than no refinement.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..entropy.quantization import quantize
from ..errors import InputError, ModelError
from .base import LearnedCodec, Rounding

MAX_REFINE_PIXELS = 1 << 22     # the optimisation keeps every activation for the backward pass
TAU_START, TAU_END = 0.5, 0.05
_EPS = 1e-4


@dataclass
class RefinementResult:
    """The latents to code and the exact loss (bits per pixel + λ·D) before and after."""

    latents: dict[str, torch.Tensor]
    initial_loss: float
    final_loss: float
    steps: int


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


exact_rounding: Rounding = quantize
"""round(v − μ) + μ: what the coder transmits."""


def rate_distortion(codec: LearnedCodec, latents: dict[str, torch.Tensor], rounding: Rounding,
                    x: torch.Tensor, lmbda: float, metric: str) -> torch.Tensor:
    """bits per pixel + λ·D of ``x`` (unpadded) when ``latents`` are rounded by ``rounding``;
    D as in training: 255²·MSE, or 1 − MS-SSIM (:mod:`mmcodec.train.losses`)."""
    out = codec.relaxed_forward(latents, rounding)
    height, width = x.shape[-2:]
    x_hat = out["x_hat"][..., :height, :width]
    bits = sum(-torch.log2(p).sum() for p in out["likelihoods"].values())
    if metric == "mse":
        distortion = 255.0 ** 2 * torch.mean((x_hat - x) ** 2)
    else:
        from pytorch_msssim import ms_ssim
        distortion = 1 - ms_ssim(x_hat.clamp(0, 1), x, data_range=1.0)
    return bits / (height * width) + lmbda * distortion


def refine_latents(codec: LearnedCodec, padded: torch.Tensor, height: int, width: int, lmbda: float,
                   metric: str, steps: int, learning_rate: float = 0.01, check_every: int = 10,
                   seed: int = 0) -> RefinementResult:
    """Refine the latents of ``padded`` (the image padded for the codec, its own pixels in the
    top-left ``height`` × ``width``) by ``steps`` SGA steps; deterministic for a given ``seed``."""
    if not codec.refinable:
        raise ModelError(f"the '{codec.name}' architecture does not support latent refinement")
    if steps < 1:
        raise InputError("refinement needs at least one step")
    if lmbda <= 0 or metric not in ("mse", "ms-ssim"):
        raise ModelError(f"refinement needs the model's λ and an MSE or MS-SSIM objective "
                         f"(the model has λ={lmbda}, metric {metric})")
    if padded.shape[-2] * padded.shape[-1] > MAX_REFINE_PIXELS:
        raise InputError(f"refinement is limited to {MAX_REFINE_PIXELS} pixels "
                         f"({padded.shape[-1]}x{padded.shape[-2]} after padding); code larger images without it")
    if metric == "ms-ssim" and min(height, width) < 161:
        raise InputError("MS-SSIM refinement needs images of at least 161 pixels on each side")
    x = padded[..., :height, :width]
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        start = codec.initial_latents(padded)
        initial = float(rate_distortion(codec, start, exact_rounding, x, lmbda, metric))
    best, best_loss = {k: v.clone() for k, v in start.items()}, initial
    latents = {k: v.clone().requires_grad_(True) for k, v in start.items()}
    optimizer = torch.optim.Adam(latents.values(), lr=learning_rate)
    for step in range(steps):
        tau = TAU_START * (TAU_END / TAU_START) ** (step / max(1, steps - 1))
        loss = rate_distortion(codec, latents, annealed_rounding(tau, generator), x, lmbda, metric)
        grads = torch.autograd.grad(loss, list(latents.values()))    # no gradients into the weights
        for value, grad in zip(latents.values(), grads):
            value.grad = grad
        optimizer.step()
        if (step + 1) % check_every == 0 or step + 1 == steps:
            with torch.no_grad():
                exact = float(rate_distortion(codec, latents, exact_rounding, x, lmbda, metric))
            if math.isfinite(exact) and exact < best_loss:
                best, best_loss = {k: v.detach().clone() for k, v in latents.items()}, exact
    return RefinementResult(best, initial, best_loss, steps)
