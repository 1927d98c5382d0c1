"""Does a model code whole frames as well as the crops it was trained on? Estimated rate and
PSNR of each model on whole frames against the same frames cut into 128² tiles.

    python benchmarks/tile_vs_frame.py                   # every shipped image and depth-only model
    python benchmarks/tile_vs_frame.py --models runs/x/checkpoint.safetensors ...
    python benchmarks/tile_vs_frame.py --models models/thesis-small/weights/*.safetensors --name tile_vs_frame_thesis

Models trained on 128² crops meet frames 10–50× larger at test time. For the mean-scale colour
models that changes little (1–3% more bits on whole Kodak images than on their tiles after training
on 128² crops, 0–2% fewer after the later stages on 256² crops), but the first
depth models (trained on 128² crops) estimated 3.3–4.4× more bits per pixel on whole held-out
RGB-D frames than on the 128² tiles of the same frames: what they learned did not carry over to
frames (the depth configs now train on 256² crops). Rates here are the models'
estimates (−log2 of the likelihoods, rounding as when coding), which follow the coded file
sizes closely (``docs/benchmarks/coder_overhead.md``); PSNR is over valid pixels (8-bit peak for
colour, 16-bit for depth, as everywhere). Image models run on the first ``--images`` Kodak images;
depth-only models on held-out RGB-D frames in millimetres (RGB-conditioned depth models need the
decoded colour, and are left out). The thesis's models (``thesis_api``) take their own input on the
same held-out frames: the target's planes, then the context's (colour and depth, as they trained).
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

from mmcodec.api import to_tensor  # noqa: E402
from mmcodec.evaluate.rgbd_evaluate import rgbd_test_frames  # noqa: E402
from mmcodec.modalities.depth import coding_plane, read_depth  # noqa: E402
from mmcodec.modalities.image import IMAGE_SUFFIXES, read_image  # noqa: E402
from mmcodec.thesis_api import needs_thesis_files, thesis_input, thesis_table_of  # noqa: E402
from mmcodec.zoo import find_entry, list_models, load_model  # noqa: E402

TILE = 128


def _estimate(model, x: torch.Tensor, valid: torch.Tensor) -> tuple[float, float, int]:
    """(estimated bits, squared error summed over the valid samples of the target channels,
    valid samples) of ``x`` (padded as the codec needs; the padding carries no cost here)."""
    height, width = x.shape[-2:]
    out = model(model.pad(x))
    bits = sum(float(-torch.log2(p).sum()) for p in out["likelihoods"].values())
    x_hat = out["x_hat"][..., :height, :width]
    error = ((x_hat - x[:, : x_hat.shape[1]]) ** 2)[valid.expand_as(x_hat)]
    return bits, float(error.sum()), int(error.numel())


@torch.no_grad()
def tile_vs_frame(model, frames: list[tuple[torch.Tensor, torch.Tensor]]) -> dict:
    whole, tiles = np.zeros(3), np.zeros(3)
    whole_pixels = tile_pixels = 0
    for x, valid in frames:
        height, width = x.shape[-2:]
        whole += _estimate(model, x, valid)
        whole_pixels += height * width
        for top in range(0, height - TILE + 1, TILE):
            for left in range(0, width - TILE + 1, TILE):
                window = (..., slice(top, top + TILE), slice(left, left + TILE))
                tiles += _estimate(model, x[window], valid[window])
                tile_pixels += TILE * TILE
    psnr = lambda sums: 10 * math.log10(sums[2] / sums[1]) if sums[1] > 0 else float("inf")  # noqa: E731
    return {"frames": len(frames), "frame_bpp": whole[0] / whole_pixels, "tile_bpp": tiles[0] / tile_pixels,
            "frame_psnr": psnr(whole), "tile_psnr": psnr(tiles)}


def image_frames(folder: Path, count: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)[:count]
    frames = []
    for path in paths:
        x = to_tensor(read_image(path, channels=3), 3)
        frames.append((x, torch.ones(1, 1, *x.shape[-2:], dtype=torch.bool)))
    return frames


def _spread_mm_pairs(root: Path, count: int) -> list:
    pairs = [p for p in rgbd_test_frames(root) if p.unit == "mm"]
    return pairs[:: max(1, len(pairs) // count)][:count]


def thesis_frames(entry, root: Path, count: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """A thesis model's inputs (target planes, then context) on held-out RGB-D frames, with the
    valid samples of its target (depth: not a hole; colour: all)."""
    table = thesis_table_of(entry)
    frames = []
    for pair in _spread_mm_pairs(root, count):
        depth, colour = read_depth(pair.depth, pair.unit), read_image(pair.color, channels=3)
        x = torch.from_numpy(thesis_input(table, colour, depth))[None]
        valid = torch.from_numpy(depth.valid)[None, None] if table.target == "depth" else torch.ones(
            1, 1, *x.shape[-2:], dtype=torch.bool)
        frames.append((x, valid))
    return frames


def depth_frames(root: Path, count: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    frames = []
    for pair in _spread_mm_pairs(root, count):
        depth = read_depth(pair.depth, pair.unit)
        frames.append((torch.from_numpy(coding_plane(depth))[None, None], torch.from_numpy(depth.valid)[None, None]))
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", help="model ids or weights files (default: every shipped "
                        "image and depth-only model)")
    parser.add_argument("--images", type=int, default=8, help="Kodak images for image models")
    parser.add_argument("--depth-frames", type=int, default=16, help="held-out RGB-D frames for depth models")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--name", default="tile_vs_frame", help="results: docs/benchmarks/NAME.md and .json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    entries = [find_entry(m) for m in args.models] if args.models else list_models()
    # a weights file is named by its path: two files may hold models of one id (trained two ways)
    labels = {e.digest: (m if m.endswith(".safetensors") else e.model_id) for e, m in zip(entries, args.models or [])}
    entries = [e for e in entries
               if needs_thesis_files(e) or (e.context_model is None and e.modality in ("image", "depth"))]
    data = datasets_dir()
    inputs = {"image": image_frames(data / "kodak", args.images),
              "depth": depth_frames(data / "rgbd", args.depth_frames)}
    rows, table = [], ["| model | modality | frames | bpp: whole frames | bpp: 128² tiles | frames / tiles | "
                       "PSNR: whole | PSNR: tiles |", "|---|---|---|---|---|---|---|---|"]
    for entry in entries:
        if needs_thesis_files(entry):
            frames = thesis_frames(entry, data / "rgbd", args.depth_frames)
            modality = f"{thesis_table_of(entry).target} (thesis)"
        else:
            frames, modality = inputs[entry.modality], entry.modality
        result = {"model": labels.get(entry.digest, entry.model_id), "modality": modality,
                  **tile_vs_frame(load_model(entry), frames)}
        rows.append(result)
        table.append(f"| {result['model']} | {modality} | {result['frames']} | {result['frame_bpp']:.4f} | "
                     f"{result['tile_bpp']:.4f} | {result['frame_bpp'] / result['tile_bpp']:.2f}× | "
                     f"{result['frame_psnr']:.2f} dB | {result['tile_psnr']:.2f} dB |")
        print(table[-1], flush=True)
    command = "python benchmarks/tile_vs_frame.py " + " ".join(sys.argv[1:])
    notes = ["", "Estimated bits per pixel (rounded latents, as coded) of whole frames and of the same frames "
             f"cut into {TILE}² tiles (each tile coded alone; borders that do not fill a tile are left out). "
             "Image models: Kodak; depth-only models: held-out RGB-D frames in mm (the hole-mask stream "
             "is not counted here); the thesis's models: the same held-out frames, coded from the input "
             "they trained on.", ""]
    write_results(args.name, {"models": rows}, notes + table, command.strip())


if __name__ == "__main__":
    main()
