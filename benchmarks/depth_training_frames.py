"""Which weights of a depth model to ship, judged on training frames rather than the test frames.

    python benchmarks/depth_training_frames.py old/depth-mean-scale-n32-mse-32.safetensors \
        mmcodec/zoo/weights/depth-mean-scale-n32-mse-32.safetensors ...   # → docs/benchmarks/depth_training_frames.md

A training stage of a depth model ends with new weights; whether they replace the shipped ones
must not be decided on the held-out frames that ``benchmarks/rgbd_depth.py`` reports, or those
frames stop being a test. This codes an even spread of the *training* part of each held-out
sequence (``--per-sequence`` frames of RGB-D-D and of 7-Scenes red kitchen, the frames before their
last 10%) with each weights file given, with real files (``compress_depth`` /
``compress_rgbd(depth_coding="conditioned")`` as ``mmcodec.evaluate.rgbd_evaluate`` does), and
reports the mean bits per pixel, PSNR (peak 65535 mm) and the training objective per frame,
J = bpp + λ·255²·MSE (``mmcodec.depth_mode.depth_rd_cost``; MSE = 10^(−PSNR/10)), averaged over
the frames. The weights with the lower J at their λ are the ones to ship. Weights shipped before
can be had from git: ``git show COMMIT:mmcodec/zoo/weights/ID.safetensors > old/ID.safetensors``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import datasets_dir, mean_rd_objective, write_results  # noqa: E402

from mmcodec.evaluate.rgbd_evaluate import HELD_OUT_SEQUENCES, TEST_FRACTION, evaluate_depth_model  # noqa: E402
from mmcodec.modalities.rgbd_pairs import RgbdPair, find_rgbd_pairs, split_by_frames  # noqa: E402
from mmcodec.zoo import read_entry  # noqa: E402


def training_frames(root: Path, per_sequence: int) -> list[RgbdPair]:
    """``per_sequence`` frames spread evenly over the training part of each held-out sequence."""
    frames: list[RgbdPair] = []
    for name in HELD_OUT_SEQUENCES:
        train = split_by_frames(find_rgbd_pairs(root / name, "mm"), TEST_FRACTION)[0]
        frames += train[:: max(1, len(train) // per_sequence)][:per_sequence]
    return frames


def objective(frame_rows: list[dict], lmbda: float) -> float:
    """Mean over frames of J = bpp + λ·255²·MSE, the MSE on depth / 65535 recovered from the PSNR."""
    return mean_rd_objective([r["depth_bpp"] for r in frame_rows], [r["psnr"] for r in frame_rows], lmbda)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", nargs="+", type=Path, help="depth model weights (.safetensors) to compare")
    parser.add_argument("--data", type=Path, default=datasets_dir() / "rgbd")
    parser.add_argument("--per-sequence", type=int, default=12)
    parser.add_argument("--name", default="depth_training_frames")
    args = parser.parse_args()
    frames = training_frames(args.data, args.per_sequence)
    rows = []
    for path in args.weights:
        entry = read_entry(path)
        result = evaluate_depth_model(entry, frames, outside_mean=())
        mean = result["mean"]
        rows.append({"weights": str(path), "model": entry.model_id, "digest": entry.digest, "lambda": entry.lmbda,
                     "depth_bpp": mean["depth_bpp"], "psnr": mean["psnr"],
                     "objective": objective(result["frames"], entry.lmbda)})
        print(f"{path}: {mean['depth_bpp']:.4f} bpp, {mean['psnr']:.2f} dB, J {rows[-1]['objective']:.5f}", flush=True)
    table = [f"{len(frames)} training frames ({args.per_sequence} spread over the training part of each of "
             f"{', '.join(HELD_OUT_SEQUENCES)}); J = mean over frames of bpp + λ·255²·MSE (lower is better).", "",
             "| weights | model | digest | λ | depth bpp | PSNR | J |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        table.append(f"| `{r['weights']}` | {r['model']} | `{r['digest']}` | {r['lambda']:g} | {r['depth_bpp']:.4f} | "
                     f"{r['psnr']:.2f} dB | {r['objective']:.5f} |")
    command = "python benchmarks/depth_training_frames.py " + " ".join(str(p) for p in args.weights)
    command += f" --per-sequence {args.per_sequence}" if args.per_sequence != 12 else ""
    write_results(args.name, {"frames": [f"{p.sequence}/{p.name}" for p in frames], "results": rows}, table, command)


if __name__ == "__main__":
    main()
