"""Command line: ``mmcodec compress | decompress | info | models | eval | train | export | plot |
report | anchors | profile | demo``.

Every failure prints one line ``mmcodec: error: ...`` on stderr and exits with status 2 (1 for
an unexpected internal error); outputs are written to a temporary file and renamed, so an
interrupted or failed command never leaves a half-written file.
"""
from __future__ import annotations

import argparse
import glob
import os
import sys
import tempfile
from pathlib import Path
from typing import Callable, Sequence

from .errors import InputError, MmcodecError

DEMO_IMAGE = Path(__file__).parent / "assets" / "astronaut.png"


def default_kodak() -> Path:
    """Kodak from ``$MMCODEC_DATASETS`` or ``../shared/datasets`` (the project's data layout)."""
    return Path(os.environ.get("MMCODEC_DATASETS", "../shared/datasets")) / "kodak"


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write through ``write(tmp)`` into a temporary sibling, then rename onto ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".mmcodec-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _expand_inputs(patterns: Sequence[str], suffixes: set[str]) -> tuple[list[Path], bool]:
    """Files named by paths, folders or globs; the flag says whether it was more than one file."""
    files: list[Path] = []
    many = len(patterns) > 1
    for pattern in patterns:
        path = Path(pattern)
        if path.is_dir():
            many = True
            files += sorted(p for p in path.iterdir() if p.suffix.lower() in suffixes)
        elif any(ch in pattern for ch in "*?["):
            many = True
            files += sorted(Path(p) for p in glob.glob(pattern) if Path(p).suffix.lower() in suffixes)
        else:
            files.append(path)
    if not files:
        raise InputError("no input files matched")
    return files, many


def _progress(items: list, enabled: bool, what: str):
    if not enabled:
        return items
    from tqdm import tqdm
    return tqdm(items, desc=what, unit="file", file=sys.stderr)


# ---- commands ---------------------------------------------------------------------------------
def cmd_compress(args: argparse.Namespace) -> None:
    from . import api
    from .modalities.image import IMAGE_SUFFIXES

    files, many = _expand_inputs(args.inputs, IMAGE_SUFFIXES)
    out_dir = Path(args.output) if (many and args.output) else None
    for path in _progress(files, many, "compress"):
        target = (out_dir / (path.stem + ".mmc")) if out_dir else Path(args.output or path.with_suffix(".mmc"))
        image = api.read_image(path)
        data = api.compress(image, model=args.model, quality=args.quality, device=args.device)
        _atomic_write(target, lambda tmp: tmp.write_bytes(data))
        if not many:
            bpp = 8 * len(data) / (image.height * image.width)
            print(f"{path} -> {target}: {len(data)} bytes, {bpp:.4f} bpp")


def cmd_decompress(args: argparse.Namespace) -> None:
    from . import api
    from .container import read_header
    from .modalities.image import Image, write_image

    files, many = _expand_inputs(args.inputs, {".mmc"})
    out_dir = Path(args.output) if (many and args.output) else None
    for path in _progress(files, many, "decompress"):
        data = _read_input(path)
        decoded = api.decompress(data, device=args.device, model=args.model)
        bit_depths = {m.name: m.bit_depth for m in read_header(data).modalities}
        for name, pixels in decoded.items():
            if out_dir:
                target = out_dir / (path.stem + ("" if len(decoded) == 1 else f".{name}") + ".png")
            elif args.output and len(decoded) == 1:
                target = Path(args.output)
            elif args.output:
                target = Path(args.output) / f"{path.stem}.{name}.png"
            else:
                target = path.with_suffix(".png" if len(decoded) == 1 else f".{name}.png")
            image = Image(pixels, bit_depths[name])
            _atomic_write(target, lambda tmp: write_image(tmp, image))
            if not many:
                print(f"{path} -> {target}")


def _read_input(path: Path) -> bytes:
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    return path.read_bytes()


