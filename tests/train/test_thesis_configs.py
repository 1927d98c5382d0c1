"""Every thesis recipe in configs/thesis/ trains and exports into its results table: one step of
each, with the tiny LIC-TCM test configuration in place of N = 64, on a tiny real RGB-D folder (the
depth baseline first: the Convolutional MM-LIC-TCM starts from it and freezes its depth path)."""
from pathlib import Path

import pytest
import torch

from mmcodec.codecs import TCMCodec
from mmcodec.thesis_api import thesis_table_of
from mmcodec.train import distributed
from mmcodec.train.checkpoint import read_model_weights
from mmcodec.train.config import TrainConfig, load_config
from mmcodec.train.trainer import train_process
from mmcodec.zoo import export_model

from .rgbd_folder import KITCHEN, make_rgbd_folder

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "thesis"
ORDER = ["depth-baseline", "rgb-baseline", "tcm-4c-depth", "tcm-4c-rgb", "mm-tcm-conv", "mm-tcm-attention"]
pytestmark = pytest.mark.skipif(not KITCHEN.is_dir(), reason="shared datasets not available")


def test_the_recipe_set_is_complete():
    assert sorted(p.stem for p in CONFIGS.glob("*.yaml")) == sorted(ORDER)


def overrides_of(config: TrainConfig, run_dir: Path) -> dict:
    """The test settings of ``config`` for another run folder."""
    keep = ("model_config", "data", "test_fraction", "validation_fraction", "crop", "batch_size", "steps", "workers",
            "progress", "threads")
    return {**{key: getattr(config, key) for key in keep}, "run_dir": str(run_dir)}


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
        entry = export_model(model, tmp_path / f"{name}.safetensors", f"thesis-{name}", 1, config.lmbda, config.metric)
        table = thesis_table_of(entry)
        assert (table.architecture, table.target) == (config.architecture, config.target), name
        if name == "mm-tcm-conv":
            frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
            assert frozen and all(model.is_shared(n) for n in frozen)
            conv_config = config
    # a Convolutional MM-LIC-TCM started from another λ's (init_from) still takes its depth path
    # from its own λ's baseline (here: another depth baseline), and the rest from init_from
    depth_only = {"model_config": dict(conv_config.model_config, in_channels=1), "seed": 7}
    other = load_config(CONFIGS / "depth-baseline.yaml", **overrides_of(conv_config, tmp_path / "other-baseline")
                        | depth_only)
    other = train_process(other, distributed.Distributed())[0]
    no_steps = overrides_of(conv_config, tmp_path / "conv-2") | {"steps": 0}
    started = load_config(CONFIGS / "mm-tcm-conv.yaml", **no_steps,
                          init_from=str(runs["mm-tcm-conv"] / "checkpoint.safetensors"), depth_baseline=str(other))
    _, model = train_process(started, distributed.Distributed())
    before = read_model_weights(runs["mm-tcm-conv"] / "checkpoint.safetensors")   # (the export above rounded
    mine, baseline = model.state_dict(), read_model_weights(other)                # the model in memory to fp16)
    assert all(torch.equal(mine[k], v) for k, v in before.items() if k.startswith("g_a.rgb."))
    depth_keys = [k for k in mine if k.startswith("g_a.depth.")]
    assert depth_keys and all(torch.equal(mine[k], baseline[k.replace("g_a.depth.", "g_a.", 1)]) for k in depth_keys)
    assert not all(torch.equal(mine[k], before[k]) for k in depth_keys)


def test_the_small_recipes_are_the_thesis_recipes_at_the_cpu_size():
    small_dir = CONFIGS.parent / "thesis-small"
    assert sorted(p.stem for p in small_dir.glob("*.yaml")) == sorted(ORDER)
    for name in ORDER:
        thesis, small = load_config(CONFIGS / f"{name}.yaml"), load_config(small_dir / f"{name}.yaml")
        for key in ("architecture", "target", "context", "lmbda", "metric", "dataset", "data", "test_fraction"):
            assert getattr(small, key) == getattr(thesis, key), (name, key)
        extras = {k: v for k, v in thesis.model_config.items() if k != "n"}
        cpu_size = {k: list(v) if isinstance(v, tuple) else v for k, v in TCMCodec.cpu_config.items()}
        assert small.model_config == {**cpu_size, **extras}, name
        assert small.crop == thesis.crop == 2 * TCMCodec(**TCMCodec.cpu_config).padding_multiple, name
        assert small.batch_size * small.crop ** 2 == 8 * 128 ** 2, name   # the pixels of 8 × 128² a step
        assert small.run_dir == thesis.run_dir.replace("thesis-", "thesis-small-"), name
        if thesis.depth_baseline:
            assert small.depth_baseline == thesis.depth_baseline.replace("thesis-", "thesis-small-"), name
