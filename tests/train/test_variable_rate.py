"""Variable-rate training (Kao et al., arXiv 2305.10807): λ drawn per image, fed to the
Attention MM-LIC-TCM as its λ map, each image's loss weighed by its own λ."""
import csv
from pathlib import Path

import pytest

from mmcodec.codecs import TCMCodec
from mmcodec.errors import InputError
from mmcodec.train import distributed
from mmcodec.train.config import TrainConfig, load_config
from mmcodec.train.trainer import train_process

from .rgbd_folder import KITCHEN, make_rgbd_folder

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "mm-tcm-attention-variable-rate.yaml"


def attention_config(tmp_path, data, **extra) -> TrainConfig:
    values = dict(architecture="mm-tcm-attention", model_config=dict(TCMCodec.test_config), dataset="rgbd",
                  data=str(data), target="rgb", context="depth", test_fraction=0.0, validation_fraction=0.5,
                  run_dir=str(tmp_path / "run"), lmbda=0.013, crop=64, batch_size=2, steps=2,
                  validate_every=1, log_every=1, checkpoint_every=1, progress=False, threads=1)
    values.update(extra)
    return TrainConfig(**values)


@pytest.mark.skipif(not KITCHEN.is_dir(), reason="shared datasets not available")
def test_a_variable_rate_run_trains_and_validates(tmp_path) -> None:
    data = make_rgbd_folder(tmp_path / "data")
    shipped = load_config(CONFIG)
    assert shipped.architecture == "mm-tcm-attention" and shipped.variable_rate == [0.0025, 0.05]
    config = attention_config(tmp_path, data, variable_rate=shipped.variable_rate)
    _, model = train_process(config, distributed.Distributed())
    assert model.g_a.prompt_lambda == model.prompt_lambda            # no per-image λ left behind
    rows = list(csv.DictReader((tmp_path / "run" / "log.csv").open()))
    assert [row["step"] for row in rows] == ["1", "2"]
    assert all(float(row["loss"]) > 0 and float(row["val_loss"]) > 0 for row in rows)


def test_variable_rate_needs_a_model_with_a_lambda_input(tmp_path) -> None:
    config = attention_config(tmp_path, tmp_path, architecture="tcm", dataset="images", variable_rate=[0.002, 0.05])
    with pytest.raises(ValueError, match="λ input"):
        train_process(config, distributed.Distributed())


@pytest.mark.parametrize("bounds", ["[0.05, 0.0025]", "[0, 0.05]", "[0.01]"])
def test_variable_rate_bounds_are_checked(tmp_path, bounds: str) -> None:
    (tmp_path / "c.yaml").write_text(f"variable_rate: {bounds}\n")
    with pytest.raises(InputError, match="variable_rate"):
        load_config(tmp_path / "c.yaml")