def cmd_info(args: argparse.Namespace) -> None:
    from .container import read_mmc

    data = _read_input(Path(args.file))
    mmc = read_mmc(data)
    print(f"file: {args.file} ({len(data)} bytes)")
    print(f"model: {mmc.model_id} (version {mmc.model_version}, weights {mmc.weights_digest})")
    print(f"latent digest: {mmc.latent_digest}")
    for m in mmc.modalities:
        unit = f", unit {m.unit}" if m.unit else ""
        bpp = 8 * len(data) / (m.height * m.width)
        print(f"modality {m.name}: {m.kind} {m.width}x{m.height}x{m.channels} {m.dtype} "
              f"({m.bit_depth}-bit{unit}), padded to {m.padded_width}x{m.padded_height}; file {bpp:.4f} bpp")
    for s, payload in mmc.streams:
        deps = f", needs {', '.join(s.depends_on)}" if s.depends_on else ""
        print(f"stream {s.name}: {len(payload)} bytes, latent shape {list(s.shape)}{deps}")


def cmd_models(args: argparse.Namespace) -> None:
    from .codecs import architectures
    from .zoo import DEFAULT_MODEL, list_models

    print("shipped models:")
    for e in list_models():
        mark = "  (default)" if e.model_id == DEFAULT_MODEL else ""
        print(f"  {e.model_id}: {e.architecture} {e.config}, quality {e.quality}, "
              f"{e.metric} λ={e.lmbda}, weights {e.digest}{mark}")
    print("architectures (aliases):")
    for name, aliases in sorted(architectures().items()):
        print(f"  {name}" + (f" ({', '.join(aliases)})" if aliases else ""))


def cmd_eval(args: argparse.Namespace) -> None:
    import json

    from .evaluate.evaluate import evaluate_folder
    from .zoo import find_entry

    folder = Path(args.data)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder of images")
    entry = find_entry(args.model, args.quality)
    result = evaluate_folder(entry, folder, device=args.device, progress=True)
    result["command"] = "mmcodec eval " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["eval"] else "mmcodec eval"
    means = {k: v[0] for k, v in result["results"].items()}
    print(f"{entry.model_id}: {means['bpp']:.4f} bpp (model estimate {means['estimated_bpp']:.4f}), "
          f"PSNR {means['psnr-rgb']:.2f} dB, MS-SSIM {means.get('ms-ssim-rgb', float('nan')):.4f}, "
          f"encode {means['encoding_time']:.2f} s, decode {means['decoding_time']:.2f} s per image")
    if args.output:
        text = json.dumps(result, indent=2) + "\n"
        _atomic_write(Path(args.output), lambda tmp: tmp.write_text(text))


def cmd_train(args: argparse.Namespace) -> None:
    from .train.config import load_config
    from .train.trainer import train

    config = load_config(args.config, run_dir=args.run_dir, steps=args.steps, max_minutes=args.max_minutes)
    try:
        print(f"checkpoint: {train(config)}")
    except KeyboardInterrupt:
        print(f"interrupted; checkpoint saved in {config.run_dir}", file=sys.stderr)
        raise


def cmd_export(args: argparse.Namespace) -> None:
    from .errors import ModelError
    from .train.export import export_run, write_card
    from .zoo import WEIGHTS_DIR

    run = Path(args.run_dir)
    if not (run / "checkpoint.safetensors").is_file():
        raise ModelError(f"{run}: no checkpoint.safetensors (not a training run folder)")
    weights_dir = Path(args.output) if args.output else WEIGHTS_DIR
    entry = export_run(run, args.model_id, args.quality, weights_dir)
    print(f"weights: {entry.path} (digest {entry.digest})")
    if args.kodak:
        import json

        from .evaluate.evaluate import evaluate_folder

        results = evaluate_folder(entry, Path(args.kodak), progress=True)
        results["command"] = f"mmcodec eval --model {entry.model_id} --data {args.kodak}"
        (run / "kodak.json").write_text(json.dumps(results, indent=2) + "\n")
        card_dir = weights_dir.parent / "cards" if args.output else None
        card = write_card(entry, run, results, args.hardware, *( [card_dir] if card_dir else []))
        print(f"model card: {card}")


