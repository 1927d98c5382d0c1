"""What the decoder's median post-filter buys each shipped depth model, with real files.

    python benchmarks/depth_median_filter.py              # → docs/benchmarks/depth_median_filter.md (+ .json)
    python benchmarks/depth_median_filter.py --frames 8   # a quick look

Every shipped depth model (depth-only and RGB-conditioned) codes the held-out RGB-D frames of
``benchmarks/rgbd_depth.py`` twice: with ``median_filter=False`` (no filter, as files were before
it) and as ``mmcodec compress`` does by default, where the encoder decodes its own latents and
writes into the file the window (none, 3, 5 or 7) whose median-filtered output is closest to the
true depth (``mmcodec/modalities/depth_filter.py``). The coded streams are the same, so the bits
do not change (the header carries the window); what changes is the quality, and the time the
encoder spends choosing. "vs JPEG XL" is the rate difference at equal PSNR against the JPEG XL
16-bit curve of ``docs/results/rgbd-depth.json`` (same frames); depth bpp of a joint file is its
size minus the colour file's, as there.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, datasets_dir, write_results  # noqa: E402
from rgbd_depth import OUTSIDE, lossy_curve  # noqa: E402

from mmcodec.evaluate.bd_rate import rate_at_equal_quality  # noqa: E402
from mmcodec.evaluate.report import comparison_cell  # noqa: E402
from mmcodec.evaluate.rgbd_evaluate import evaluate_depth_model, rgbd_test_frames  # noqa: E402
from mmcodec.modalities.depth_filter import WINDOWS  # noqa: E402
from mmcodec.zoo import list_models  # noqa: E402

ANCHOR = "jpegxl"


def anchor_curve(frame_names: list[str]) -> tuple[list[float], list[float]] | None:
    """JPEG XL's lossy (bpp, PSNR) points from the depth results, when measured on these frames."""
    path = ROOT / "docs" / "results" / "rgbd-depth.json"
    if not path.exists():
        return None
    record = json.loads(path.read_text())
    anchor = next((a for a in record.get("anchors", []) if a["name"] == ANCHOR), None)
    if record.get("frames") != frame_names or anchor is None:
        return None
    return lossy_curve(anchor)


def versus_anchor(curve: tuple[list[float], list[float]] | None, mean: dict) -> str:
    if curve is None:
        return "n/a"
    return comparison_cell(rate_at_equal_quality, *curve, mean["depth_bpp"], mean["psnr"], "%", digits=1,
                           undefined=OUTSIDE)


def window_counts(result: dict) -> str:
    counts = Counter(row["median_window"] for row in result["frames"])
    return " / ".join(str(counts.get(w, 0)) for w in WINDOWS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, help="use about this many frames (default: all held-out)")
    args = parser.parse_args()
    frames = rgbd_test_frames(datasets_dir() / "rgbd", args.frames)
    curve = anchor_curve([f"{p.sequence}/{p.name}" for p in frames])
    entries = sorted((e for e in list_models() if e.modality == "depth"), key=lambda e: (e.architecture, e.lmbda))
    rows = []
    table = ["| model | depth bpp | PSNR dB without → with | RMSE mm | flying px % | windows 0 / 3 / 5 / 7 "
             "| encode s | decode s | bits vs JPEG XL at equal PSNR |", "|---|---|---|---|---|---|---|---|---|"]
    for entry in entries:
        off = evaluate_depth_model(entry, frames, median_filter=False)
        on = evaluate_depth_model(entry, frames, median_filter=True)
        rows.append({"model": entry.model_id, "digest": entry.digest, "without": off, "with": on})
        a, b = off["mean"], on["mean"]
        table.append(
            f"| `{entry.model_id}` | {a['depth_bpp']:.4f} → {b['depth_bpp']:.4f} | {a['psnr']:.2f} → {b['psnr']:.2f} "
            f"({b['psnr'] - a['psnr']:+.2f}) | {a['rmse_mm']:.1f} → {b['rmse_mm']:.1f} | "
            f"{a['flying_pixels_percent']:.2f} → {b['flying_pixels_percent']:.2f} | {window_counts(on)} | "
            f"{a['encoding_time']:.2f} → {b['encoding_time']:.2f} | {a['decoding_time']:.2f} → "
            f"{b['decoding_time']:.2f} | {versus_anchor(curve, a)} → {versus_anchor(curve, b)} |")
        print(table[-1], flush=True)
    counted = rows[0]["with"]["mean"]["frames"] if rows else 0
    notes = [f"Means over {counted} held-out RGB-D frames (the `samples` pairs are coded, and count in the "
             "windows column, but not in the means); depth quality over valid pixels, PSNR peak 65535 mm. "
             "Each cell: without the filter → with the encoder's choice of it. Windows: how many frames "
             "chose no filter / 3 / 5 / 7.", ""]
    command = "python benchmarks/depth_median_filter.py" + (f" --frames {args.frames}" if args.frames else "")
    write_results("depth_median_filter", {"frames": [f"{p.sequence}/{p.name}" for p in frames], "models": rows},
                  notes + table, command)


if __name__ == "__main__":
    main()
