"""Do two computations of the entropy parameters agree? Float h_s against its fixed-point copy.

    python benchmarks/entropy_parameter_agreement.py   # → docs/benchmarks/entropy_parameter_agreement.md

A decoder must snap every σ to the same entry of the scale table as the encoder did; one element
snapped elsewhere desynchronises the arithmetic decoder for the rest of the stream, and the file
fails its latent digest check. A platform with other convolution kernels (another CPU, library or
thread count) sums in another order. This benchmark stands in for such platforms with three
computations of h_s on the same ẑ of each input, for every shipped mean-scale model (24 Kodak images)
and depth-only model (held-out depth maps): torch's native kernels on one thread (what the encoder
uses), oneDNN on two threads, and native kernels with the input channels (and h_s's first weights)
reversed, so that every sum of the first layer runs in the opposite order. It counts the σ that land
on another table entry than the first computation's, and the inputs with at least one (files
another platform would fail to decode), for the float h_s and for the fixed-point one
(:mod:`mmcodec.layers.integer_network`, what files of model version 2 use). It also codes every
input both ways with real streams: what the fixed-point h_s costs in bytes and PSNR, and the time
of one h_s evaluation.
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
from mmcodec.codecs import DepthMeanScaleCodec, LearnedCodec  # noqa: E402
from mmcodec.codecs.base import float_entropy_parameters  # noqa: E402
from mmcodec.codecs.mean_scale import hyper_synthesis  # noqa: E402
from mmcodec.evaluate.rgbd_evaluate import rgbd_test_frames  # noqa: E402
from mmcodec.layers.integer_network import IntegerNetwork  # noqa: E402
from mmcodec.layers.native import exact_kernels  # noqa: E402
from mmcodec.modalities.depth import coding_plane, read_depth  # noqa: E402
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


def integer_scales(network: IntegerNetwork, reversed_network: IntegerNetwork, z_hat: torch.Tensor) -> list:
    first = network(z_hat)
    with onednn_on_two_threads():
        second = network(z_hat)
    third = reversed_network(z_hat.flip(1))
    return [out.chunk(2, dim=1)[0] for out in (first, second, third)]


def file_bytes(codec: LearnedCodec, latents: dict, mode: str) -> tuple[int, torch.Tensor]:
    """Bytes of the streams coded with ``mode``'s entropy parameters, and the decoded image."""
    with float_entropy_parameters(codec) if mode == "float" else contextlib.nullcontext():
        coded = codec.compress_latents(latents)
    assert coded.entropy_parameters == mode
    x_hat, digest = codec.decompress(coded)
    assert digest == coded.digest, "a round trip on one machine must decode"
    return sum(len(s) for s in coded.streams.values()), x_hat


def coding_parameters(codec: LearnedCodec, z_hat: torch.Tensor, mode: str) -> tuple[torch.Tensor, torch.Tensor]:
    """σ, μ as the codec's coder computes them (a depth codec here codes the depth alone)."""
    if isinstance(codec, DepthMeanScaleCodec):
        return codec._gaussian_parameters(z_hat, None, mode)
    return codec._coding_hyper(z_hat, mode)


def psnr(x: torch.Tensor, x_hat: torch.Tensor, levels: int) -> float:
    mse = ((x_hat.clamp(0, 1) * levels).round() / levels - x).pow(2).mean().item()
    return 10 * float(np.log10(1 / mse))


def kodak_inputs(folder: Path) -> list[torch.Tensor]:
    return [to_tensor(read_image(path), 3) for path in sorted(folder.glob("*.png"))]


def depth_inputs(root: Path, frames: int) -> list[torch.Tensor]:
    """Held-out depth maps as the depth codecs take them (mm / 65535, holes filled)."""
    return [torch.from_numpy(coding_plane(read_depth(pair.depth, pair.unit)))[None, None]
            for pair in rgbd_test_frames(root, frames)]