def cmd_anchors(args: argparse.Namespace) -> None:
    import json

    from .evaluate.anchors import ANCHORS, run_anchor
    from .modalities.image import IMAGE_SUFFIXES, read_image

    unknown = [n for n in args.codecs if n not in ANCHORS]
    if unknown:
        raise InputError(f"unknown anchor(s) {', '.join(unknown)} (known: {', '.join(ANCHORS)})")
    files, _ = _expand_inputs([args.data], IMAGE_SUFFIXES)
    images = [read_image(p, channels=3).pixels for p in files]
    if any(i.dtype != "uint8" for i in images):
        raise InputError("anchors sweep 8-bit RGB images only")
    out = Path(args.output)
    for name in args.codecs:
        result = run_anchor(ANCHORS[name], images, progress=True)
        text = json.dumps(result, indent=2) + "\n"
        _atomic_write(out / f"{name}.json", lambda tmp: tmp.write_text(text))
        best = max(result["results"]["psnr-rgb"])
        print(f"{name}: {len(result['results']['bpp'])} points, {min(result['results']['bpp']):.3f}–"
              f"{max(result['results']['bpp']):.3f} bpp, up to {best:.2f} dB -> {out / (name + '.json')}")


def cmd_plot(args: argparse.Namespace) -> None:
    from .evaluate.plot import plot_curves
    from .evaluate.results import load_curve

    curves = [load_curve(p) for p in args.results]
    print(f"plot: {plot_curves(curves, Path(args.output), args.title)}")


def cmd_report(args: argparse.Namespace) -> None:
    from .evaluate.report import bd_table
    from .evaluate.results import load_curve

    curves = [load_curve(p) for p in args.results]
    anchor = next((c for c in curves if c.name == args.anchor), None)
    if anchor is None:
        anchor_path = Path(args.anchor)
        if not anchor_path.is_file():
            raise InputError(f"anchor '{args.anchor}' is neither one of the results nor a results file")
        anchor = load_curve(anchor_path)
    text = "\n".join(bd_table(curves, anchor)) + "\n"
    if args.output:
        _atomic_write(Path(args.output), lambda tmp: tmp.write_text(text))
    print(text, end="")


def cmd_profile(args: argparse.Namespace) -> None:
    import json

    from .codecs import create
    from .errors import ModelError
    from .evaluate.profile import count_parameters, macs_per_pixel, time_coding
    from .zoo import find_entry, load_model

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


def cmd_demo(args: argparse.Namespace) -> None:
    from .evaluate.demo import run_demo

    run_demo(Path(args.image) if args.image else DEMO_IMAGE, model=args.model, quality=args.quality,
             device=args.device)


