"""Would the decoded colour make a better depth post-filter than the plain median? A probe.

    python benchmarks/colour_guided_median.py              # → docs/benchmarks/colour_guided_median.md (+ .json)
    python benchmarks/colour_guided_median.py --frames 8   # a quick look

Why the RGB-conditioned depth models gain so little (``docs/results/rgbd-depth.md``): if the
colour marked where depth edges are, a colour-guided filter at the decoder would already fix the
errors beside them, which are two-thirds of the squared error (``docs/design.md``). This codes the
held-out frames of ``benchmarks/rgbd_depth.py`` with one shipped depth-only model and no filter,
decodes the colour with the RGB model of the joint files (what a decoder has), and filters the
decoded depth two ways, each over the valid pixels only:

- the plain median of ``mmcodec/modalities/depth_filter.py`` (window 3, 5, 7);
- a colour-weighted median: each neighbour's vote weighted by exp(−‖c_p − c_q‖² / 2σ²) on the
  8-bit decoded colour, the joint-bilateral weight of the weighted-mode / weighted-median depth
  filters (Min, Lu and Do, IEEE TIP 21(3), 2012), so a pixel takes the depth of the neighbours
  that share its colour.

"Best per frame" is what an encoder that signals the choice would get (as the shipped
post-filter does among its windows). The filter is measured here, not shipped.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import datasets_dir, write_results  # noqa: E402

from mmcodec import api, depth_api  # noqa: E402
from mmcodec.evaluate.metrics import psnr  # noqa: E402
from mmcodec.evaluate.rgbd_evaluate import rgbd_test_frames  # noqa: E402
from mmcodec.modalities.depth import read_depth  # noqa: E402
from mmcodec.modalities.depth_filter import median_filter_depth  # noqa: E402
from mmcodec.modalities.image import read_image  # noqa: E402
from mmcodec.zoo import find_entry  # noqa: E402

PLAIN = (0, 3, 5, 7)
GUIDED = tuple((window, sigma) for window in (3, 5, 7) for sigma in (4.0, 16.0, 32.0))
STRIP_ROWS = 32


def colour_weighted_median(mm: np.ndarray, valid: np.ndarray, colour: np.ndarray, window: int,
                           sigma: float) -> np.ndarray:
    """Each valid sample of ``mm`` (H×W) → the weighted median of the valid samples in the
    ``window``² square around it, weights exp(−‖c_p − c_q‖² / 2σ²) on ``colour`` (H×W×3, 8-bit);
    the lower middle on a tie, as the plain median. Holes stay as they are."""
    radius = window // 2
    height, width = mm.shape
    depth = np.pad(np.where(valid, mm, np.nan).astype(np.float32), radius, constant_values=np.nan)
    guide = np.pad(colour.astype(np.float32), ((radius, radius), (radius, radius), (0, 0)), mode="edge")
    out = np.empty((height, width), dtype=np.float32)
    for top in range(0, height, STRIP_ROWS):
        bottom = min(height, top + STRIP_ROWS)
        values = sliding_window_view(depth[top:bottom + 2 * radius], (window, window)).reshape(bottom - top, width, -1)
        guides = sliding_window_view(guide[top:bottom + 2 * radius], (window, window), axis=(0, 1))
        guides = guides.reshape(bottom - top, width, 3, -1)
        centre = colour[top:bottom].astype(np.float32)[..., None]
        weights = np.exp(-((guides - centre) ** 2).sum(axis=2) / (2 * sigma * sigma))
        weights = np.where(np.isnan(values), 0.0, weights)
        order = np.argsort(np.where(np.isnan(values), np.inf, values), axis=-1)
        ranked = np.take_along_axis(values, order, -1)
        cumulative = np.cumsum(np.take_along_axis(weights, order, -1), axis=-1)
        middle = (cumulative < cumulative[..., -1:] / 2).sum(axis=-1, keepdims=True)
        out[top:bottom] = np.take_along_axis(ranked, np.minimum(middle, values.shape[-1] - 1), -1)[..., 0]
    return np.where(valid, out, mm).astype(np.float32)


def filter_names() -> list[str]:
    return [f"median {w}" if w else "none" for w in PLAIN] + [f"colour {w}, σ {s:g}" for w, s in GUIDED]


def filtered(decoded: np.ndarray, valid: np.ndarray, colour: np.ndarray) -> list[np.ndarray]:
    """The decoded depth after every filter of :func:`filter_names`, in that order."""
    plain = [median_filter_depth(decoded, valid, w) for w in PLAIN]
    return plain + [colour_weighted_median(decoded, valid, colour, w, s) for w, s in GUIDED]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, help="use about this many frames (default: all held-out)")
    parser.add_argument("--model", default="depth-mean-scale-n32-mse-128", help="shipped depth-only model")
    args = parser.parse_args()
    entry = find_entry(args.model)
    colour_model = find_entry(f"rgb-conditional-depth-n32-mse-{entry.lmbda:g}").context_model
    frames = [f for f in rgbd_test_frames(datasets_dir() / "rgbd", args.frames) if f.unit == "mm"]
    names = filter_names()
    per_frame = []
    for pair in frames:
        depth = read_depth(pair.depth, pair.unit)
        colour = api.decompress(api.compress(read_image(pair.color, channels=3), model=colour_model))["image"]
        decoded = api.decompress(depth_api.compress_depth(depth, model=entry.model_id, median_filter=False))["depth"]
        reference = depth.millimetres()
        valid = reference > 0
        scores = [psnr(reference[valid], out[valid], peak=65535.0)
                  for out in filtered(decoded.astype(np.float32), valid, colour)]
        per_frame.append({"frame": f"{pair.sequence}/{pair.name}", "psnr": dict(zip(names, scores))})
        print(per_frame[-1]["frame"], f"none {scores[0]:.2f}", flush=True)
    sequences = sorted({row["frame"].split("/")[0] for row in per_frame})
    groups = {"all": per_frame, **{s: [r for r in per_frame if r["frame"].startswith(s + "/")] for s in sequences}}
    table = ["| filter | PSNR dB, all | " + " | ".join(sequences) + " |", "|---" * (2 + len(sequences)) + "|"]
    rows = {name: lambda r, name=name: r["psnr"][name] for name in names}
    rows["best per frame, medians"] = lambda r: max(v for n, v in r["psnr"].items() if not n.startswith("colour"))
    rows["best per frame, all"] = lambda r: max(r["psnr"].values())
    for label, score in rows.items():
        table.append(f"| {label} | " + " | ".join(f"{np.mean([score(r) for r in group]):.2f}"
                                                for group in groups.values()) + " |")
    notes = [f"`{entry.model_id}` (digest `{entry.digest}`) without its post-filter, {len(per_frame)} held-out frames "
             f"in millimetres; colour decoded by `{colour_model}`. Mean PSNR over valid pixels (peak 65535 mm), "
             "the same coded bits in every row.", ""]
    command = "python benchmarks/colour_guided_median.py" + (f" --frames {args.frames}" if args.frames else "") + (
        f" --model {args.model}" if args.model != parser.get_default("model") else "")
    write_results("colour_guided_median", {"model": entry.model_id, "digest": entry.digest, "frames": per_frame},
                  notes + table, command)


if __name__ == "__main__":
    main()
