"""Commands for measuring codecs: eval, anchors, plot, report, profile."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..atomic_files import atomic_write
from ..errors import InputError
from .files import default_kodak, expand_inputs


def cmd_eval(args: argparse.Namespace) -> None:
    import json

    from ..evaluate.evaluate import evaluate_folder
    from ..thesis_api import needs_thesis_files
    from ..zoo import find_entry

    entry = find_entry(args.model, args.quality)
    if entry.modality == "depth" or needs_thesis_files(entry):
        result = _eval_depth(entry, args)
    else:
        folder = Path(args.data) if args.data else default_kodak()
        if not folder.is_dir():
            raise InputError(f"{folder}: not a folder of images")
        result = evaluate_folder(entry, folder, device=args.device, progress=True, refine_steps=args.refine)
        means = {k: v[0] for k, v in result["results"].items()}
        print(f"{entry.model_id}: {means['bpp']:.4f} bpp (model estimate {means['estimated_bpp']:.4f}), "
              f"PSNR {means['psnr-rgb']:.2f} dB, MS-SSIM {means.get('ms-ssim-rgb', float('nan')):.4f}, "
              f"encode {means['encoding_time']:.2f} s, decode {means['decoding_time']:.2f} s per image")
    result["command"] = "mmcodec eval " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["eval"] else "mmcodec eval"
    if args.output:
        text = json.dumps(result, indent=2) + "\n"
        atomic_write(Path(args.output), lambda tmp: tmp.write_text(text))


def _eval_depth(entry, args: argparse.Namespace) -> dict:
    """``mmcodec eval`` of a depth or RGB-D thesis model (:mod:`mmcodec.evaluate.depth_folder`)."""
    from ..evaluate.depth_folder import evaluate_depth_folder, reads_colour, summary_line

    if not args.data:
        needs = "colour + depth pairs" if reads_colour(entry) else "depth maps"
        raise InputError(f"'{entry.model_id}' codes depth: give --data FOLDER of {needs}")
    if args.device != "cpu":
        raise InputError("depth and RGB-D models are measured on the CPU (leave out --device)")
    result = evaluate_depth_folder(entry, Path(args.data), args.depth_unit, args.refine, progress=True,
                                   depth_coding=args.depth_coding)
    print(summary_line(result))
    return result


def cmd_anchors(args: argparse.Namespace) -> None:
    import json

    from ..evaluate.anchors import ANCHORS, run_anchor
    from ..modalities.image import IMAGE_SUFFIXES, read_image

    if args.modality == "depth":
        return _depth_anchors(args)
    names = args.codecs or ["jpeg", "webp", "jpeg2000", "jpegxl", "avif", "hevc"]
    unknown = [n for n in names if n not in ANCHORS]
    if unknown:
        raise InputError(f"unknown anchor(s) {', '.join(unknown)} (known: {', '.join(ANCHORS)})")
    files, _ = expand_inputs([args.data], IMAGE_SUFFIXES)
    images = [read_image(p, channels=3).pixels for p in files]
    if any(i.dtype != "uint8" for i in images):
        raise InputError("anchors sweep 8-bit RGB images only")
    out = Path(args.output)
    for name in names:
        result = run_anchor(ANCHORS[name], images, progress=True)
        text = json.dumps(result, indent=2) + "\n"
        atomic_write(out / f"{name}.json", lambda tmp: tmp.write_text(text))
        best = max(result["results"]["psnr-rgb"])
        print(f"{name}: {len(result['results']['bpp'])} points, {min(result['results']['bpp']):.3f}–"
              f"{max(result['results']['bpp']):.3f} bpp, up to {best:.2f} dB -> {out / (name + '.json')}")


def _depth_anchors(args: argparse.Namespace) -> None:
    import json

    from ..evaluate.depth_anchors import DEPTH_ANCHORS, run_depth_anchor
    from ..modalities.depth import read_depth
    from ..modalities.depth_files import find_depth_files

    names = args.codecs or list(DEPTH_ANCHORS)
    unknown = [n for n in names if n not in DEPTH_ANCHORS]
    if unknown:
        raise InputError(f"unknown depth anchor(s) {', '.join(unknown)} (known: {', '.join(DEPTH_ANCHORS)})")
    depths = [read_depth(p).pixels for p in find_depth_files(args.data)]
    out = Path(args.output)
    for name in names:
        result = run_depth_anchor(DEPTH_ANCHORS[name], depths, progress=True)
        text = json.dumps(result, indent=2) + "\n"
        atomic_write(out / f"{name}.json", lambda tmp: tmp.write_text(text))
        bpp, rmse = result["results"]["bpp"], result["results"]["rmse_mm"]
        print(f"{name}: {len(bpp)} points, {min(bpp):.3f}–{max(bpp):.3f} bpp, RMSE down to {min(rmse):.2f} mm "
              f"on {len(depths)} depth maps -> {out / (name + '.json')}")


def cmd_plot(args: argparse.Namespace) -> None:
    from ..evaluate.plot import plot_curves
    from ..evaluate.results import load_curve

    curves = [load_curve(p) for p in args.results]
    print(f"plot: {plot_curves(curves, Path(args.output), args.title)}")


def cmd_report(args: argparse.Namespace) -> None:
    from ..evaluate.report import bd_table
    from ..evaluate.results import load_curve

    curves = [load_curve(p) for p in args.results]
    anchor = next((c for c in curves if c.name == args.anchor), None)
    if anchor is None:
        anchor_path = Path(args.anchor)
        if not anchor_path.is_file():
            raise InputError(f"anchor '{args.anchor}' is neither one of the results nor a results file")
        anchor = load_curve(anchor_path)
    text = "\n".join(bd_table(curves, anchor)) + "\n"
    if args.output:
        atomic_write(Path(args.output), lambda tmp: tmp.write_text(text))
    print(text, end="")


def cmd_profile(args: argparse.Namespace) -> None:
    import json

    from ..codecs import create
    from ..errors import ModelError
    from ..evaluate.profile import count_parameters, macs_per_pixel, time_coding
    from ..zoo import find_entry, load_model

    if args.config:
        try:
            config = json.loads(args.config)
            codec, label = create(args.model, **config), f"{args.model} {config} (untrained)"
        except (ValueError, TypeError) as exc:
            raise InputError(f"invalid --config for {args.model}: {exc}") from None
    else:
        try:
            entry = find_entry(args.model)
            codec, label = load_model(entry, args.device), entry.model_id
        except ModelError:
            codec, label = create(args.model), f"{args.model} (default size, untrained)"
    height, width = args.size
    params = count_parameters(codec)
    macs = macs_per_pixel(codec, 256, 256)
    times = time_coding(codec, height, width, args.device, repeats=args.repeats)
    print("| model | parameters | kMACs/pixel | encode s | decode s | device |")
    print("|---|---|---|---|---|---|")
    print(f"| {label} | {params / 1e6:.2f} M | {macs / 1e3:.1f} | {times['encode_s']:.3f} | "
          f"{times['decode_s']:.3f} | {args.device}, {width}×{height} |")