def measure(entry, inputs: list[torch.Tensor], levels: int) -> dict:
    """For one model over ``inputs`` (on [0, 1], ``levels`` steps for the PSNR): σ disagreements of
    the three computations, float and fixed point, and both codings' bytes, PSNR and h_s time."""
    codec = load_model(entry)
    reversed_h_s = reversed_input_copy(codec.h_s)
    networks = {"float": (codec.h_s, reversed_h_s),
                "integer": (IntegerNetwork(codec.h_s), IntegerNetwork(reversed_h_s))}   # built once per model
    disagreements = {"float": [0, 0], "integer": [0, 0]}   # [elements, inputs]
    elements = 0
    sizes = {"float": 0, "integer": 0}
    psnrs = {"float": [], "integer": []}
    times = {"float": [], "integer": []}
    for x in inputs:
        with torch.no_grad():
            latents = codec.initial_latents(codec.pad(x))
            medians = codec.z_model.medians.view(1, -1, 1, 1)
            z_hat = torch.round(latents["z"] - medians) + medians
        for mode, compute in (("float", float_scales), ("integer", integer_scales)):
            scales = compute(*networks[mode], z_hat)
            index = codec.y_model.exact_scale_indexes if mode == "integer" else codec.y_model.scale_indexes
            reference = index(scales[0])
            differing = sum(int((index(s) != reference).sum()) for s in scales[1:])
            disagreements[mode][0] += differing
            disagreements[mode][1] += differing > 0
            start = time.perf_counter()
            coding_parameters(codec, z_hat, mode)
            times[mode].append(time.perf_counter() - start)
            size, x_hat = file_bytes(codec, latents, mode)
            sizes[mode] += size
            psnrs[mode].append(psnr(x, codec.crop(x_hat, x.shape[-2], x.shape[-1]), levels))
        elements += reference.size
    count = len(inputs)
    return {"model": entry.model_id, "lambda": entry.lmbda, "images": count, "scales": elements,
            **{f"{mode}_{what}": disagreements[mode][i] for mode in disagreements
               for i, what in enumerate(("disagreeing_scales", "images_affected"))},
            "float_bytes": sizes["float"], "integer_bytes": sizes["integer"],
            "float_psnr": sum(psnrs["float"]) / count, "integer_psnr": sum(psnrs["integer"]) / count,
            "float_h_s_seconds": sum(times["float"]) / count, "integer_h_s_seconds": sum(times["integer"]) / count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kodak", type=Path, default=datasets_dir() / "kodak")
    parser.add_argument("--rgbd", type=Path, default=datasets_dir() / "rgbd")
    parser.add_argument("--depth-frames", type=int, default=24, help="held-out depth maps, spread over the test frames")
    parser.add_argument("--name", default="entropy_parameter_agreement")
    args = parser.parse_args()
    rows = []
    for architecture, inputs, levels, what in (
            ("mean-scale", kodak_inputs(args.kodak), 255, f"`{args.kodak.name}` images"),
            ("depth-mean-scale", depth_inputs(args.rgbd, args.depth_frames), 65535, "held-out depth maps")):
        for entry in (e for e in list_models() if e.architecture == architecture):
            rows.append({**measure(entry, inputs, levels), "inputs": what})
            print(rows[-1], flush=True)
    table = ["σ computed three ways on the same ẑ of each input "
             f"({'; '.join(COMPUTATIONS)}); 'disagreeing σ': entries of the scale table other than the first "
             "computation's, summed over the other two; 'inputs': inputs with at least one (their files would fail "
             "to decode where h_s is computed that way). Bytes and PSNR (255 levels for images, 65535 for depth, "
             "holes filled): real streams, coded and decoded here with each h_s.", "",
             "| model | λ | inputs | σ per computation | float h_s: disagreeing σ | inputs | fixed-point h_s: "
             "disagreeing σ | inputs | bytes, fixed-point vs float | PSNR change | h_s ms, float / fixed-point |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        change = 100 * (r["integer_bytes"] / r["float_bytes"] - 1)
        table.append(f"| {r['model']} | {r['lambda']:g} | {r['images']} {r['inputs']} | {r['scales']:,} | "
                     f"{r['float_disagreeing_scales']} | "
                     f"{r['float_images_affected']} / {r['images']} | {r['integer_disagreeing_scales']} | "
                     f"{r['integer_images_affected']} / {r['images']} | {change:+.3f}% | "
                     f"{r['integer_psnr'] - r['float_psnr']:+.4f} dB | "
                     f"{1000 * r['float_h_s_seconds']:.1f} / {1000 * r['integer_h_s_seconds']:.1f} |")
    command = "python benchmarks/entropy_parameter_agreement.py"
    command += f" --depth-frames {args.depth_frames}" if args.depth_frames != 24 else ""
    command += f" --name {args.name}" if args.name != "entropy_parameter_agreement" else ""
    write_results(args.name, {"computations": list(COMPUTATIONS), "results": rows}, table, command)


if __name__ == "__main__":
    main()
