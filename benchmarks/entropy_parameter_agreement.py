"""Do two computations of the entropy parameters agree? Float h_s against its fixed-point copy.

    python benchmarks/entropy_parameter_agreement.py   # → docs/benchmarks/entropy_parameter_agreement.md

A decoder must snap every σ to the same entry of the scale table as the encoder did; one element
snapped elsewhere desynchronises the arithmetic decoder for the rest of the stream, and the file
fails its latent digest check. A platform with other convolution kernels (another CPU, library or
thread count) sums in another order. This benchmark stands in for such platforms with three
computations of h_s on the same ẑ of each Kodak image, for every shipped mean-scale model: torch's
native kernels on one thread (what the encoder uses), oneDNN on two threads, and native kernels with
the input channels (and h_s's first weights) reversed, so that every sum of the first layer runs
in the opposite order. It counts the σ that land on another table entry than the first computation's,
and the images with at least one (files another platform would fail to decode), for the float h_s
and for the fixed-point one (:mod:`mmcodec.layers.integer_network`, what files of model version 2
use). It also codes every image both ways with real files: what the fixed-point h_s costs in bytes
and PSNR, and the time of one h_s evaluation.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import datasets_dir, write_results  # noqa: E402

from mmcodec.api import to_tensor  # noqa: E402
from mmcodec.codecs.mean_scale import MeanScaleHyperpriorCodec, hyper_synthesis  # noqa: E402
from mmcodec.layers.integer_network import IntegerNetwork  # noqa: E402
from mmcodec.layers.native import exact_kernels  # noqa: E402
from mmcodec.modalities.image import read_image  # noqa: E402
from mmcodec.zoo import list_models, load_model  # noqa: E402

COMPUTATIONS = ("native, 1 thread", "oneDNN, 2 threads", "native, channels reversed")


@contextlib.contextmanager
def onednn_on_two_threads():
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)   # torch's note on TF32 for Intel GPUs
            with torch.backends.mkldnn.flags(enabled=True):
                yield
    finally:
        torch.set_num_threads(threads)


def reversed_input_copy(h_s: torch.nn.Sequential) -> torch.nn.Sequential:
    """h_s with its input channels in reverse order (call it on ẑ.flip(1)): the same function, other sums."""
    copy = hyper_synthesis(h_s[0].in_channels, h_s[0].out_channels)
    copy.load_state_dict(h_s.state_dict())
    with torch.no_grad():
        copy[0].weight.copy_(h_s[0].weight.flip(0))
    return copy


def float_scales(h_s: torch.nn.Sequential, reversed_h_s: torch.nn.Sequential, z_hat: torch.Tensor) -> list:
    with torch.no_grad():
        with exact_kernels():
            first = h_s(z_hat)
        with onednn_on_two_threads():
            second = h_s(z_hat)
        with exact_kernels():
            third = reversed_h_s(z_hat.flip(1))
    return [out.chunk(2, dim=1)[0] for out in (first, second, third)]


def integer_scales(h_s: torch.nn.Sequential, reversed_h_s: torch.nn.Sequential, z_hat: torch.Tensor) -> list:
    network, reversed_network = IntegerNetwork(h_s), IntegerNetwork(reversed_h_s)
    first = network(z_hat)
    with onednn_on_two_threads():
        second = network(z_hat)
    third = reversed_network(z_hat.flip(1))
    return [out.chunk(2, dim=1)[0] for out in (first, second, third)]


def file_bytes(codec: MeanScaleHyperpriorCodec, latents: dict, mode: str) -> tuple[int, torch.Tensor]:
    """Bytes of the streams coded with ``mode``'s entropy parameters, and the decoded image."""
    codec.entropy_parameter_modes = ("float", mode) if mode == "integer" else ("float",)
    try:
        coded = codec.compress_latents(latents)
        x_hat, digest = codec.decompress(coded)
    finally:
        del codec.entropy_parameter_modes   # back to the class's modes
    assert digest == coded.digest, "a round trip on one machine must decode"
    return sum(len(s) for s in coded.streams.values()), x_hat


def psnr(x: torch.Tensor, x_hat: torch.Tensor) -> float:
    mse = ((x_hat.clamp(0, 1) * 255).round() / 255 - x).pow(2).mean().item()
    return 10 * float(np.log10(1 / mse))


