"""What one stream for all slices saves a channel-wise model's files, on Kodak.

    python benchmarks/slice_streams.py   # → docs/benchmarks/slice_streams.md (+ .json)

A channel-wise entropy model (Minnen & Singh, arXiv 2007.08739, sec. 3; LIC-TCM, arXiv
2303.14978, sec. 3.3) codes y in slices whose tables depend on the slices decoded before. Files
since 2026-12-08 hold all slices in one ANS stream (:mod:`mmcodec.entropy.slice_coding`); before,
each slice was its own stream, and each stream cost its container entry (name, dependencies and
shape in the header; length and CRC in the body) and a flush of the ANS coder. This benchmark
codes each Kodak image with the shipped model, codes the same latents in the older layout (one
stream per slice, ``ChannelConditionalCodec.in_slice_streams``), writes that file with the
container's own writer and decodes it, checking that it gives the file's pixels (its latent digest
must match to decode at all), and times both decodes. Same latents, so the same PSNR.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import datasets_dir, write_results  # noqa: E402

from mmcodec import api  # noqa: E402
from mmcodec.container import read_mmc, write_mmc  # noqa: E402
from mmcodec.modalities.image import read_image  # noqa: E402
from mmcodec.zoo import find_entry  # noqa: E402

MODELS = ["mean-scale-channel-n64-mse-0.0067", "lic-tcm-cpu-mse-0.0067"]
BASELINE = "mbt2018-mean-n64-mse-0.0067"


def timed_decode(data: bytes) -> tuple[np.ndarray, float]:
    """The decoded image of ``data`` and the seconds :func:`mmcodec.api.decompress` took."""
    start = time.perf_counter()
    pixels = api.decompress(data)["image"]
    return pixels, time.perf_counter() - start


def measure(model: str, images: list[Path]) -> dict:
    entry = find_entry(model)
    codec = api.get_codec(entry)
    rows = []
    for path in images:
        image = read_image(path)
        data = api.compress(image, model=entry.model_id)
        mmc = read_mmc(data)
        coded = api.coded_latents(mmc.streams, api.IMAGE_MODALITY)
        coded.entropy_parameters = api.entropy_parameters_of(mmc.model_version, codec, mmc.model_id)
        latents = codec.initial_latents(codec.pad(api.to_tensor(image, codec.in_channels)))
        older = replace(mmc, streams=api.coded_streams(codec.in_slice_streams(coded, latents), api.IMAGE_MODALITY))
        older_data = write_mmc(older)   # decodes only if its latents match the file's (digest check)
        (pixels, seconds), (older_pixels, older_seconds) = timed_decode(data), timed_decode(older_data)
        if not np.array_equal(older_pixels, pixels):
            raise SystemExit(f"{model}, {path.name}: the per-slice file decodes to other pixels")
        rows.append({"image": path.name, "decode_seconds": seconds, "slice_streams_decode_seconds": older_seconds,
                     "file_bytes": len(data), "y_stream_bytes": len(mmc.streams[1][1]),
                     "slice_stream_bytes": sum(len(payload) for _, payload in older.streams[1:]),
                     "slice_streams_file_bytes": len(older_data), "slice_streams": len(older.streams) - 1})
    total = {key: sum(r[key] for r in rows) for key in ("file_bytes", "y_stream_bytes", "slice_stream_bytes",
                                                         "slice_streams_file_bytes", "decode_seconds",
                                                         "slice_streams_decode_seconds")}
    return {"model": entry.model_id, "images": len(rows), "slices": rows[0]["slice_streams"], **total,
            "saving_percent": 100 * (total["slice_streams_file_bytes"] - total["file_bytes"])
            / total["slice_streams_file_bytes"], "per_image": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=datasets_dir() / "kodak")
    args = parser.parse_args()
    images = sorted(args.data.glob("*.png"))
    baseline = sum(len(api.compress(read_image(p), model=BASELINE)) for p in images)
    results = [measure(model, images) for model in MODELS]
    n = len(images)
    table = [f"{n} Kodak images; bytes are means per file; same latents, so the same PSNR. `{BASELINE}` (two "
             f"streams, the model `mean-scale-channel` starts from): {baseline / n:.0f} bytes per file.", "",
             "| model | slices | file, one stream per slice (before 2026-12-08) | slice streams | file now "
             f"| y stream now | saving | vs {BASELINE}, before / now | decode s, before / now |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        vs_before = 100 * (r["slice_streams_file_bytes"] / baseline - 1)
        vs_now = 100 * (r["file_bytes"] / baseline - 1)
        comparable = r["model"].startswith("mean-scale-channel")
        table.append(f"| {r['model']} | {r['slices']} | {r['slice_streams_file_bytes'] / n:.0f} | "
                     f"{r['slice_stream_bytes'] / n:.0f} | {r['file_bytes'] / n:.0f} | "
                     f"{r['y_stream_bytes'] / n:.0f} | {-r['saving_percent']:+.2f}% | "
                     + (f"{vs_before:+.2f}% / {vs_now:+.2f}% |" if comparable else "(another rate point) |")
                     + f" {r['slice_streams_decode_seconds'] / n:.3f} / {r['decode_seconds'] / n:.3f} |")
    write_results("slice_streams", {"baseline": BASELINE, "baseline_file_bytes": baseline, "models": results},
                  table, "python benchmarks/slice_streams.py")
    print("\n".join(table))


if __name__ == "__main__":
    main()
