"""DDP on CPU: two gloo processes train in lock-step and rank 0 alone writes the run."""
import os
import socket

import numpy as np
import torch
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file

from mmcodec.modalities.image import Image, write_image
from mmcodec.train import distributed
from mmcodec.train.config import TrainConfig
from mmcodec.train.trainer import train_process


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(rank: int, world_size: int, port: int, root: str) -> None:
    os.environ.update({"RANK": str(rank), "WORLD_SIZE": str(world_size), "LOCAL_RANK": str(rank),
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    torch.set_num_threads(1)
    config = TrainConfig(architecture="mean-scale", model_config={"n": 8, "m": 12}, data=f"{root}/data",
                         run_dir=f"{root}/run", crop=64, batch_size=2, steps=3, checkpoint_every=10,
                         validation_fraction=0.0, progress=False, seed=rank)  # seeds differ on purpose
    context = distributed.start()
    try:
        _, model = train_process(config, context)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, f"{root}/rank{rank}.safetensors")
    finally:
        distributed.stop(context)


def test_two_process_gloo_training_stays_in_sync(tmp_path) -> None:
    (tmp_path / "data").mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        write_image(tmp_path / "data" / f"{i}.png", Image(rng.integers(0, 256, (80, 80, 3), dtype=np.uint8), 8))
    mp.spawn(worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    first, second = load_file(str(tmp_path / "rank0.safetensors")), load_file(str(tmp_path / "rank1.safetensors"))
    for key in first:
        assert torch.equal(first[key], second[key]), key
    assert (tmp_path / "run" / "checkpoint.safetensors").exists()
    assert len((tmp_path / "run" / "log.csv").read_text().splitlines()) == 1  # header only: 3 < log_every
