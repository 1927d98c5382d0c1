"""Entropy-coder overhead: actual stream bytes vs the model's estimated bits, on Kodak.

The estimate is -Σ log2 p of the rounded latents under the model's continuous likelihoods
(what an ideal coder would spend); the actual size is the sum of the entropy-coded streams.
The .mmc container's header (its JSON and, per stream, a length and a CRC) is reported
separately, per file and as a share of the file. Target (DESIGN.md): ≤ 1% + header. Several
models side by side show what each stream costs: every stream pays its header entry and the
coder's flush (a channel-wise model's slices share one stream since 2026-12-08,
``benchmarks/slice_streams.py``).

    python benchmarks/coder_overhead.py [--models ID ...] [--data DIR]
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
    files = sum(r["file_bits"] for r in rows)
    return {"model": entry.model_id, "images": len(rows), "streams": len(rows[0]["stream_bits"]),
            "estimated_bits": est, "stream_bits": act, "overhead_percent": 100 * (act - est) / est,
            "mean_header_bytes": float(np.mean([r["header_bits"] for r in rows]) / 8),
            "mean_file_bytes": files / 8 / len(rows),
            "header_percent_of_files": 100 * sum(r["header_bits"] for r in rows) / files, "per_image": rows}


DEFAULT_MODELS = ["mbt2018-mean-n64-mse-0.0009", "mbt2018-mean-n64-mse-0.0067", "mean-scale-channel-n64-mse-0.0067",
                  "lic-tcm-cpu-mse-0.0067"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS)
    parser.add_argument("--data", type=Path, default=datasets_dir() / "kodak")
    args = parser.parse_args()
    results = [measure(model, args.data) for model in args.models]
    table = ["| model | images | streams per file | estimated kbit | stream kbit | coder overhead | "
             "container header (mean) | mean file | header, share of the files |",
             "|---|---|---|---|---|---|---|---|---|"]
    for result in results:
        table.append(f"| {result['model']} | {result['images']} | {result['streams']} | "
                     f"{result['estimated_bits'] / 1e3:.1f} | {result['stream_bits'] / 1e3:.1f} | "
                     f"{result['overhead_percent']:+.3f}% | {result['mean_header_bytes']:.0f} bytes | "
                     f"{result['mean_file_bytes']:.0f} bytes | {result['header_percent_of_files']:.2f}% |")
    table += ["", "Coder overhead: the streams against the model's estimate; the header: the file against its "
              "streams. Per stream and image: see the JSON file beside this one."]
    command = "python benchmarks/coder_overhead.py" + (f" --models {' '.join(args.models)}"
                                                       if args.models != DEFAULT_MODELS else "")
    write_results("coder_overhead", {"models": results}, table, command)
    print("\n".join(table))


if __name__ == "__main__":
    main()
