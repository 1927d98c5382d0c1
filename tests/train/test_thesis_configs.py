"""Every thesis recipe in configs/thesis/ trains: one step of each, with the tiny LIC-TCM test
configuration in place of N = 64, on a tiny real RGB-D folder (the depth baseline first: the
Convolutional MM-LIC-TCM starts from it and freezes its depth path)."""
from pathlib import Path

import pytest

from mmcodec.codecs import TCMCodec
from mmcodec.train import distributed
from mmcodec.train.config import load_config
from mmcodec.train.trainer import train_process

from .rgbd_folder import KITCHEN, make_rgbd_folder

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "thesis"
ORDER = ["depth-baseline", "rgb-baseline", "tcm-4c-depth", "tcm-4c-rgb", "mm-tcm-conv", "mm-tcm-attention"]
pytestmark = pytest.mark.skipif(not KITCHEN.is_dir(), reason="shared datasets not available")


def test_the_recipe_set_is_complete():
    assert sorted(p.stem for p in CONFIGS.glob("*.yaml")) == sorted(ORDER)


def test_every_thesis_recipe_runs_one_step(tmp_path):
    data = make_rgbd_folder(tmp_path / "data", frames=(0, 4))
    runs = {}
    for name in ORDER:
        base = load_config(CONFIGS / f"{name}.yaml")
        tiny = dict(TCMCodec.test_config)
        tiny.update({k: v for k, v in base.model_config.items() if k not in ("n",)})
        overrides = {"model_config": tiny, "data": str(data), "test_fraction": 0.0, "validation_fraction": 0.0,
                     "crop": 64, "batch_size": 1, "steps": 1, "workers": 0, "progress": False, "threads": 1,
                     "run_dir": str(tmp_path / name)}
        if base.depth_baseline:
            overrides["depth_baseline"] = str(runs["depth-baseline"] / "checkpoint.safetensors")
        config = load_config(CONFIGS / f"{name}.yaml", **overrides)
        checkpoint, model = train_process(config, distributed.Distributed())
        runs[name] = checkpoint.parent
        assert model.out_channels == (1 if config.target == "depth" else 3), name
        if name == "mm-tcm-conv":
            frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
            assert frozen and all(model.is_shared(n) for n in frozen)
