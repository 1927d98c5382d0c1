"""Do two computations of the entropy parameters agree? The float networks against their fixed-point copies.

    python benchmarks/entropy_parameter_agreement.py   # → docs/benchmarks/entropy_parameter_agreement.md

A decoder must snap every σ to the same entry of the scale table as the encoder did; one element
snapped elsewhere desynchronises the arithmetic decoder for the rest of the stream, and the file
fails its latent digest check. A platform with other convolution kernels (another CPU, library or
thread count) sums in another order. This benchmark stands in for such platforms with three
computations of σ on the same ẑ of each input, for every shipped mean-scale model (24 Kodak images),
the channel-conditional `mean-scale-channel` and LIC-TCM (the same images; σ of every slice, each
slice rounded and corrected by LRP before it conditions the next, as the coder does), depth-only model (held-out
depth maps) and RGB-conditioned depth model (the same frames, with the colour its RGB model's files
decode to; σ comes from h_s(ẑ) and the colour features f_c(x̂_rgb)):
torch's native kernels on one thread (what the encoder uses), oneDNN on two threads, and native
kernels with the input channels reversed (ẑ's, or the colour's for a conditioned model) and the
first layer's weights with them, so that every sum of that layer runs in the opposite order. It
counts the σ that land on another table entry than the first computation's, and the inputs with at
least one (files another platform would fail to decode), for the float networks and for the
fixed-point ones (:mod:`mmcodec.layers.integer_network`, :mod:`mmcodec.layers.fixed_point_modules`
for LIC-TCM: what files of model version 2 use). It also
codes every input both ways with real streams: what the fixed-point parameters cost in bytes and
PSNR, and the time of one evaluation of them.
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
from mmcodec.codecs import DepthMeanScaleCodec, LearnedCodec, create  # noqa: E402
from mmcodec.codecs.base import float_entropy_parameters  # noqa: E402
from mmcodec.codecs.channel_autoregressive import ChannelConditionalCodec  # noqa: E402
from mmcodec.codecs.fixed_point_slices import FixedPointSlices  # noqa: E402
from mmcodec.codecs.tcm import TCMCodec  # noqa: E402
from mmcodec.evaluate.rgbd_evaluate import rgbd_test_frames  # noqa: E402
from mmcodec.layers.native import exact_kernels  # noqa: E402
from mmcodec.modalities.depth import coding_plane, read_depth  # noqa: E402
from mmcodec.modalities.image import read_image  # noqa: E402
from mmcodec.zoo import list_models, load_model  # noqa: E402

COMPUTATIONS = ("native, 1 thread", "oneDNN, 2 threads", "native, channels reversed")
ARCHITECTURES = ("mean-scale", "mean-scale-channel", "tcm", "depth-mean-scale", "rgb-conditional-depth")


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


def flipped_copy(codec: LearnedCodec) -> LearnedCodec:
    """``codec`` computing the same entropy parameters from inputs whose channels are reversed (ẑ's, or
    for a colour-conditioned codec the colour's), its first weights reversed with them: every sum of
    that first layer runs in the opposite order."""
    copy = create(codec.name, **codec.config()).eval()
    copy.load_state_dict(codec.state_dict())
    with torch.no_grad():
        if getattr(codec, "context", None) is not None:
            copy.context.stages[0][0].weight.copy_(codec.context.stages[0][0].weight.flip(1))
        elif isinstance(codec, TCMCodec):   # both hyper-syntheses read ẑ through two convolutions each
            for path in ("h_mean_s", "h_scale_s"):
                for name in ("0.subpel_conv.0", "0.upsample.0"):
                    layer = getattr(codec, path).get_submodule(name)
                    copy.get_submodule(f"{path}.{name}").weight.copy_(layer.weight.flip(1))
        else:
            copy.h_s[0].weight.copy_(codec.h_s[0].weight.flip(0))
    return copy


def slice_parameters(codec: ChannelConditionalCodec, z_hat: torch.Tensor, y: torch.Tensor, mode: str
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """σ, μ of every slice of y, each slice rounded around its μ and corrected by LRP before it
    conditions the next, as the coder does it."""
    fixed = FixedPointSlices(codec.y_model) if mode == "integer" else None
    means, scales = codec._fixed_point_hyper(z_hat) if fixed is not None else codec._hyper(z_hat)
    coder = fixed if fixed is not None else codec.y_model
    decoded, all_scales, all_means = [], [], []
    for index, y_slice in enumerate(y.chunk(codec.y_model.num_slices, dim=1)):
        if fixed is not None:
            mu, scale, support = fixed.slice_parameters(index, means, scales, decoded)
        else:
            mu, scale, support = codec.y_model.slice_parameters(index, means, scales, decoded, tuple(y.shape[-2:]))
        decoded.append(coder.residual_prediction(index, support, torch.round(y_slice - mu) + mu))
        all_scales.append(scale)
        all_means.append(mu)
    return torch.cat(all_scales, dim=1), torch.cat(all_means, dim=1)


def parameters(codec: LearnedCodec, z_hat: torch.Tensor, colour: torch.Tensor | None, mode: str,
               flipped: bool = False, y: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """σ, μ as the coder computes them with ``mode`` ("float": the float networks on whatever kernels
    are in force; "integer": the fixed-point copies), the inputs reversed if ``flipped``; for a
    channel-conditional codec, of every slice of ``y``."""
    if flipped:
        z_hat, colour = (z_hat, colour.flip(1)) if colour is not None else (z_hat.flip(1), None)
    with torch.no_grad():
        if isinstance(codec, ChannelConditionalCodec):
            return slice_parameters(codec, z_hat, y, mode)
        if isinstance(codec, DepthMeanScaleCodec):
            if mode == "integer":
                return codec._gaussian_parameters(z_hat, None, mode, colour)
            return codec._gaussian_parameters(z_hat, codec.context(colour) if colour is not None else None)
        return codec._coding_hyper(z_hat, mode) if mode == "integer" else codec._hyper(z_hat)


def three_computations(codec: LearnedCodec, flipped: LearnedCodec, z_hat: torch.Tensor, colour: torch.Tensor | None,
                       mode: str, y: torch.Tensor) -> list[torch.Tensor]:
    """σ by the native kernels on one thread, by oneDNN on two, and by the flipped copy (native)."""
    with exact_kernels():
        first = parameters(codec, z_hat, colour, mode, y=y)[0]
    with onednn_on_two_threads():
        second = parameters(codec, z_hat, colour, mode, y=y)[0]
    with exact_kernels():
        third = parameters(flipped, z_hat, colour, mode, flipped=True, y=y)[0]
    return [first, second, third]


def file_bytes(codec: LearnedCodec, x: torch.Tensor, latents: dict, mode: str) -> tuple[int, torch.Tensor]:
    """Bytes of the streams coded with ``mode``'s entropy parameters, and the decoded image."""
    side = codec.side_information(x)
    with float_entropy_parameters(codec) if mode == "float" else contextlib.nullcontext():
        coded = codec.compress_latents(latents, side)
    assert coded.entropy_parameters == mode
    x_hat, digest = (codec.decompress(coded, side.image) if side is not None else codec.decompress(coded))
    assert digest == coded.digest, "a round trip on one machine must decode"
    return sum(len(s) for s in coded.streams.values()), x_hat


def psnr(x: torch.Tensor, x_hat: torch.Tensor, levels: int) -> float:
    mse = ((x_hat.clamp(0, 1) * levels).round() / levels - x).pow(2).mean().item()
    return 10 * float(np.log10(1 / mse))


def kodak_inputs(folder: Path) -> list[torch.Tensor]:
    return [to_tensor(read_image(path), 3) for path in sorted(folder.glob("*.png"))]


def depth_inputs(root: Path, frames: int) -> list[torch.Tensor]:
    """Held-out depth maps as the depth codecs take them (mm / 65535, holes filled)."""
    return [torch.from_numpy(coding_plane(read_depth(pair.depth, pair.unit)))[None, None]
            for pair in rgbd_test_frames(root, frames)]


def conditioned_inputs(root: Path, frames: int, rgb_model: str) -> list[torch.Tensor]:
    """[depth, x̂_rgb] of the held-out frames, x̂_rgb decoded from ``rgb_model``'s colour file, as in a
    joint file."""
    import mmcodec

    inputs = []
    for pair in rgbd_test_frames(root, frames):
        depth = torch.from_numpy(coding_plane(read_depth(pair.depth, pair.unit)))[None, None]
        decoded = mmcodec.decompress(mmcodec.compress(read_image(pair.color, channels=3), model=rgb_model))["image"]
        colour = torch.from_numpy(decoded.astype(np.float32) / 255).permute(2, 0, 1)[None]
        inputs.append(torch.cat([depth, colour], dim=1))
    return inputs


def measure(entry, inputs: list[torch.Tensor], levels: int) -> dict:
    """For one model over ``inputs`` (on [0, 1], ``levels`` steps for the PSNR; a conditioned depth
    model's inputs are [depth, x̂_rgb]): σ disagreements of the three computations, float and fixed
    point, and both codings' bytes, PSNR and the time of one evaluation of the entropy parameters."""
    codec = load_model(entry)
    flipped = flipped_copy(codec)
    conditioned = getattr(codec, "context", None) is not None
    conditional = getattr(codec.y_model, "gaussian_conditional", codec.y_model)   # the Gaussian model of y
    disagreements = {"float": [0, 0], "integer": [0, 0]}   # [elements, inputs]
    elements = 0
    sizes = {"float": 0, "integer": 0}
    psnrs = {"float": [], "integer": []}
    times = {"float": [], "integer": []}
    for x in inputs:
        padded = codec.pad(x)
        colour = padded[:, 1:] if conditioned else None
        target = x[:, :1] if conditioned else x
        with torch.no_grad():
            latents = codec.initial_latents(padded)
            medians = codec.z_model.medians.view(1, -1, 1, 1)
            z_hat = torch.round(latents["z"] - medians) + medians
        for mode in ("float", "integer"):
            scales = three_computations(codec, flipped, z_hat, colour, mode, latents["y"])
            index = conditional.exact_scale_indexes if mode == "integer" else conditional.scale_indexes
            reference = index(scales[0])
            differing = sum(int((index(s) != reference).sum()) for s in scales[1:])
            disagreements[mode][0] += differing
            disagreements[mode][1] += differing > 0
            start = time.perf_counter()   # as the coder runs them: float on one thread, fixed point on all
            with exact_kernels() if mode == "float" else contextlib.nullcontext():
                parameters(codec, z_hat, colour, mode, y=latents["y"])
            times[mode].append(time.perf_counter() - start)
            size, x_hat = file_bytes(codec, padded, latents, mode)
            sizes[mode] += size
            psnrs[mode].append(psnr(target, codec.crop(x_hat, x.shape[-2], x.shape[-1]), levels))
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
    parser.add_argument("--architectures", nargs="+", default=list(ARCHITECTURES), choices=list(ARCHITECTURES),
                        help="the shipped models of these architectures only")
    args = parser.parse_args()
    rows = []
    kodak = kodak_inputs(args.kodak)
    for architecture, inputs, levels, what in (
            ("mean-scale", kodak, 255, f"`{args.kodak.name}` images"),
            ("mean-scale-channel", kodak, 255, f"`{args.kodak.name}` images"),
            ("tcm", kodak, 255, f"`{args.kodak.name}` images"),
            ("depth-mean-scale", depth_inputs(args.rgbd, args.depth_frames), 65535, "held-out depth maps"),
            ("rgb-conditional-depth", None, 65535, "held-out RGB-D frames")):
        if architecture not in args.architectures:
            continue
        for entry in (e for e in list_models() if e.architecture == architecture):
            if inputs is None:   # the conditioned models' colour: what their RGB model's files decode to
                inputs = conditioned_inputs(args.rgbd, args.depth_frames, entry.context_model)
            rows.append({**measure(entry, inputs, levels), "inputs": what})
            print(rows[-1], flush=True)
    table = ["σ computed three ways from the same ẑ (and x̂_rgb) of each input "
             f"({'; '.join(COMPUTATIONS)}); 'disagreeing σ': entries of the scale table other than the first "
             "computation's, summed over the other two; 'inputs': inputs with at least one (their files would fail "
             "to decode where σ is computed that way). Bytes and PSNR (255 levels for images, 65535 for depth, "
             "holes filled): real streams, coded and decoded here both ways.", "",
             "| model | λ | inputs | σ per computation | float: disagreeing σ | inputs | fixed-point: "
             "disagreeing σ | inputs | bytes, fixed-point vs float | PSNR change | σ, μ in ms, float / fixed-point |",
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
    command += f" --architectures {' '.join(args.architectures)}" if args.architectures != list(ARCHITECTURES) else ""
    write_results(args.name, {"computations": list(COMPUTATIONS), "results": rows}, table, command)


if __name__ == "__main__":
    main()
