"""What encoder-side latent refinement buys per step: real files of the default model on a few
Kodak images, coded after 0, 25, 50, 100 and 200 refinement steps (or ``--steps``).

    python benchmarks/refinement_steps.py            # → docs/benchmarks/refinement_steps.md (+ .json)
    python benchmarks/refinement_steps.py --steps 0 25 50 100 200 400

For each step count: bpp of the file, PSNR of the decoded image, the model's objective
R + λ·255²·MSE measured on the real file (bits from its size), its change against no refinement,
and the encode time (the decoder's time does not change). See ``mmcodec/codecs/refinement.py``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import datasets_dir, write_results  # noqa: E402

import mmcodec  # noqa: E402
from mmcodec.evaluate.metrics import psnr  # noqa: E402
from mmcodec.modalities.image import read_image  # noqa: E402
from mmcodec.zoo import find_entry  # noqa: E402

STEPS = (0, 25, 50, 100, 200)
IMAGES = ("kodim01.png", "kodim07.png", "kodim15.png", "kodim23.png")


def measure(pixels: np.ndarray, model: str, steps: int, lmbda: float) -> dict:
    start = time.perf_counter()
    data = mmcodec.compress(pixels, model=model, refine_steps=steps)
    encode_s = time.perf_counter() - start
    decoded = mmcodec.decompress(data)["image"]
    bpp = 8 * len(data) / (pixels.shape[0] * pixels.shape[1])
    mse = float(np.mean((decoded.astype(np.float64) - pixels) ** 2))
    return {"steps": steps, "bpp": bpp, "psnr": psnr(pixels, decoded, 255), "loss": bpp + lmbda * mse,
            "encode_s": encode_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=datasets_dir() / "kodak")
    parser.add_argument("--model", default=None, help="model id (default: the default model)")
    parser.add_argument("--images", nargs="*", default=list(IMAGES))
    parser.add_argument("--steps", nargs="*", type=int, default=list(STEPS),
                        help="step counts to measure (0, the plain encoder, is the reference and always measured)")
    args = parser.parse_args()
    step_counts = sorted({0, *args.steps})
    entry = find_entry(args.model)
    rows = []
    for name in args.images:
        pixels = read_image(args.data / name).pixels
        for steps in step_counts:
            row = {"image": name, **measure(pixels, entry.model_id, steps, entry.lmbda)}
            rows.append(row)
            print(row, flush=True)
    table = [f"Model `{entry.model_id}` (λ = {entry.lmbda}); loss = bpp + λ·255²·MSE of the real file; "
             "Δ against no refinement; means over the images.", "",
             "| steps | bpp | PSNR-RGB dB | loss | Δ loss | Δ bpp | Δ PSNR dB | encode s |",
             "|---|---|---|---|---|---|---|---|"]
    base = {r["image"]: r for r in rows if r["steps"] == 0}
    for steps in step_counts:
        chosen = [r for r in rows if r["steps"] == steps]
        mean = {k: float(np.mean([r[k] for r in chosen])) for k in ("bpp", "psnr", "loss", "encode_s")}
        d_loss = np.mean([r["loss"] / base[r["image"]]["loss"] - 1 for r in chosen]) * 100
        d_bpp = np.mean([r["bpp"] / base[r["image"]]["bpp"] - 1 for r in chosen]) * 100
        d_psnr = np.mean([r["psnr"] - base[r["image"]]["psnr"] for r in chosen])
        table.append(f"| {steps} | {mean['bpp']:.4f} | {mean['psnr']:.2f} | {mean['loss']:.4f} | {d_loss:+.1f}% | "
                     f"{d_bpp:+.1f}% | {d_psnr:+.2f} | {mean['encode_s']:.1f} |")
    table += ["", "Per image:", "", "| image | steps | bpp | PSNR-RGB dB | loss | encode s |",
              "|---|---|---|---|---|---|"]
    table += [f"| {r['image']} | {r['steps']} | {r['bpp']:.4f} | {r['psnr']:.2f} | {r['loss']:.4f} | "
              f"{r['encode_s']:.1f} |" for r in rows]
    command = "python benchmarks/refinement_steps.py " + " ".join(sys.argv[1:])
    write_results("refinement_steps", {"model": entry.model_id, "lambda": entry.lmbda, "rows": rows}, table,
                  command.strip())
    print("\n".join(table))


if __name__ == "__main__":
    main()
