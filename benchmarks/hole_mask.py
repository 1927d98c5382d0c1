"""Hole-mask coding: the context coder of the depth files against 1-bit lossless JPEG XL.

    python benchmarks/hole_mask.py        # → docs/benchmarks/hole_mask.md (+ .json)

On the hole masks of every held-out RGB-D frame (``rgbd_test_frames``: RGB-D-D and red kitchen
test slices, ICL-NUIM living room, the TUM / SUN RGB-D / NYU samples), per sequence: the share of
holes, the bytes of ``mmcodec.modalities.hole_mask`` (adaptive context coding, JBIG template)
and of a 1-bit lossless JPEG XL codestream at efforts 7 (what depth files held before) and 9,
and the encode / decode times per frame. Every stream is decoded and checked to give the mask back.
Then one large mask (the first held-out mask with holes, tiled 8 × 8: 3840 × 5120, 19.7 megapixels):
the context coder's encode / decode time and peak memory (numpy allocations, by ``tracemalloc``).
"""
from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

import imagecodecs
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import datasets_dir, write_results  # noqa: E402

from mmcodec.evaluate.rgbd_evaluate import rgbd_test_frames  # noqa: E402
from mmcodec.modalities.depth import read_depth  # noqa: E402
from mmcodec.modalities.hole_mask import decode_hole_mask, encode_hole_mask  # noqa: E402

CODERS = ("context", "jpegxl-e7", "jpegxl-e9")


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def code(coder: str, valid: np.ndarray) -> tuple[int, float, float]:
    """(bytes, encode s, decode s) of one mask, decoded and checked."""
    if coder == "context":
        data, encoding = timed(encode_hole_mask, valid)
        decoded, decoding = timed(decode_hole_mask, data, *valid.shape)
    else:
        holes = np.ascontiguousarray(~valid, dtype=np.uint8)
        effort = int(coder.rsplit("e", 1)[1])
        data, encoding = timed(lambda: bytes(imagecodecs.jpegxl_encode(holes, lossless=True, effort=effort,
                                                                        bitspersample=1)))
        decoded, decoding = timed(lambda: imagecodecs.jpegxl_decode(data) == 0)
    if not np.array_equal(decoded, valid):
        raise AssertionError(f"{coder} did not give the mask back")
    return len(data), encoding, decoding


def large_mask(valid: np.ndarray, tiles: int = 8) -> dict:
    """Time and peak traced memory of coding ``valid`` tiled ``tiles`` × ``tiles`` times."""
    large = np.tile(valid, (tiles, tiles))
    result = {"height": large.shape[0], "width": large.shape[1]}
    tracemalloc.start()
    data, result["encode_s"] = timed(encode_hole_mask, large)
    result["encode_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.reset_peak()
    decoded, result["decode_s"] = timed(decode_hole_mask, data, *large.shape)
    result["decode_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    if not np.array_equal(decoded, large):
        raise AssertionError("the large mask did not come back")
    result["bytes"] = len(data)
    return result


def main() -> None:
    frames = rgbd_test_frames(datasets_dir() / "rgbd")
    rows, first_with_holes = [], None
    for pair in frames:
        valid = read_depth(pair.depth, pair.unit).valid
        if valid.all():
            rows.append({"sequence": pair.sequence, "frame": pair.name, "pixels": valid.size, "holes": 0})
            continue
        first_with_holes = valid if first_with_holes is None else first_with_holes
        row = {"sequence": pair.sequence, "frame": pair.name, "pixels": valid.size, "holes": int((~valid).sum())}
        for coder in CODERS:
            row[f"{coder}_bytes"], row[f"{coder}_encode_s"], row[f"{coder}_decode_s"] = code(coder, valid)
        rows.append(row)
    table = ["| sequence | frames | with holes | holes % | " + " | ".join(f"{c} bytes" for c in CODERS)
             + " | context vs e7 | " + " | ".join(f"{c} enc / dec s" for c in CODERS) + " |",
             "|---|---|---|---|" + "---|" * (2 * len(CODERS) + 1)]
    groups = {}
    for row in rows:
        groups.setdefault(row["sequence"], []).append(row)
    groups["all"] = rows
    for name, group in groups.items():
        coded = [r for r in group if r["holes"]]
        holes = 100 * sum(r["holes"] for r in group) / sum(r["pixels"] for r in group)
        if not coded:
            table.append(f"| {name} | {len(group)} | 0 | {holes:.2f} | " + " | ".join("0" for _ in CODERS)
                         + " | n/a | " + " | ".join("n/a" for _ in CODERS) + " |")
            continue
        size = {c: sum(r[f"{c}_bytes"] for r in coded) for c in CODERS}
        mean = {key: np.mean([r[key] for r in coded]) for key in coded[0] if key.endswith("_s")}
        times = [f"{mean[f'{c}_encode_s']:.3f} / {mean[f'{c}_decode_s']:.3f}" for c in CODERS]
        table.append(f"| {name} | {len(group)} | {len(coded)} | {holes:.2f} | "
                     + " | ".join(f"{size[c]:,}" for c in CODERS)
                     + f" | {100 * (size['context'] / size['jpegxl-e7'] - 1):+.1f}% | " + " | ".join(times) + " |")
    table += ["", "Bytes are totals over the frames with holes (a map without holes costs an empty stream with "
              "every coder); times are means per frame with holes, one process."]
    large = large_mask(first_with_holes)
    table += ["", f"One large mask (the first above, tiled 8 × 8: {large['height']} × {large['width']}), context "
              f"coder: {large['bytes']:,} bytes, encode {large['encode_s']:.2f} s with a peak of "
              f"{large['encode_peak_mb']:.0f} MB of numpy memory, decode {large['decode_s']:.2f} s with a peak of "
              f"{large['decode_peak_mb']:.0f} MB."]
    write_results("hole_mask", {"frames": rows, "large_mask": large}, table, "python benchmarks/hole_mask.py")
    print("\n".join(table))


if __name__ == "__main__":
    main()
