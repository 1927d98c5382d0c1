"""Training checkpoints without pickles: tensors in safetensors, everything else in JSON.

Holds the model, both optimizers (main and auxiliary), the step and the torch RNG state, so a
run resumes exactly where it stopped.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..errors import ModelError


def _flatten_optimizer(prefix: str, optimizer: torch.optim.Optimizer, tensors: dict, meta: dict) -> None:
    state = optimizer.state_dict()
    meta[prefix] = {"param_groups": state["param_groups"], "state": {}}
    for pid, entries in state["state"].items():
        meta[prefix]["state"][str(pid)] = {}
        for key, value in entries.items():
            if torch.is_tensor(value):
                tensors[f"{prefix}.{pid}.{key}"] = value.detach().cpu().contiguous()
                meta[prefix]["state"][str(pid)][key] = "tensor"
            else:
                meta[prefix]["state"][str(pid)][key] = value


def _restore_optimizer(prefix: str, optimizer: torch.optim.Optimizer, tensors: dict, meta: dict) -> None:
    saved = meta[prefix]
    state = {}
    for pid, entries in saved["state"].items():
        state[int(pid)] = {k: (tensors[f"{prefix}.{pid}.{k}"] if v == "tensor" else v) for k, v in entries.items()}
    optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})


def save_checkpoint(path: Path, model: torch.nn.Module, optimizers: dict[str, torch.optim.Optimizer],
                    step: int, extra: dict | None = None) -> None:
    """Write ``path`` (.safetensors) and ``path.json`` atomically (temp file + rename)."""
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    meta: dict = {"step": step, "extra": extra or {}}
    for name, optimizer in optimizers.items():
        _flatten_optimizer(name, optimizer, tensors, meta)
    tensors["rng.torch"] = torch.get_rng_state()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp))
    os.replace(tmp, path)
    json_tmp = path.with_suffix(".json.tmp")
    json_tmp.write_text(json.dumps(meta))
    os.replace(json_tmp, path.with_suffix(".json"))


def load_checkpoint(path: Path, model: torch.nn.Module, optimizers: dict[str, torch.optim.Optimizer]) -> dict:
    """Restore what :func:`save_checkpoint` wrote; returns its metadata (``step``, ``extra``)."""
    path = Path(path)
    tensors = load_file(str(path))
    meta = json.loads(path.with_suffix(".json").read_text())
    model.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")})
    for name, optimizer in optimizers.items():
        _restore_optimizer(name, optimizer, tensors, meta)
    torch.set_rng_state(tensors["rng.torch"])
    return meta


def read_model_weights(path: Path) -> dict[str, torch.Tensor]:
    """The model's state dict (float32) from a training checkpoint (``model.*`` keys) or a zoo file;
    :class:`ModelError` when the file is missing or not safetensors."""
    if not path.is_file():
        raise ModelError(f"no weights file at {path}")
    try:
        tensors = load_file(str(path))
    except SafetensorError as exc:
        raise ModelError(f"{path}: not a safetensors weights file ({exc})") from None
    if any(k.startswith("model.") for k in tensors):
        tensors = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    return {k: v.float() if v.is_floating_point() else v for k, v in tensors.items()}
