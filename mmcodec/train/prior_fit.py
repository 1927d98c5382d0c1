"""Fit the factorized priors of a trained codec to the symbols they will code (transforms frozen).

A factorized prior (Ballé et al., arXiv 1802.01436, appendix 6.1; :mod:`mmcodec.entropy.factorized`)
codes the integers k = round(v − m) of its latent v (z of a hyperprior codec, y of the
factorized one) with P(k) = c(m + k + ½) − c(m + k − ½). Training fits c to the *noisy* latent
v + U(−½, ½) at the learning rate of the transforms, and a short run leaves it far from the
distribution of k: the small thesis depth baseline after 3,000 CPU steps codes z at 2.4 bits per
element although every element of it rounds to 0. With the transforms fixed, the bits of a latent are
−Σ log₂ P(k) over the training set's k, a function of the prior alone, which this minimises by
Adam on the density's parameters (matrices, biases, factors of c), with the likelihood evaluated
once per value of each channel's histogram of k. The medians m (the
quantisation offsets, which decide ẑ and so everything the hyper-synthesis predicts from it)
stay where they are; the tail quantiles, which set the coding tables' range, are then fitted
to the new density (:func:`mmcodec.train.export.settle_quantiles`), and the medians restored.

The decoder is untouched and reads the result as any model: only the coding tables change.
The symbols come from random training crops of the run (``fit_crops``), never from test data.
"""
from __future__ import annotations

import sys
from collections.abc import Iterable

import torch

from ..codecs import LearnedCodec
from ..entropy.factorized import FactorizedEntropyModel


def factorized_priors(codec: LearnedCodec) -> dict[str, FactorizedEntropyModel]:
    """The factorized prior of each latent that has one: ``{"z": …}`` (hyperprior codecs) or
    ``{"y": …}`` (the factorized codec)."""
    priors = {}
    for name in ("y", "z"):
        model = getattr(codec, f"{name}_model", None)
        if isinstance(model, FactorizedEntropyModel):
            priors[name] = model
    return priors


@torch.no_grad()
def collect_symbols(codec: LearnedCodec, crops: Iterable[torch.Tensor]) -> dict[str, torch.Tensor]:
    """round(v − m) of every factorized-prior latent of each crop (1 × C × H × W, padded size),
    concatenated along the batch."""
    priors = factorized_priors(codec)
    symbols: dict[str, list[torch.Tensor]] = {name: [] for name in priors}
    for crop in crops:
        latents = codec.initial_latents(codec.pad(crop))
        for name, prior in priors.items():
            symbols[name].append(torch.round(latents[name] - prior.medians.view(1, -1, 1, 1)))
    return {name: torch.cat(values) for name, values in symbols.items()}


