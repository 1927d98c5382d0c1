"""Is a depth model limited by its quantisation or by its transforms? Estimated rate and quality
of each shipped depth-only model when the quantisation step of y is made finer.

    python benchmarks/quantisation_step.py           # → docs/benchmarks/quantisation_step.md (+ .json)
    python benchmarks/quantisation_step.py --models runs/x/exported.safetensors --name quantisation_step_x

For a step 1/s the latent is coded as ŷ = round(s·y)/s: the Gaussian conditional of the
mean-scale hyperprior (Minnen et al., arXiv 1809.02736) codes s·y with its means and scales
multiplied by s, so only the step changes, not the model. If quality kept rising as s grows, the
models' λ (which sets the step they learned) would be what holds them back; if it stops, the
reconstruction error comes from g_a/g_s themselves. "no rounding" decodes y unquantised: the
transforms' own error floor. Rates are the models' estimates (−log2 of the likelihoods, which
follow coded file sizes closely: ``docs/benchmarks/coder_overhead.md``); PSNR (16-bit peak), RMSE
and the median absolute error in mm are over valid pixels, on held-out RGB-D frames in millimetres;
"tail" is the share of the squared error in errors over 100 mm (depth edges, mostly).
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import datasets_dir, write_results  # noqa: E402
from tile_vs_frame import depth_frames  # noqa: E402

from mmcodec.zoo import find_entry, list_models, load_model  # noqa: E402

STEPS = (1, 2, 4, 8, 16)
TAIL_MM = 100.0


@torch.no_grad()
def code_with_step(model, x: torch.Tensor, gain: float | None) -> tuple[float, torch.Tensor]:
    """(estimated bits, reconstructed depth / 65535) of ``x`` with y quantised at step 1/``gain``
    (``None``: y not quantised, no rate)."""
    height, width = x.shape[-2:]
    depth, _ = model._split(model.pad(x))
    y = model.g_a(depth)
    z_hat, z_likelihoods = model.z_model(model.h_a(y))
    scales, means = model._gaussian_parameters(z_hat, None)
    if gain is None:
        return math.nan, (model.g_s(y, None) / model.depth_gain)[..., :height, :width]
    y_scaled, y_likelihoods = model.y_model(y * gain, scales * gain, means * gain)
    bits = float(-torch.log2(y_likelihoods).sum() - torch.log2(z_likelihoods).sum())
    return bits, (model.g_s(y_scaled / gain, None) / model.depth_gain)[..., :height, :width]


def measure(model, frames: list[tuple[torch.Tensor, torch.Tensor]], gain: float | None) -> dict:
    bits, pixels, errors = 0.0, 0, []
    for x, valid in frames:
        frame_bits, x_hat = code_with_step(model, x, gain)
        bits += frame_bits
        pixels += x.shape[-2] * x.shape[-1]
        errors.append(((x_hat - x) * 65535)[valid].numpy())
    error = np.concatenate(errors)
    squared = error.astype(np.float64) ** 2
    mse = float(np.mean(squared))
    return {"step_gain": gain, "bpp": bits / pixels, "psnr": 10 * math.log10(65535 ** 2 / mse),
            "rmse_mm": math.sqrt(mse), "median_abs_mm": float(np.median(np.abs(error))),
            "tail_share": float(squared[np.abs(error) > TAIL_MM].sum() / squared.sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth-frames", type=int, default=16, help="held-out RGB-D frames")
    parser.add_argument("--models", nargs="*", help="depth-only model ids or weights files (default: every "
                        "shipped depth-only model)")
    parser.add_argument("--name", default="quantisation_step", help="results: docs/benchmarks/NAME.md and .json")
    args = parser.parse_args()
    torch.manual_seed(0)
    frames = depth_frames(datasets_dir() / "rgbd", args.depth_frames)
    if args.models:
        named = [(name, find_entry(name)) for name in args.models]
    else:
        named = [(e.model_id, e) for e in list_models() if e.modality == "depth" and e.context_model is None]
    rows, table = [], ["| model | latent M | step | bpp (estimate) | PSNR | RMSE mm | median abs. error mm | tail |",
                       "|---|---|---|---|---|---|---|---|"]
    for name, entry in named:
        model = load_model(entry).eval()
        if entry.modality != "depth" or getattr(model, "context", True) is not None:
            raise SystemExit(f"error: {name} is not a depth-only model")
        for gain in (*STEPS, None):
            result = {"model": name, "m": model.m, **measure(model, frames, gain)}
            rows.append(result)
            step = "no rounding" if gain is None else f"1/{gain}"
            bpp = "" if gain is None else f"{result['bpp']:.4f}"
            table.append(f"| {name} | {model.m} | {step} | {bpp} | {result['psnr']:.2f} dB | "
                         f"{result['rmse_mm']:.1f} | {result['median_abs_mm']:.1f} | {result['tail_share']:.0%} |")
            print(table[-1], flush=True)
    command = "python benchmarks/quantisation_step.py " + " ".join(sys.argv[1:])
    notes = ["", f"{len(frames)} held-out RGB-D frames in mm; y quantised with step 1/s (1 = as coded), or "
             "not at all (the transforms' own error). Tail: share of the squared error in errors over "
             f"{TAIL_MM:g} mm.", ""]
    write_results(args.name, {"models": rows}, notes + table, command.strip())


if __name__ == "__main__":
    main()