# ---- parser -----------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mmcodec", description="Learned multimodal compression.")
    sub = parser.add_subparsers(dest="command", required=True)

    def model_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--model", help="model id, architecture name/alias, or a .safetensors file")
        p.add_argument("--quality", type=int, help="quality index of the architecture (1 = lowest rate)")
        p.add_argument("--device", default="cpu", help="torch device (cpu, cuda, ...)")

    p = sub.add_parser("compress", help="compress images to .mmc files")
    p.add_argument("inputs", nargs="+", help="image files, folders or globs")
    p.add_argument("-o", "--output", help="output file (one input) or folder (several)")
    model_options(p)
    p.set_defaults(run=cmd_compress)

    p = sub.add_parser("decompress", help="decompress .mmc files to PNG")
    p.add_argument("inputs", nargs="+", help=".mmc files, folders or globs")
    p.add_argument("-o", "--output", help="output file (one modality) or folder")
    p.add_argument("--model", help="weights to decode with (.safetensors) if not shipped")
    p.add_argument("--device", default="cpu")
    p.set_defaults(run=cmd_decompress)

    p = sub.add_parser("info", help="show the header and streams of an .mmc file")
    p.add_argument("file")
    p.set_defaults(run=cmd_info)

    p = sub.add_parser("models", help="list shipped models and architectures")
    p.set_defaults(run=cmd_models)

    p = sub.add_parser("eval", help="real compress/decompress of a folder: bpp, PSNR, MS-SSIM, times")
    p.add_argument("--data", default=str(default_kodak()),
                   help="folder of images (default: Kodak in $MMCODEC_DATASETS or ../shared/datasets)")
    p.add_argument("-o", "--output", help="results JSON (CompressAI schema, plus per-image rows)")
    model_options(p)
    p.set_defaults(run=cmd_eval)

    p = sub.add_parser("train", help="train or resume a run (torchrun for several GPUs / nodes)")
    p.add_argument("--config", required=True, help="YAML or JSON training config (see configs/)")
    p.add_argument("--run-dir", help="override the config's run folder")
    p.add_argument("--steps", type=int, help="override the total number of steps")
    p.add_argument("--max-minutes", type=float, help="stop with a checkpoint after this long")
    p.set_defaults(run=cmd_train)

    p = sub.add_parser("export", help="turn a training run into a zoo entry (+ Kodak results and card)")
    p.add_argument("run_dir")
    p.add_argument("--model-id", required=True)
    p.add_argument("--quality", type=int, required=True)
    p.add_argument("--hardware", default="unknown", help="where it was trained, for the model card")
    p.add_argument("--kodak", help="Kodak folder: measure the exported model and write its card")
    p.add_argument("-o", "--output", help="weights folder (default: the package's zoo)")
    p.set_defaults(run=cmd_export)

    p = sub.add_parser("anchors", help="quality sweeps of classical codecs on a folder (results JSONs)")
    p.add_argument("--data", default=str(default_kodak()), help="folder of 8-bit images (default: Kodak)")
    p.add_argument("-o", "--output", default="anchors", help="folder for <codec>.json")
    p.add_argument("--codecs", nargs="+", default=["jpeg", "webp", "jpeg2000", "jpegxl", "avif", "hevc"])
    p.set_defaults(run=cmd_anchors)

    p = sub.add_parser("plot", help="RD curves (PSNR and MS-SSIM dB vs bpp) of result JSONs to PNG")
    p.add_argument("results", nargs="+", help="results JSON files (CompressAI schema)")
    p.add_argument("-o", "--output", default="rd.png")
    p.add_argument("--title", default="Kodak")
    p.set_defaults(run=cmd_plot)

    p = sub.add_parser("report", help="markdown table of BD-rates of every result vs an anchor")
    p.add_argument("results", nargs="+", help="results JSON files (CompressAI schema)")
    p.add_argument("--anchor", required=True, help="name of one of the results, or a results file")
    p.add_argument("-o", "--output", help="write the markdown here too")
    p.set_defaults(run=cmd_report)

    p = sub.add_parser("profile", help="parameters, MACs per pixel, encode/decode time (768×512)")
    p.add_argument("model", help="shipped model id or architecture name (untrained, default size)")
    p.add_argument("--config", help='architecture size as JSON, e.g. \'{"n": 64}\'')
    p.add_argument("--size", type=int, nargs=2, default=[512, 768], metavar=("HEIGHT", "WIDTH"))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--device", default="cpu")
    p.set_defaults(run=cmd_profile)

    p = sub.add_parser("demo", help="compress a built-in image and compare with JPEG")
    p.add_argument("image", nargs="?", help="another image to use instead")
    model_options(p)
    p.set_defaults(run=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except MmcodecError as exc:
        print(f"mmcodec: error: {exc}".replace("\n", " "), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mmcodec: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print("mmcodec: error: out of memory", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: still one line, never a traceback
        print(f"mmcodec: internal error: {exc.__class__.__name__}: {exc}".replace("\n", " "), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
