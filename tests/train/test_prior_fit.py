"""Fitting the factorized priors to the symbols they code (transforms frozen): fewer bits for
the same latents, the same decoded images, and the fit recorded in the weights."""
import dataclasses
import math

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from mmcodec.api import compress, decompress
from mmcodec.codecs import create
from mmcodec.codecs.tcm import TCMCodec
from mmcodec.entropy.factorized import FactorizedEntropyModel
from mmcodec.modalities.image import read_image
from mmcodec.train.config import TrainConfig
from mmcodec.train.export import export_run, prior_fit_lines
from mmcodec.train.prior_fit import (
    bits_per_symbol,
    collect_symbols,
    factorized_priors,
    fit_prior,
    fit_priors_at_start,
    training_crops,
)
from mmcodec.train.trainer import train
from mmcodec.zoo import load_model

from .test_checkpoint import make_data


def test_the_factorized_prior_of_each_kind_of_codec_is_found() -> None:
    assert set(factorized_priors(create("factorized", n=8, m=12))) == {"y"}
    assert set(factorized_priors(create("mean-scale", n=8, m=12))) == {"z"}
    assert set(factorized_priors(create("tcm", **TCMCodec.test_config))) == {"z"}
    assert set(factorized_priors(create("rgb-conditional-depth", n=8, m=12))) == {"z"}


def test_a_fitted_prior_codes_its_symbols_near_their_entropy_and_keeps_its_medians() -> None:
    torch.manual_seed(0)
    prior = FactorizedEntropyModel(3)
    with torch.no_grad():
        prior.quantiles[:, 0, 1] = torch.tensor([0.0, 0.3, -0.2])
    medians = prior.medians.detach().clone()
    probabilities = torch.tensor([0.05, 0.2, 0.5, 0.2, 0.05])        # symbols −2 … 2, the same for each channel
    symbols = (torch.multinomial(probabilities, 3 * 4000, replacement=True) - 2).float().view(4000, 3, 1, 1)
    entropy = -float((probabilities * probabilities.log2()).sum())
    before, after = fit_prior(prior, symbols, steps=600)
    assert before > entropy + 0.3                                     # the untrained density is far off
    assert after < entropy + 0.05 and after == float(bits_per_symbol(prior, symbols).detach())
    torch.testing.assert_close(prior.medians.detach(), medians, rtol=0, atol=0)
    prior.update()
    data, decoded = prior.compress(symbols + medians.view(1, -1, 1, 1))
    assert 8 * len(data) / symbols.numel() < entropy + 0.1            # the real stream, not only the estimate
    torch.testing.assert_close(prior.decompress(data, tuple(symbols.shape)), decoded, rtol=0, atol=0)


def test_export_with_a_fitted_prior_decodes_the_same_pixels_from_fewer_bytes(tmp_path) -> None:
    make_data(tmp_path / "data")
    config = TrainConfig(architecture="mean-scale", model_config={"n": 8, "m": 12}, data=str(tmp_path / "data"),
                         run_dir=str(tmp_path / "run"), crop=64, batch_size=2, steps=3, validation_fraction=0.0,
                         progress=False)
    train(config)
    plain = export_run(tmp_path / "run", "plain", 1, tmp_path / "zoo")
    fitted = export_run(tmp_path / "run", "fitted", 1, tmp_path / "zoo", fit_crops=16)
    assert plain.prior_fit is None
    assert fitted.prior_fit["crops"] == 16 and set(fitted.prior_fit) == {"crops", "z"}
    assert fitted.prior_fit["z"]["bits_after"] < fitted.prior_fit["z"]["bits_before"]
    (line,) = prior_fit_lines(fitted)
    assert "--fit-prior 16" in line and f"z {fitted.prior_fit['z']['bits_before']:.4f} → " in line
    assert prior_fit_lines(plain) == []
    symbols = collect_symbols(load_model(plain), training_crops(config, 16))["z"]
    assert math.isclose(bits_per_symbol(load_model(plain).z_model, symbols).item(),
                        fitted.prior_fit["z"]["bits_before"], rel_tol=1e-3)
    image = read_image(sorted((tmp_path / "data").glob("*.png"))[0])
    plain_file, fitted_file = compress(image, model=str(plain.path)), compress(image, model=str(fitted.path))
    assert len(fitted_file) < len(plain_file)
    np.testing.assert_array_equal(decompress(fitted_file, model=str(fitted.path))["image"],
                                  decompress(plain_file, model=str(plain.path))["image"])


def test_training_crops_are_reproducible_and_leave_the_rng_alone(tmp_path) -> None:
    make_data(tmp_path / "data")
    config = TrainConfig(architecture="mean-scale", model_config={"n": 8, "m": 12}, data=str(tmp_path / "data"),
                         crop=64, validation_fraction=0.0)
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    first = training_crops(config, 4)
    assert torch.equal(torch.rand(3), expected)
    assert all(torch.equal(a, b) for a, b in zip(first, training_crops(config, 4)))
    assert all(c.shape == (1, 3, 64, 64) for c in first) and not torch.equal(first[0], first[1])


def test_a_run_started_from_a_mean_scale_codec_fits_its_prior_of_y_first(tmp_path, capsys) -> None:
    """fit_prior_crops: the factorized codec given a mean-scale codec's transforms codes their
    latents in far fewer bits once its prior is fitted, before the run's first step."""
    make_data(tmp_path / "data")
    torch.manual_seed(6)
    source = create("mbt2018-mean", n=8, m=12)
    with torch.no_grad():
        source.g_a[-1].weight.mul_(30)                                 # latents of a few bits, not all 0
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, tmp_path / "source.safetensors")
    config = TrainConfig(architecture="bmshj2018-factorized", model_config={"n": 8, "m": 12},
                         data=str(tmp_path / "data"), run_dir=str(tmp_path / "run"), crop=64, batch_size=1, steps=1,
                         validation_fraction=0.0, progress=False, threads=1,
                         init_from=str(tmp_path / "source.safetensors"), fit_prior_crops=8)
    torch.manual_seed(config.seed)                                     # as the run creates its model
    codec = create("bmshj2018-factorized", n=8, m=12)
    codec.load_initial_weights(source.state_dict())
    symbols = collect_symbols(codec, training_crops(config, 8))["y"]
    assert symbols.abs().max() >= 3
    untrained = bits_per_symbol(codec.y_model, symbols).item()
    (before, after), = fit_priors_at_start(codec, config, report=False).values()
    assert codec.training and before == pytest.approx(untrained, rel=1e-5) and after < before
    assert bits_per_symbol(codec.y_model, symbols).item() == pytest.approx(after, rel=1e-5)
    capsys.readouterr()
    train(config)
    assert f"prior of y fitted on 8 training crops: {before:.4f} → {after:.4f} bits per element" \
        in capsys.readouterr().err
    train(dataclasses.replace(config, steps=2))                       # resuming does not fit again
    assert "prior of y fitted" not in capsys.readouterr().err
