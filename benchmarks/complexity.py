"""Complexity of the LIC-TCM family and the RGB-D architectures, in the layout of the RGB-D thesis's
Tables 14–15 (encoding / decoding time, parameters, GMACs), plus the other image architectures at
their default sizes and the models this package ships.

    python benchmarks/complexity.py                  # → docs/benchmarks/complexity.md (+ .json)
    python benchmarks/complexity.py --size 256 256   # another input size

Times are real ``compress`` / ``decompress`` calls (entropy coding included) on one random
input of the given size on this machine's CPU, best of ``--repeats`` after one warm-up; MACs are
counted by forward hooks (convolutions, linears, GDN, attention products) at the same size.
The thesis measured on an RTX 4090 with DeepSpeed (FLOPs = 2 × MACs there), so only the
parameter counts are directly comparable. A codec with fixed-point entropy parameters (files of
model version 2) is timed as it codes now and, in the last columns, held to the float networks
(``float_entropy_parameters``: files of version 1, as before).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import write_results  # noqa: E402

from mmcodec.api import written_model_version  # noqa: E402
from mmcodec.codecs import TCMCodec, create  # noqa: E402
from mmcodec.codecs.base import float_entropy_parameters  # noqa: E402
from mmcodec.evaluate.profile import count_macs, count_parameters, time_coding  # noqa: E402
from mmcodec.zoo import list_models, load_model  # noqa: E402

# (row label, architecture, config, thesis parameters in M or None)
THESIS_ROWS = [
    ("Baseline - RGB (LIC-TCM, N=64)", "tcm", {"n": 64}, 45.18),
    ("Fusion - 4C (RGB target)", "tcm-4c", {"n": 64, "target": "rgb"}, 45.18),
    ("Fusion - Attention (RGB target)", "mm-tcm-attention", {"n": 64}, 53.53),
    ("Baseline - Depth (LIC-TCM, N=64, 1 channel)", "tcm", {"n": 64, "in_channels": 1}, 45.17),
    ("Fusion - 4C (depth target)", "tcm-4c", {"n": 64, "target": "depth"}, 45.17),
    ("Fusion - Convolutional (depth target)", "mm-tcm-conv", {"n": 64}, 47.6),
    ("LIC-TCM CPU configuration (ours)", "tcm", TCMCodec.cpu_config, None),
]
# the other image architectures at their default (paper) sizes, random weights
ARCHITECTURE_ROWS = [
    ("bmshj2018-hyperprior (N=128, M=192)", "hyperprior", {}, None),
    ("mbt2018-mean (N=128, M=192)", "mean-scale", {}, None),
    ("ms2020 (N=192, M=320, 10 slices)", "ms2020", {}, None),
]


def measure(codec: torch.nn.Module, height: int, width: int, repeats: int) -> dict:
    torch.manual_seed(0)
    codec = codec.eval()
    x = codec.pad(torch.rand(1, codec.in_channels, height, width))
    with torch.no_grad():
        macs = sum(count_macs(codec, x).values())
    times = time_coding(codec, height, width, repeats=repeats)
    row = {"parameters": count_parameters(codec), "gmacs": macs / 1e9,
           "model_version": written_model_version(codec.name), **times}
    if row["model_version"] != 1:
        with float_entropy_parameters(codec):
            floating = time_coding(codec, height, width, repeats=repeats)
        row.update(float_encode_s=floating["encode_s"], float_decode_s=floating["decode_s"])
    return row


def milliseconds(row: dict, key: str) -> str:
    return f"{row[key] * 1e3:.0f} ms" if key in row else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, nargs=2, default=(512, 768), metavar=("HEIGHT", "WIDTH"))
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    height, width = args.size
    rows = []
    for label, architecture, config, thesis in THESIS_ROWS + ARCHITECTURE_ROWS:
        print(label, flush=True)
        rows.append({"label": label, "architecture": architecture, "config": config, "thesis_parameters_m": thesis,
                     **measure(create(architecture, **config), height, width, args.repeats)})
    for entry in list_models():
        print(entry.model_id, flush=True)
        rows.append({"label": f"shipped: {entry.model_id}", "architecture": entry.architecture, "config": entry.config,
                     "thesis_parameters_m": None, **measure(load_model(entry), height, width, args.repeats)})
    table = [f"Input {width}×{height}; encode / decode = real `compress` / `decompress` (best of {args.repeats} "
             "after a warm-up); MACs of one forward pass at that size.", "",
             "Model version 2: the entropy parameters in fixed point (the same bits on every platform); "
             "the last two columns: the same codec held to its float entropy networks (version 1).", "",
             "| model | files of model version | encoding time | decoding time | parameters | thesis parameters "
             "| GMACs | encoding, version 1 | decoding, version 1 |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        thesis = f"{r['thesis_parameters_m']:.2f} M" if r["thesis_parameters_m"] else ""
        table.append(f"| {r['label']} | {r['model_version']} | {milliseconds(r, 'encode_s')} | "
                     f"{milliseconds(r, 'decode_s')} | {r['parameters'] / 1e6:.2f} M | {thesis} | {r['gmacs']:.1f} | "
                     f"{milliseconds(r, 'float_encode_s')} | {milliseconds(r, 'float_decode_s')} |")
    command = "python benchmarks/complexity.py" + (f" --size {height} {width}" if (height, width) != (512, 768) else "")
    write_results("complexity", {"size": [height, width], "rows": rows}, table, command)
    print("\n".join(table))


if __name__ == "__main__":
    main()