def measure(entry, images: list[Path]) -> dict:
    codec = load_model(entry)
    assert isinstance(codec, MeanScaleHyperpriorCodec)
    reversed_h_s = reversed_input_copy(codec.h_s)
    disagreements = {"float": [0, 0], "integer": [0, 0]}   # [elements, images]
    elements = 0
    sizes = {"float": 0, "integer": 0}
    psnrs = {"float": [], "integer": []}
    times = {"float": [], "integer": []}
    for path in images:
        x = to_tensor(read_image(path), 3)
        with torch.no_grad():
            latents = codec.initial_latents(codec.pad(x))
            medians = codec.z_model.medians.view(1, -1, 1, 1)
            z_hat = torch.round(latents["z"] - medians) + medians
        for mode, compute in (("float", float_scales), ("integer", integer_scales)):
            scales = compute(codec.h_s, reversed_h_s, z_hat)
            index = codec.y_model.exact_scale_indexes if mode == "integer" else codec.y_model.scale_indexes
            reference = index(scales[0])
            differing = sum(int((index(s) != reference).sum()) for s in scales[1:])
            disagreements[mode][0] += differing
            disagreements[mode][1] += differing > 0
            start = time.perf_counter()
            codec._coding_hyper(z_hat, mode)
            times[mode].append(time.perf_counter() - start)
            size, x_hat = file_bytes(codec, latents, mode)
            sizes[mode] += size
            psnrs[mode].append(psnr(x, codec.crop(x_hat, x.shape[-2], x.shape[-1])))
        elements += reference.size
    return {"model": entry.model_id, "lambda": entry.lmbda, "images": len(images), "scales": elements,
            **{f"{mode}_{what}": disagreements[mode][i] for mode in disagreements
               for i, what in enumerate(("disagreeing_scales", "images_affected"))},
            "float_bytes": sizes["float"], "integer_bytes": sizes["integer"],
            "float_psnr": sum(psnrs["float"]) / len(images), "integer_psnr": sum(psnrs["integer"]) / len(images),
            "float_h_s_seconds": sum(times["float"]) / len(images),
            "integer_h_s_seconds": sum(times["integer"]) / len(images)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=datasets_dir() / "kodak")
    parser.add_argument("--name", default="entropy_parameter_agreement")
    args = parser.parse_args()
    images = sorted(args.data.glob("*.png"))
    entries = [e for e in list_models() if e.architecture == "mean-scale"]
    rows = []
    for entry in entries:
        rows.append(measure(entry, images))
        print(rows[-1], flush=True)
    table = [f"{len(images)} images of `{args.data.name}`; σ computed three ways on the same ẑ "
             f"({'; '.join(COMPUTATIONS)}); "
             "'disagreeing σ': entries of the scale table other than the first computation's, summed over the "
             "other two; 'images': images with at least one (their files would fail to decode where h_s is computed "
             "that way). Bytes and PSNR: real streams, coded and decoded here with each h_s.", "",
             "| model | λ | σ per computation | float h_s: disagreeing σ | images | fixed-point h_s: disagreeing σ | "
             "images | bytes, fixed-point vs float | PSNR change | h_s ms, float / fixed-point |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        change = 100 * (r["integer_bytes"] / r["float_bytes"] - 1)
        table.append(f"| {r['model']} | {r['lambda']:g} | {r['scales']:,} | {r['float_disagreeing_scales']} | "
                     f"{r['float_images_affected']} / {r['images']} | {r['integer_disagreeing_scales']} | "
                     f"{r['integer_images_affected']} / {r['images']} | {change:+.3f}% | "
                     f"{r['integer_psnr'] - r['float_psnr']:+.4f} dB | "
                     f"{1000 * r['float_h_s_seconds']:.1f} / {1000 * r['integer_h_s_seconds']:.1f} |")
    command = "python benchmarks/entropy_parameter_agreement.py"
    command += f" --name {args.name}" if args.name != "entropy_parameter_agreement" else ""
    write_results(args.name, {"computations": list(COMPUTATIONS), "results": rows}, table, command)


if __name__ == "__main__":
    main()
