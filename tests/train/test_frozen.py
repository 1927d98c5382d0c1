"""The ``frozen`` setting: named parts stay fixed through training, the rest learns."""
import pytest
import torch
from safetensors.torch import load_file, save_file

from mmcodec.codecs import create
from mmcodec.train.config import TrainConfig
from mmcodec.train.frozen import freeze_parameters
from mmcodec.train.trainer import train

from .test_checkpoint import make_data


def test_freezes_by_prefix_and_refuses_a_prefix_that_names_nothing() -> None:
    model = create("ms2020", n=16, m=40)
    count = freeze_parameters(model, ["g_a.", "g_s."])
    assert count == sum(p.numel() for n, p in model.named_parameters() if n.startswith(("g_a.", "g_s.")))
    assert all(p.requires_grad == (not n.startswith(("g_a.", "g_s."))) for n, p in model.named_parameters())
    with pytest.raises(ValueError, match="'g_x.'"):
        freeze_parameters(model, ["g_x."])


def test_a_run_from_mean_scale_transforms_keeps_them_and_trains_the_entropy_model(tmp_path) -> None:
    make_data(tmp_path / "data")
    torch.manual_seed(2)
    source = create("mbt2018-mean", n=16, m=40)
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, tmp_path / "source.safetensors")
    run = tmp_path / "run"
    train(TrainConfig(architecture="ms2020", model_config={"n": 16, "m": 40}, data=str(tmp_path / "data"),
                      run_dir=str(run), crop=64, batch_size=1, steps=2, checkpoint_every=2, validation_fraction=0.0,
                      progress=False, threads=1, init_from=str(tmp_path / "source.safetensors"),
                      frozen=["g_a.", "g_s."], learning_rate=1e-3))
    trained = {k.removeprefix("model."): v for k, v in load_file(run / "checkpoint.safetensors").items()
               if k.startswith("model.")}
    start = create("ms2020", n=16, m=40)
    start.load_initial_weights(source.state_dict())
    initial = start.state_dict()
    moved = {k for k in initial if k in trained and not torch.equal(trained[k], initial[k])}
    assert moved and not any(k.startswith(("g_a.", "g_s.")) for k in moved)
    assert all(torch.equal(trained[k], source.state_dict()[k]) for k in initial if k.startswith(("g_a.", "g_s.")))
