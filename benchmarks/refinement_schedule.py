"""How to schedule encoder-side latent refinement: Adam's step and the last SGA temperature,
chosen on whole training images (never on Kodak, which stays a test).

    python benchmarks/refinement_schedule.py        # → docs/benchmarks/refinement_schedule.md (+ .json)

Refinement (``mmcodec/codecs/refinement.py``; Yang et al., arXiv 2006.04240, sec. 3) descends the
training objective J = R + λ·255²·MSE (arXiv 1802.01436 eq. 2) on one image's latents, with
rounding relaxed by stochastic Gumbel annealing at a temperature τ that falls geometrically from
0.5 to ``tau_end``. For each schedule (``--schedules``: learning rate : last temperature, per
``--qualities``) this reports the mean over ``--per-folder`` images of each training folder of
J after ``--steps`` steps relative to J of the encoder's own latents; both are the refinement's
exact objective (true rounding, the model's likelihoods), which the coded files follow to
0.01% (``docs/benchmarks/coder_overhead.md``). More negative is better.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import datasets_dir, write_results  # noqa: E402
from image_training_images import training_images  # noqa: E402

from mmcodec.api import get_codec, to_tensor  # noqa: E402
from mmcodec.codecs.refinement import LEARNING_RATE, TAU_END, refine_latents  # noqa: E402
from mmcodec.modalities.image import read_image  # noqa: E402
from mmcodec.zoo import find_entry  # noqa: E402

SCHEDULES = ("0.01:0.05", "0.01:0.15", "0.01:0.3")


def parse_schedule(text: str) -> tuple[float, float]:
    """``"LR:TAU_END"`` → (learning rate, last temperature)."""
    learning_rate, tau_end = text.split(":")
    return float(learning_rate), float(tau_end)


def relative_gain(quality: int, learning_rate: float, tau_end: float, images: list[torch.Tensor],
                  steps: int) -> list[float]:
    """J after refinement / J before − 1, per image, for the shipped mean-scale model of ``quality``."""
    entry = find_entry(None, quality)
    codec = get_codec(entry)
    gains = []
    for x in images:
        result = refine_latents(codec, codec.pad(x), x.shape[-2], x.shape[-1], entry.lmbda, entry.metric, steps,
                                learning_rate=learning_rate, tau_end=tau_end)
        gains.append(result.final_loss / result.initial_loss - 1)
    return gains


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=datasets_dir() / "images" / "train")
    parser.add_argument("--per-folder", type=int, default=1)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--qualities", type=int, nargs="+", default=[3, 6])
    parser.add_argument("--schedules", nargs="+", default=list(SCHEDULES), help="LR:TAU_END pairs")
    args = parser.parse_args()
    images = training_images(args.data, args.per_folder)
    tensors = [to_tensor(read_image(path), 3) for path in images]     # read once, refined under every schedule
    rows = []
    for quality in args.qualities:
        for text in args.schedules:
            learning_rate, tau_end = parse_schedule(text)
            start = time.perf_counter()
            gains = relative_gain(quality, learning_rate, tau_end, tensors, args.steps)
            rows.append({"quality": quality, "learning_rate": learning_rate, "tau_end": tau_end,
                         "mean_gain": sum(gains) / len(gains), "per_image": gains,
                         "seconds_per_image": (time.perf_counter() - start) / len(images)})
            print(rows[-1], flush=True)
    table = [f"{len(images)} whole training images ({args.per_folder} from each training folder), {args.steps} steps; "
             f"ΔJ: change of J = bpp + λ·255²·MSE against the encoder's own latents (exact objective, mean over "
             f"images). Shipped schedule: Adam {LEARNING_RATE}, τ 0.5 → {TAU_END}.", "",
             "| quality | Adam step | last τ | ΔJ | ΔJ per image | s per image |", "|---|---|---|---|---|---|"]
    for r in rows:
        per_image = " ".join(f"{100 * g:+.2f}" for g in r["per_image"])
        table.append(f"| {r['quality']} | {r['learning_rate']:g} | {r['tau_end']:g} | {100 * r['mean_gain']:+.2f}% | "
                     f"{per_image} | {r['seconds_per_image']:.1f} |")
    command = "python benchmarks/refinement_schedule.py"
    if args.qualities != [3, 6] or args.schedules != list(SCHEDULES) or args.steps != 100 or args.per_folder != 1:
        command += (f" --qualities {' '.join(map(str, args.qualities))} --schedules {' '.join(args.schedules)}"
                    f" --steps {args.steps} --per-folder {args.per_folder}")
    write_results("refinement_schedule", {"images": [f"{p.parent.name}/{p.name}" for p in images],
                                          "results": rows}, table, command)


if __name__ == "__main__":
    main()
