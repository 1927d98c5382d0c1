"""How many of a mean-scale model's latent channels carry its bits, per rate point.

    python benchmarks/latent_channel_use.py [WEIGHTS_OR_MODEL_ID ...]   # → docs/benchmarks/latent_channel_use.md

A model whose every latent channel carries bits at its λ may be held back by the latent's width M:
the literature widens it for the high rates (M = 192 → 320 above λ = 0.0067, Minnen, Ballé,
Toderici, arXiv 1809.02736 sec. 4). For each model this estimates the bits of ŷ per channel on 24
whole training images (8 spread over each folder, as ``image_training_images.py``; never Kodak),
-Σ log2 p(ŷ) under the model's own likelihoods with true rounding (what the coder spends, within
its 0.01% overhead: ``coder_overhead.md``), and reports how many channels, taken from the richest
down, hold 50%, 90% and 99% of y's bits, and how many hold under 0.1% each ("idle").
Default: the shipped mean-scale models.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import datasets_dir, write_results  # noqa: E402
from image_training_images import training_images  # noqa: E402

from mmcodec import api  # noqa: E402
from mmcodec.modalities.image import read_image  # noqa: E402
from mmcodec.zoo import find_entry, list_models  # noqa: E402

SHARES = (0.5, 0.9, 0.99)
IDLE_SHARE = 0.001


def channel_bits(model: str, images: list[Path]) -> tuple[dict, torch.Tensor]:
    """(the model's entry fields, bits of ŷ per channel per pixel over ``images``)."""
    entry = find_entry(model)
    codec = api.get_codec(entry)
    bits, pixels = torch.zeros(codec.m, dtype=torch.float64), 0
    for path in images:
        image = read_image(path, channels=codec.in_channels)
        x = codec.pad(api.to_tensor(image, codec.in_channels))
        with torch.no_grad():
            likelihoods = codec(x)["likelihoods"]["y"]
        bits += -torch.log2(likelihoods.double()).sum(dim=(0, 2, 3))
        pixels += image.pixels.shape[0] * image.pixels.shape[1]
    return {"model": entry.model_id, "lambda": entry.lmbda, "m": codec.m}, bits / pixels


def channel_use(per_channel: torch.Tensor) -> dict:
    """Channels (richest first) holding each share of the bits, and the idle ones."""
    ranked = per_channel.sort(descending=True).values
    total = float(ranked.sum())
    cumulative = ranked.cumsum(0)
    return {"y_bpp": total,
            **{f"channels_{round(100 * s)}": int((cumulative < s * total).sum()) + 1 for s in SHARES},
            "idle": int((ranked < IDLE_SHARE * total).sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*",
                        help="model ids or .safetensors files (default: the shipped mean-scale ones)")
    parser.add_argument("--data", type=Path, default=datasets_dir() / "images" / "train")
    parser.add_argument("--per-folder", type=int, default=8)
    parser.add_argument("--name", default="latent_channel_use")
    args = parser.parse_args()
    models = args.models or [e.model_id for e in list_models() if e.architecture == "mean-scale"]
    images = training_images(args.data, args.per_folder)
    rows = []
    for model in models:
        fields, per_channel = channel_bits(model, images)
        rows.append({**fields, **channel_use(per_channel), "bits_per_channel": per_channel.tolist()})
    table = [f"Bits of ŷ per channel on {len(images)} whole training images (estimated, true rounding).", "",
             "| model | λ | M | y bpp | channels for 50% of y's bits | 90% | 99% | idle (< 0.1% each) |",
             "|---|---|---|---|---|---|---|---|"]
    table += [f"| {r['model']} | {r['lambda']:g} | {r['m']} | {r['y_bpp']:.4f} | {r['channels_50']} | "
              f"{r['channels_90']} | {r['channels_99']} | {r['idle']} |" for r in rows]
    command = ("python benchmarks/latent_channel_use.py" + "".join(f" {m}" for m in args.models)
               + (f" --name {args.name}" if args.name != "latent_channel_use" else ""))
    write_results(args.name, {"images": [str(p) for p in images], "models": rows}, table, command)
    print("\n".join(table))


if __name__ == "__main__":
    main()
