"""Untrained small depth models exported as weights files, for the depth API and CLI tests."""
from pathlib import Path

import torch

from mmcodec.codecs import create
from mmcodec.zoo import DEFAULT_MODEL, export_model

FRAME = Path(__file__).resolve().parents[1] / "../shared/datasets/rgbd/redkitchen/frame-000000"


def export_tiny_depth_models(folder: Path) -> dict[str, Path]:
    """``{"depth-mean-scale": path, "rgb-conditional-depth": path}`` (N = 16, M = 24; the
    conditional one records the default RGB model as its context model)."""
    paths = {}
    for name in ("depth-mean-scale", "rgb-conditional-depth"):
        torch.manual_seed(0)
        paths[name] = folder / f"{name}.safetensors"
        export_model(create(name, n=16, m=24), paths[name], f"{name}-test", 1, 32.0,
                     context_model=DEFAULT_MODEL if name.startswith("rgb") else None)
    return paths
