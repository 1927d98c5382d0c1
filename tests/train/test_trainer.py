"""The trainer's warning on crops too small for a model's coarsest level."""
from mmcodec.train.config import TrainConfig
from mmcodec.train.trainer import train

from .test_checkpoint import make_data


def _train_one_step(tmp_path, architecture: str) -> None:
    train(TrainConfig(architecture=architecture, model_config={"n": 8, "m": 12}, data=str(tmp_path / "data"),
                      run_dir=str(tmp_path / architecture), crop=64, batch_size=1, steps=1, checkpoint_every=1,
                      validation_fraction=0.0, progress=False, threads=1))


def test_crops_of_one_coarsest_unit_are_warned_about(tmp_path, capsys) -> None:
    make_data(tmp_path / "data")
    _train_one_step(tmp_path, "mean-scale")      # padding multiple 64: a 64² crop makes z one sample
    warned = capsys.readouterr().err
    assert "warning: 64² crops are one unit of mean-scale's coarsest level (padding multiple 64)" in warned
    _train_one_step(tmp_path, "factorized")      # padding multiple 16: four units a side
    assert "warning" not in capsys.readouterr().err
