"""Which weights of an image model to ship, judged on whole training images rather than on Kodak.

    python benchmarks/image_training_images.py old/mbt2018-mean-n64-mse-0.05.safetensors \
        runs/stage-weights/mbt2018-mean-n64-mse-0.05.safetensors ...   # → docs/benchmarks/image_training_images.md

A training stage ends with new weights; whether they replace the shipped ones must not be decided
on Kodak, or Kodak stops being a test (``benchmarks/kodak_rd.py`` and
``benchmarks/training_trend.py`` report it *after* the decision). This codes ``--per-folder``
images spread evenly over each folder of the training set (``images/train``: BSDS500, Sun-Hays 80,
Urban100 ×0.5) with each weights file, with real files (``mmcodec.evaluate.evaluate.evaluate_image``),
and reports the mean bits per pixel, PSNR-RGB and the training objective of Ballé et al.
(arXiv 1802.01436, eq. 2 with D = 255²·MSE as in ``mmcodec.train.losses``) per image,
J = bpp + λ·255²·MSE (MSE on [0, 1] recovered from the PSNR), averaged over the images. The weights
with the lower J at their λ are the ones to ship. Unlike the 128² training crops, the images are
coded whole, so the hyperprior's side information and the borders count as they do on Kodak.
Weights shipped before can be had from git:
``git show COMMIT:mmcodec/zoo/weights/ID.safetensors > old/ID.safetensors``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import datasets_dir, mean_rd_objective, write_results  # noqa: E402

from mmcodec.evaluate.evaluate import evaluate_image  # noqa: E402
from mmcodec.modalities.image import IMAGE_SUFFIXES  # noqa: E402
from mmcodec.zoo import read_entry  # noqa: E402


def training_images(root: Path, per_folder: int) -> list[Path]:
    """``per_folder`` images spread evenly over each (sorted) sub-folder of the training set."""
    images: list[Path] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        images += paths[:: max(1, len(paths) // per_folder)][:per_folder]
    return images


def objective(image_rows: list[dict], lmbda: float) -> float:
    """Mean over images of J = bpp + λ·255²·MSE, the MSE on [0, 1] recovered from the PSNR."""
    return mean_rd_objective([r["bpp"] for r in image_rows], [r["psnr-rgb"] for r in image_rows], lmbda)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", nargs="+", type=Path, help="image model weights (.safetensors) to compare")
    parser.add_argument("--data", type=Path, default=datasets_dir() / "images" / "train")
    parser.add_argument("--per-folder", type=int, default=8)
    parser.add_argument("--name", default="image_training_images")
    args = parser.parse_args()
    images = training_images(args.data, args.per_folder)
    rows = []
    for path in args.weights:
        entry = read_entry(path)
        per_image = [evaluate_image(entry, image) for image in images]
        bpp = sum(r["bpp"] for r in per_image) / len(per_image)
        psnr = sum(r["psnr-rgb"] for r in per_image) / len(per_image)
        rows.append({"weights": str(path), "model": entry.model_id, "digest": entry.digest, "lambda": entry.lmbda,
                     "bpp": bpp, "psnr": psnr, "objective": objective(per_image, entry.lmbda)})
        print(f"{path}: {bpp:.4f} bpp, {psnr:.2f} dB, J {rows[-1]['objective']:.5f}", flush=True)
    folders = sorted({p.parent.name for p in images})
    table = [f"{len(images)} whole training images ({args.per_folder} spread over each of {', '.join(folders)}); "
             "J = mean over images of bpp + λ·255²·MSE (lower is better).", "",
             "| weights | model | digest | λ | bpp | PSNR-RGB | J |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        table.append(f"| `{r['weights']}` | {r['model']} | `{r['digest']}` | {r['lambda']:g} | {r['bpp']:.4f} | "
                     f"{r['psnr']:.2f} dB | {r['objective']:.5f} |")
    command = "python benchmarks/image_training_images.py " + " ".join(str(p) for p in args.weights)
    command += f" --per-folder {args.per_folder}" if args.per_folder != 8 else ""
    command += f" --name {args.name}" if args.name != "image_training_images" else ""
    write_results(args.name, {"images": [f"{p.parent.name}/{p.name}" for p in images], "results": rows}, table,
                  command)


if __name__ == "__main__":
    main()
