"""Entropy-coder overhead: actual stream bytes vs the model's estimated bits, on Kodak.

The estimate is -Σ log2 p of the rounded latents under the model's continuous likelihoods
(what an ideal coder would spend); the actual size is the sum of the entropy-coded streams.
The .mmc container's fixed header is reported separately. Target (DESIGN.md): ≤ 1% + header.

    python benchmarks/coder_overhead.py [--model ID] [--data DIR]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import datasets_dir, write_results  # noqa: E402

from mmcodec import api  # noqa: E402
from mmcodec.modalities.image import read_image  # noqa: E402
from mmcodec.zoo import find_entry  # noqa: E402


def measure(model: str | None, folder: Path) -> dict:
    entry = find_entry(model)
    codec = api.get_codec(entry)
    rows = []
    for path in sorted(folder.glob("*.png")):
        image = read_image(path)
        x = codec.pad(api.to_tensor(image, codec.in_channels))
        with torch.no_grad():
            likelihoods = codec(x)["likelihoods"]
        estimate = {k: float(-torch.log2(v).sum()) for k, v in likelihoods.items()}
        coded = codec.compress(x)
        actual = {k: 8 * len(v) for k, v in coded.streams.items()}
        container = 8 * len(api.compress(image, model=entry.model_id))
        rows.append({"image": path.name, "estimated_bits": estimate, "stream_bits": actual,
                     "file_bits": container, "header_bits": container - sum(actual.values())})
    est = sum(sum(r["estimated_bits"].values()) for r in rows)
    act = sum(sum(r["stream_bits"].values()) for r in rows)
    return {"model": entry.model_id, "images": len(rows), "estimated_bits": est, "stream_bits": act,
            "overhead_percent": 100 * (act - est) / est,
            "mean_header_bytes": float(np.mean([r["header_bits"] for r in rows]) / 8), "per_image": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model")
    parser.add_argument("--data", type=Path, default=datasets_dir() / "kodak")
    args = parser.parse_args()
    result = measure(args.model, args.data)
    table = ["| model | images | estimated kbit | stream kbit | overhead | container header (mean) |",
             "|---|---|---|---|---|---|",
             f"| {result['model']} | {result['images']} | {result['estimated_bits'] / 1e3:.1f} | "
             f"{result['stream_bits'] / 1e3:.1f} | {result['overhead_percent']:+.3f}% | "
             f"{result['mean_header_bytes']:.0f} bytes |", "",
             "Per stream and image: see the JSON file beside this one."]
    write_results("coder_overhead", result, table, "python benchmarks/coder_overhead.py")
    print("\n".join(table[:3]))


if __name__ == "__main__":
    main()
