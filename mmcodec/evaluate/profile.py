"""Model complexity: parameters, multiply-accumulates per pixel, and coding time.

MACs are counted with forward hooks during one evaluation-mode forward pass (the transforms
and the entropy-parameter networks the coder runs): Conv2d (output elements × input channels /
groups × kernel area), ConvTranspose2d (input elements × output channels / groups × kernel
area), Linear (output elements × input features), GDN's 1×1 normalisation (elements × channels),
and the two matrix products of windowed attention, counted analytically per window
(2 · tokens · window² · width). Element-wise operations (activations, norms, softmax) are not
counted, as is customary. One MAC is two FLOPs.
"""
from __future__ import annotations

import time
from collections import defaultdict

import torch
from torch import nn

from ..layers.gdn import GDN
from ..layers.window_attention import WindowAttention


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (all of them, or only those that require gradients)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def _conv_macs(module: nn.Conv2d, inputs: tuple, output: torch.Tensor) -> int:
    kh, kw = module.kernel_size
    return output.numel() * (module.in_channels // module.groups) * kh * kw


def _deconv_macs(module: nn.ConvTranspose2d, inputs: tuple, output: torch.Tensor) -> int:
    kh, kw = module.kernel_size
    return inputs[0].numel() * (module.out_channels // module.groups) * kh * kw


def _linear_macs(module: nn.Linear, inputs: tuple, output: torch.Tensor) -> int:
    return output.numel() * module.in_features


def _gdn_macs(module: GDN, inputs: tuple, output: torch.Tensor) -> int:
    return output.numel() * output.shape[1]


def _attention_macs(module: WindowAttention, inputs: tuple, output: torch.Tensor) -> int:
    b, h, w, _ = inputs[0].shape
    # Q·Kᵀ and softmax(·)·V: every token meets window² tokens, over all heads' widths
    return 2 * b * h * w * module.window ** 2 * module.heads * module.head_dim


_COUNTERS = [(nn.Conv2d, "conv"), (nn.ConvTranspose2d, "deconv"), (nn.Linear, "linear"),
             (GDN, "gdn"), (WindowAttention, "attention")]
_FUNCTIONS = {"conv": _conv_macs, "deconv": _deconv_macs, "linear": _linear_macs, "gdn": _gdn_macs,
              "attention": _attention_macs}


@torch.no_grad()
def count_macs(model: nn.Module, x: torch.Tensor) -> dict[str, int]:
    """MACs of ``model(x)`` by operation kind (``conv``, ``deconv``, ``linear``, ``gdn``,
    ``attention``) and in total (``total``)."""
    totals: dict[str, int] = defaultdict(int)
    handles = []

    def hook_for(kind: str):
        def hook(module, inputs, output):
            totals[kind] += int(_FUNCTIONS[kind](module, inputs, output))
        return hook

    for module in model.modules():
        for cls, kind in _COUNTERS:
            if isinstance(module, cls):
                handles.append(module.register_forward_hook(hook_for(kind)))
                break
    was_training = model.training
    model.eval()
    try:
        model(x)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    result = {kind: totals.get(kind, 0) for _, kind in _COUNTERS}
    result["total"] = sum(result.values())
    return result


def macs_per_pixel(model: nn.Module, height: int = 256, width: int = 256) -> float:
    """Multiply-accumulates per input pixel of one forward pass on a ``height`` × ``width`` input
    (padded to the model's ``padding_multiple`` if it has one; divided by the unpadded area)."""
    parameter = next(model.parameters())
    x = torch.rand(1, getattr(model, "in_channels", 3), height, width, device=parameter.device)
    if hasattr(model, "pad"):
        x = model.pad(x)
    return count_macs(model, x)["total"] / (height * width)


@torch.no_grad()
def time_coding(model: nn.Module, height: int = 512, width: int = 768, device: str | torch.device = "cpu",
                repeats: int = 1, warmup: int = 1) -> dict[str, float]:
    """Seconds to ``compress`` and to ``decompress`` one random ``height`` × ``width`` image
    (the best of ``repeats`` runs after ``warmup`` untimed ones; coding tables built beforehand).

    Returns ``{"encode_s", "decode_s", "bytes"}``; bytes is the total stream size (random
    pixels, so only a sanity figure).
    """
    device = torch.device(device)
    model = model.to(device).eval()
    model.update()
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(1, model.in_channels, height, width, generator=generator).to(device)
    x = model.pad(x)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    encode, decode = [], []
    coded = None
    for run in range(warmup + max(1, repeats)):
        sync()
        start = time.perf_counter()
        coded = model.compress(x)
        sync()
        middle = time.perf_counter()
        if getattr(model, "context", None) is not None:   # a conditional codec decodes given its context
            model.decompress(coded, x[:, model.out_channels:])
        else:
            model.decompress(coded)
        sync()
        end = time.perf_counter()
        if run >= warmup:
            encode.append(middle - start)
            decode.append(end - middle)
    return {"encode_s": min(encode), "decode_s": min(decode),
            "bytes": float(sum(len(s) for s in coded.streams.values()))}
