"""What one stream for all slices would save a channel-wise model's files, on Kodak.

    python benchmarks/slice_streams.py   # → docs/benchmarks/slice_streams.md (+ .json)

A channel-wise entropy model (Minnen & Singh, arXiv 2007.08739, sec. 3; LIC-TCM, arXiv
2303.14978, sec. 3.3) codes y in slices whose tables depend on the slices decoded before. Today
each slice is its own stream, and each stream costs its container entry (name, dependencies,
shape in the header; length and CRC in the body) and a flush of the ANS coder. The encoder knows
every slice's tables, so all slices fit one ANS stream pushed last slice first
(:func:`mmcodec.entropy.coder.encode_groups`), which the decoder pops slice by slice
(:class:`~mmcodec.entropy.coder.GroupDecoder`) as it learns each slice's tables. This benchmark
codes each Kodak image with the shipped model as it is, rebuilds every slice's integer residuals
and table indices exactly as the encoder had them (checked: coded apart, they give the file's
streams byte for byte), codes them as one stream, and writes the same file with that one stream
in place of the slices (the container's own writer). The latents, hence the PSNR, are the same.
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
from mmcodec.codecs.fixed_point_slices import FixedPointSlices  # noqa: E402
from mmcodec.container import MmcFile, StreamInfo, read_mmc, write_mmc  # noqa: E402
from mmcodec.entropy.coder import encode_groups, encode_with_tables  # noqa: E402
from mmcodec.modalities.image import read_image  # noqa: E402
from mmcodec.zoo import find_entry  # noqa: E402

MODELS = ["mean-scale-channel-n64-mse-0.0067", "lic-tcm-cpu-mse-0.0067"]
BASELINE = "mbt2018-mean-n64-mse-0.0067"


@torch.no_grad()
def slice_groups(codec: torch.nn.Module, x: torch.Tensor) -> list[tuple[np.ndarray, np.ndarray]]:
    """(integer residuals, table indices) of every slice of ``x``'s y, as the encoder codes them."""
    latents = codec.initial_latents(x)
    _, z_hat = codec.z_model.compress(latents["z"].cpu())
    means, scales, slices = codec._slice_coding(z_hat, codec.encoder_entropy_parameters(), x.device)
    if not isinstance(slices, FixedPointSlices):
        raise SystemExit(f"{codec.name}: expected fixed-point slices (files of model version 2)")
    conditional = slices.model.gaussian_conditional
    groups, decoded = [], []
    for index, y_slice in enumerate(latents["y"].cpu().chunk(slices.model.num_slices, dim=1)):
        mu, scale, support = slices.slice_parameters(index, means, scales, decoded)
        residual = torch.round(y_slice - mu)
        groups.append((residual.to(torch.int32).numpy(), conditional.exact_scale_indexes(scale)))
        decoded.append(slices.residual_prediction(index, support, residual + mu))
    return groups


def with_one_y_stream(mmc: MmcFile, one_stream: bytes) -> MmcFile:
    """``mmc`` with its slice streams replaced by one stream of the whole y."""
    z_info, z_data = mmc.streams[0]
    slice_infos = [info for info, _ in mmc.streams[1:]]
    shape = list(slice_infos[0].shape)
    shape[1] *= len(slice_infos)
    y_info = StreamInfo(f"{z_info.modality}/y", z_info.modality, (z_info.name,), tuple(shape))
    return MmcFile(mmc.model_id, mmc.model_version, mmc.weights_digest, mmc.modalities,
                   [(z_info, z_data), (y_info, one_stream)], mmc.latent_digest, mmc.codec_params)


def measure(model: str, images: list[Path]) -> dict:
    entry = find_entry(model)
    codec = api.get_codec(entry)
    tables = codec.y_model.gaussian_conditional.tables()
    rows = []
    for path in images:
        image = read_image(path)
        data = api.compress(image, model=entry.model_id)
        mmc = read_mmc(data)
        groups = slice_groups(codec, codec.pad(api.to_tensor(image, codec.in_channels)))
        apart = [encode_with_tables(values, index, tables) for values, index in groups]
        if apart != [payload for _, payload in mmc.streams[1:]]:
            raise SystemExit(f"{model}, {path.name}: the rebuilt slices do not give the file's streams")
        one = encode_groups(groups, tables)
        rows.append({"image": path.name, "file_bytes": len(data), "slice_stream_bytes": sum(map(len, apart)),
                     "one_stream_bytes": len(one), "one_stream_file_bytes": len(write_mmc(with_one_y_stream(mmc, one))),
                     "streams": len(mmc.streams)})
    total = {key: sum(r[key] for r in rows) for key in ("file_bytes", "slice_stream_bytes", "one_stream_bytes",
                                                         "one_stream_file_bytes")}
    return {"model": entry.model_id, "images": len(rows), "streams": rows[0]["streams"], **total,
            "saving_percent": 100 * (total["file_bytes"] - total["one_stream_file_bytes"]) / total["file_bytes"],
            "per_image": rows}


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
             "| model | streams now | file | slice streams | one stream for the slices | file with one y stream "
             f"| saving | vs {BASELINE}, now / one stream |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        vs_now = 100 * (r["file_bytes"] / baseline - 1)
        vs_one = 100 * (r["one_stream_file_bytes"] / baseline - 1)
        comparable = r["model"].startswith("mean-scale-channel")
        table.append(f"| {r['model']} | {r['streams']} | {r['file_bytes'] / n:.0f} | "
                     f"{r['slice_stream_bytes'] / n:.0f} | {r['one_stream_bytes'] / n:.0f} | "
                     f"{r['one_stream_file_bytes'] / n:.0f} | "
                     f"{-r['saving_percent']:+.2f}% | "
                     + (f"{vs_now:+.2f}% / {vs_one:+.2f}% |" if comparable else "(another rate point) |"))
    write_results("slice_streams", {"baseline": BASELINE, "baseline_file_bytes": baseline, "models": results},
                  table, "python benchmarks/slice_streams.py")
    print("\n".join(table))


if __name__ == "__main__":
    main()