def symbol_counts(symbols: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Per-channel histogram of the integer ``symbols`` (N × C × H × W): counts (C × R) over the
    values low … low + R − 1, and low."""
    channels = symbols.shape[1]
    per_channel = symbols.transpose(0, 1).reshape(channels, -1).long()
    low = int(per_channel.min())
    width = int(per_channel.max()) - low + 1
    counts = torch.zeros(channels, width)
    counts.scatter_add_(1, per_channel - low, torch.ones_like(per_channel, dtype=torch.float32))
    return counts, low


def bits_per_symbol(prior: FactorizedEntropyModel, symbols: torch.Tensor) -> torch.Tensor:
    """−mean log₂ P(k) of the integer ``symbols`` (N × C × H × W) under ``prior``."""
    return _mean_bits(prior, *symbol_counts(symbols))


def _mean_bits(prior: FactorizedEntropyModel, counts: torch.Tensor, low: int) -> torch.Tensor:
    """−mean log₂ P(k) from a per-channel histogram: the likelihood is evaluated once per value."""
    values = torch.arange(low, low + counts.shape[1], dtype=torch.float32)
    grid = values.view(1, 1, 1, -1) + prior.medians.detach().view(1, -1, 1, 1)     # 1 × C × 1 × R
    log_p = torch.log2(prior.likelihood(grid))[0, :, 0]
    return -(counts * log_p).sum() / counts.sum()


def fit_prior(prior: FactorizedEntropyModel, symbols: torch.Tensor, steps: int = 1000,
              learning_rate: float = 0.01) -> tuple[float, float]:
    """Fit ``prior``'s density to ``symbols`` (its medians unchanged); returns the bits per
    symbol before and after. The density that codes them best of those seen is kept."""
    from .export import settle_quantiles

    counts, low = symbol_counts(symbols)
    parameters = [*prior.matrices, *prior.biases, *prior.factors]
    with torch.no_grad():
        before = float(_mean_bits(prior, counts, low))
    best, best_bits = [p.detach().clone() for p in parameters], before
    optimizer = torch.optim.Adam(parameters, lr=learning_rate)
    for _ in range(steps):
        loss = _mean_bits(prior, counts, low)
        if loss.item() < best_bits:       # the parameters that gave this loss, before the update
            best, best_bits = [p.detach().clone() for p in parameters], loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        for parameter, value in zip(parameters, best):
            parameter.copy_(value)
        medians = prior.quantiles[:, 0, 1].clone()
    settle_quantiles(prior)
    with torch.no_grad():
        prior.quantiles[:, 0, 1] = medians
        after = float(_mean_bits(prior, counts, low))
    return before, after


def training_crops(config, count: int, seed: int = 0) -> list[torch.Tensor]:
    """``count`` random training crops (1 × C × crop × crop) of a run (``config``: its
    TrainConfig), from the frames or images it trained on (never its held-out ones)."""
    from .data import RandomCropImages, list_images
    from .rgbd_data import rgbd_training_data
    from .validation import split_paths

    if config.dataset == "rgbd":
        data, _ = rgbd_training_data(config, is_main=False)
    else:
        channels = int(config.model_config.get("in_channels", 3))
        train_paths, _ = split_paths(list_images(config.data), config.validation_fraction)
        data = RandomCropImages(train_paths, crop=config.crop, length=count, channels=channels)
    state = torch.get_rng_state()      # the crops' positions come from torch's RNG: seed it, then restore it
    torch.manual_seed(seed)
    try:
        return [data[i][None] for i in range(count)]
    finally:
        torch.set_rng_state(state)


def fit_priors(codec: LearnedCodec, crops: Iterable[torch.Tensor], steps: int = 1000,
               learning_rate: float = 0.01) -> dict[str, tuple[float, float]]:
    """Fit every factorized prior of ``codec`` to the symbols of ``crops``; returns, per
    latent, the bits per symbol before and after."""
    codec.eval()
    symbols = collect_symbols(codec, crops)
    return {name: fit_prior(prior, symbols[name], steps, learning_rate)
            for name, prior in factorized_priors(codec).items()}


def fit_priors_at_start(codec: LearnedCodec, config, report: bool = True) -> dict[str, tuple[float, float]]:
    """Before a new run's first step: fit the factorized priors of ``codec`` (just started from
    ``config.init_from``) to ``config.fit_prior_crops`` random training crops of the run (``config``:
    its TrainConfig; seed ``config.seed``), so that training starts from a prior that knows the
    latents of the transforms it was given. Then the first rate gradients into those transforms
    are the ones of the trained model, not of an untrained density (e.g. a factorized codec started
    from a mean-scale codec's g_a and g_s: its prior of y starts knowing nothing of y)."""
    fits = fit_priors(codec, training_crops(config, config.fit_prior_crops, seed=config.seed))
    codec.train()
    if report:
        for name, (before, after) in fits.items():
            print(f"prior of {name} fitted on {config.fit_prior_crops} training crops: "
                  f"{before:.4f} → {after:.4f} bits per element", file=sys.stderr, flush=True)
    return fits
