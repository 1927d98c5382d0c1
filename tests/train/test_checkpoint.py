"""Training resumes exactly: N steps in one go equal k steps, a checkpoint, and N - k more."""
import json

import numpy as np
import torch

from mmcodec.codecs import create
from mmcodec.modalities.image import Image, write_image
from mmcodec.train import distributed
from mmcodec.train.checkpoint import load_checkpoint
from mmcodec.train.config import TrainConfig
from mmcodec.train.trainer import train, train_process


def make_data(folder) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir()
    for i in range(3):
        write_image(folder / f"{i}.png", Image(rng.integers(0, 256, (70, 72, 3), dtype=np.uint8), 8))


def run(tmp_path, name: str, steps: int) -> dict:
    config = TrainConfig(architecture="mean-scale", model_config={"n": 8, "m": 12}, data=str(tmp_path / "data"),
                         run_dir=str(tmp_path / name), crop=64, batch_size=2, steps=steps, checkpoint_every=2,
                         learning_rate=1e-3, milestones=[3], validation_fraction=0.0, progress=False)
    path = train(config)
    model = create("mean-scale", n=8, m=12)
    load_checkpoint(path, model, {})
    return model.state_dict()


def test_resume_is_exact(tmp_path) -> None:
    make_data(tmp_path / "data")
    straight = run(tmp_path, "straight", 5)
    run(tmp_path, "resumed", 2)
    resumed = run(tmp_path, "resumed", 5)
    for key, value in straight.items():
        assert torch.equal(value, resumed[key]), key
    log = (tmp_path / "resumed" / "log.csv").read_text().splitlines()
    assert log[0].startswith("step,loss,bpp")
    assert json.loads((tmp_path / "resumed" / "config.json").read_text())["steps"] == 5


def test_worker_processes_feed_a_grey_model(tmp_path) -> None:
    make_data(tmp_path / "data")
    config = TrainConfig(architecture="factorized", model_config={"n": 8, "m": 12, "in_channels": 1},
                         data=str(tmp_path / "data"),
                         run_dir=str(tmp_path / "workers"), crop=32, batch_size=2, steps=2, workers=2,
                         validation_fraction=0.5, validate_every=1, log_every=1, progress=False)
    train(config)
    rows = (tmp_path / "workers" / "log.csv").read_text().splitlines()
    assert len(rows) == 3 and rows[1].split(",")[-1] != ""  # two steps logged, with validation scores


def test_init_from_starts_a_new_run_from_other_weights(tmp_path) -> None:
    make_data(tmp_path / "data")
    first = run(tmp_path, "first", 2)
    config = TrainConfig(architecture="mean-scale", model_config={"n": 8, "m": 12}, data=str(tmp_path / "data"),
                         run_dir=str(tmp_path / "second"), crop=64, batch_size=2, steps=0, checkpoint_every=2,
                         validation_fraction=0.0, progress=False,
                         init_from=str(tmp_path / "first" / "checkpoint.safetensors"))
    _, model = train_process(config, distributed.Distributed())
    for key, value in model.state_dict().items():
        assert torch.equal(value, first[key]), key


def test_snapshots_keep_the_weights_of_every_nth_step(tmp_path) -> None:
    from mmcodec.train.export import export_run
    from mmcodec.train.trainer import snapshot_path
    from mmcodec.zoo import load_model

    make_data(tmp_path / "data")
    config = TrainConfig(architecture="mean-scale", model_config={"n": 8, "m": 12}, data=str(tmp_path / "data"),
                         run_dir=str(tmp_path / "snapped"), crop=64, batch_size=2, steps=5, checkpoint_every=2,
                         snapshot_every=2, learning_rate=1e-3, milestones=[3], validation_fraction=0.0,
                         progress=False)
    train(config)
    snapshots = sorted((tmp_path / "snapped" / "snapshots").glob("*.safetensors"))
    assert snapshots == [snapshot_path(tmp_path / "snapped", 2), snapshot_path(tmp_path / "snapped", 4)]
    two_steps = run(tmp_path, "two", 2)                     # the same run stopped at step 2
    model = create("mean-scale", n=8, m=12)
    assert load_checkpoint(snapshots[0], model, {})["step"] == 2
    for key, value in two_steps.items():
        assert torch.equal(value, model.state_dict()[key]), key
    entry = export_run(tmp_path / "snapped", "snapshot-4", 1, tmp_path / "zoo", checkpoint=snapshots[1])
    exported = load_model(entry)
    load_checkpoint(snapshots[1], model, {})
    assert torch.allclose(exported.g_a[0].weight, model.g_a[0].weight, atol=1e-2)   # fp16 storage
    assert not torch.equal(model.g_a[0].weight, two_steps["g_a.0.weight"])        # step 4, not step 2
