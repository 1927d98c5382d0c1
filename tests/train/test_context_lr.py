"""A k× learning rate for the colour-reading weights of a conditioned depth model: which elements
are boosted, and that their Adam step is exactly k× while every other element's is unchanged."""
from __future__ import annotations

import copy

import pytest
import torch

from mmcodec.codecs import create
from mmcodec.train.context_lr import ContextStepBoost

CONFIG = {"n": 8, "m": 12}


def test_masks_cover_exactly_what_a_depth_only_model_lacks() -> None:
    model = create("rgb-conditional-depth", **CONFIG, prior_residual=True)
    masks = model.context_weight_masks()
    first = masks["g_a.0.weight"]                       # [n, 1 + 3, k, k]: the colour's input channels
    assert not first[:, :1].any() and first[:, 1:].all()
    up = masks["g_s.ups.0.weight"]                      # transposed conv [m + m_context, n, k, k]
    assert not up[:12].any() and up[12:].all()
    assert all(masks[name].all() for name in masks if name.startswith(("context.", "entropy_parameters.")))
    assert not any(name.startswith(("h_a.", "h_s.", "z_model.")) for name in masks)
    assert create("depth-mean-scale", **CONFIG).context_weight_masks() == {}


def test_boosted_elements_take_k_times_the_step_and_the_others_the_same() -> None:
    torch.manual_seed(0)
    plain = create("rgb-conditional-depth", **CONFIG, prior_residual=True).train()
    boosted = copy.deepcopy(plain)
    x = torch.rand(2, 4, 64, 64)
    steps = {}
    for name, model, factor in (("plain", plain, 1.0), ("boosted", boosted, 10.0)):
        before = {n: p.detach().clone() for n, p in model.named_parameters()}
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        boost = ContextStepBoost(model, factor)
        torch.manual_seed(1)                            # the same noise in both forward passes
        out = model(x)
        loss = sum(-torch.log2(p).sum() for p in out["likelihoods"].values()) + ((out["x_hat"] - x[:, :1]) ** 2).sum()
        loss.backward()
        boost.before_step()
        optimizer.step()
        boost.after_step()
        steps[name] = {n: p.detach() - before[n] for n, p in model.named_parameters()}
    masks = plain.context_weight_masks()
    for name, step in steps["plain"].items():
        mask = masks.get(name, torch.zeros_like(step, dtype=torch.bool))
        expected = torch.where(mask, 10 * step, step)
        torch.testing.assert_close(steps["boosted"][name], expected, rtol=1e-4, atol=1e-9)
    assert any(masks[n].any() and steps["plain"][n][masks[n]].abs().sum() > 0 for n in masks)


def test_refused_without_a_context_or_with_a_bad_factor() -> None:
    with pytest.raises(ValueError, match="conditioned on a colour context"):
        ContextStepBoost(create("depth-mean-scale", **CONFIG), 10.0)
    with pytest.raises(ValueError, match="positive"):
        ContextStepBoost(create("rgb-conditional-depth", **CONFIG), 0.0)


def test_the_trainer_refuses_the_factor_for_an_unconditioned_model(tmp_path) -> None:
    from mmcodec.train.config import TrainConfig
    from mmcodec.train.trainer import train

    from .test_checkpoint import make_data

    make_data(tmp_path / "data")
    config = TrainConfig(architecture="depth-mean-scale", model_config=CONFIG, data=str(tmp_path / "data"),
                         run_dir=str(tmp_path / "run"), crop=64, batch_size=2, steps=1, validation_fraction=0.0,
                         progress=False, context_lr_factor=3.0)
    with pytest.raises(ValueError, match="conditioned on a colour context"):
        train(config)
