"""Commands that code files: compress, decompress, info, models, demo."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..atomic_files import atomic_write
from .files import expand_inputs, output_folder, progress_bar, read_input

DEMO_IMAGE = Path(__file__).resolve().parent.parent / "assets" / "astronaut.png"


def cmd_compress(args: argparse.Namespace) -> None:
    from .. import api
    from ..modalities.image import IMAGE_SUFFIXES

    if args.depth:
        return _compress_rgbd(args)
    files, many = expand_inputs(args.inputs, IMAGE_SUFFIXES)
    out_dir = output_folder(args.output, many)
    for path in progress_bar(files, many, "compress"):
        target = (out_dir / (path.stem + ".mmc")) if out_dir else Path(args.output or path.with_suffix(".mmc"))
        if args.modality == "depth":
            from ..depth_api import compress_depth
            from ..modalities.depth import read_depth

            depth = read_depth(path, args.depth_unit)
            data = compress_depth(depth, depth.unit, model=args.model, quality=args.quality, device=args.device,
                                  refine_steps=args.refine, median_filter=args.depth_filter)
            pixels = depth.height * depth.width
        else:
            image = api.read_image(path)
            data = api.compress(image, model=args.model, quality=args.quality, device=args.device,
                                refine_steps=args.refine)
            pixels = image.height * image.width
        atomic_write(target, lambda tmp: tmp.write_bytes(data))
        if not many:
            print(f"{path} -> {target}: {len(data)} bytes, {8 * len(data) / pixels:.4f} bpp")


def _compress_rgbd(args: argparse.Namespace) -> None:
    """One colour image + its depth map → one joint file (depth coded given the decoded colour, or alone)."""
    from ..container import read_mmc
    from ..depth_api import compress_rgbd
    from ..errors import InputError
    from ..modalities.depth import read_depth
    from ..modalities.image import read_image

    if len(args.inputs) != 1:
        raise InputError("--depth takes exactly one colour image")
    color = Path(args.inputs[0])
    folder = output_folder(args.output, many=False)
    target = folder / (color.stem + ".mmc") if folder else Path(args.output or color.with_suffix(".mmc"))
    depth = read_depth(args.depth, args.depth_unit)
    data = compress_rgbd(read_image(color, channels=3), depth, depth.unit, model=args.model, quality=args.quality,
                         device=args.device, refine_steps=args.refine, median_filter=args.depth_filter,
                         depth_coding=args.depth_coding)
    atomic_write(target, lambda tmp: tmp.write_bytes(data))
    bpp = 8 * len(data) / (depth.height * depth.width)
    how = {True: " (depth coded given the colour)", False: " (depth coded alone)"}.get(
        read_mmc(data).codec_params.get("depth_conditioned"), "")
    print(f"{color} + {args.depth} -> {target}: {len(data)} bytes, {bpp:.4f} bits per RGB-D pixel{how}")


def _check_png_output(output: str | None) -> None:
    """Decoded modalities are written as PNG: refuse an output name that promises another format
    (an existing folder of any name is fine)."""
    from ..errors import InputError

    if output and Path(output).suffix and Path(output).suffix.lower() != ".png" and not Path(output).is_dir():
        raise InputError(f"decompress writes PNG files: give -o a .png name or a folder, not '{output}'")


def cmd_decompress(args: argparse.Namespace) -> None:
    from .. import api
    from ..container import read_header
    from ..modalities.depth import DepthMap, write_depth
    from ..modalities.image import Image, write_image

    files, many = expand_inputs(args.inputs, {".mmc"})
    _check_png_output(args.output)
    out_dir = output_folder(args.output, many)
    for path in progress_bar(files, many, "decompress"):
        data = read_input(path)
        decoded = api.decompress(data, device=args.device, model=args.model)
        modalities = read_header(data).modalities
        bit_depths, units = {m.name: m.bit_depth for m in modalities}, {m.name: m.unit for m in modalities}
        for name, pixels in decoded.items():
            if out_dir:
                target = out_dir / (path.stem + ("" if len(decoded) == 1 else f".{name}") + ".png")
            elif args.output and len(decoded) == 1:
                target = Path(args.output)
            elif args.output and Path(args.output).suffix.lower() == ".png":   # NAME.png -> NAME.<modality>.png
                target = Path(args.output).with_suffix(f".{name}.png")
            elif args.output:
                target = Path(args.output) / f"{path.stem}.{name}.png"
            else:
                target = path.with_suffix(".png" if len(decoded) == 1 else f".{name}.png")
            if pixels.ndim == 2:   # a depth map (uint16 in its unit)
                depth = DepthMap(pixels, units[name] or "mm")
                atomic_write(target, lambda tmp: write_depth(tmp, depth))
            else:
                image = Image(pixels, bit_depths[name])
                atomic_write(target, lambda tmp: write_image(tmp, image))
            if not many:
                print(f"{path} -> {target}")


def cmd_info(args: argparse.Namespace) -> None:
    from ..api import MODEL_VERSIONS
    from ..container import read_mmc

    data = read_input(Path(args.file))
    mmc = read_mmc(data)
    print(f"file: {args.file} ({len(data)} bytes)")
    version = f"{MODEL_VERSIONS.get(mmc.model_version, 'unknown')} entropy parameters"
    print(f"model: {mmc.model_id} (version {mmc.model_version}: {version}, weights {mmc.weights_digest})")
    print(f"latent digest: {mmc.latent_digest}")
    print("codec parameters: " + ", ".join(f"{k} {v}" for k, v in mmc.codec_params.items()))
    for m in mmc.modalities:
        unit = f", unit {m.unit}" if m.unit else ""
        own = sum(len(payload) for s, payload in mmc.streams if s.modality == m.name)
        pixels = m.height * m.width
        print(f"modality {m.name}: {m.kind} {m.width}x{m.height}x{m.channels} {m.dtype} "
              f"({m.bit_depth}-bit{unit}), padded to {m.padded_width}x{m.padded_height}; its streams {own} bytes = "
              f"{8 * own / pixels:.4f} bpp (whole file {8 * len(data) / pixels:.4f} bpp)")
    for s, payload in mmc.streams:
        deps = f", needs {', '.join(s.depends_on)}" if s.depends_on else ""
        print(f"stream {s.name}: {len(payload)} bytes, latent shape {list(s.shape)}{deps}")


def cmd_models(args: argparse.Namespace) -> None:
    from ..codecs import architectures
    from ..zoo import DEFAULT_MODEL, list_models

    print("shipped models:")
    for e in list_models():
        mark = "  (default)" if e.model_id == DEFAULT_MODEL else ""
        context = f", colour from {e.context_model}" if e.context_model else ""
        print(f"  {e.model_id}: {e.modality}, {e.architecture} {e.config}, quality {e.quality}, "
              f"{e.metric} λ={e.lmbda}{context}, weights {e.digest}{mark}")
    print("architectures (aliases):")
    for name, aliases in sorted(architectures().items()):
        print(f"  {name}" + (f" ({', '.join(aliases)})" if aliases else ""))


def cmd_demo(args: argparse.Namespace) -> None:
    from ..evaluate.demo import run_demo

    run_demo(Path(args.image) if args.image else DEMO_IMAGE, model=args.model, quality=args.quality,
             device=args.device)
