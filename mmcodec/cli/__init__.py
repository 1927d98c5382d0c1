"""Command line: ``mmcodec compress | decompress | info | models | eval | train | export | plot |
report | anchors | profile | demo``.

Every failure prints one line ``mmcodec: error: ...`` on stderr and exits with status 2 (1 for
an unexpected internal error); outputs are written to a temporary file and renamed, so an
interrupted or failed command never leaves a half-written file.
"""
from __future__ import annotations

import argparse
import shlex
import sys
from typing import NoReturn, Sequence

from ..codecs.refinement import MAX_REFINE_STEPS
from ..errors import MmcodecError
from .coding import cmd_compress, cmd_decompress, cmd_demo, cmd_info, cmd_models
from .files import default_kodak
from .research import cmd_anchors, cmd_eval, cmd_plot, cmd_profile, cmd_report
from .training import cmd_export, cmd_train


class OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, like every other error of the CLI."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"mmcodec: error: {message} (see {self.prog} --help)\n")


def steps(text: str) -> int:
    """A count (steps, crops): an integer ≥ 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of steps") from None
    if value < 0:
        raise argparse.ArgumentTypeError("takes a number of steps ≥ 0")
    return value


def refinement_steps(text: str) -> int:
    """A number of latent-refinement steps: 0 (none) to MAX_REFINE_STEPS."""
    value = steps(text)
    if value > MAX_REFINE_STEPS:
        raise argparse.ArgumentTypeError(f"takes at most {MAX_REFINE_STEPS} steps")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(prog="mmcodec", description="Learned multimodal compression.")
    sub = parser.add_subparsers(dest="command", required=True)

    def model_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--model", help="model id, architecture name/alias, or a .safetensors file")
        p.add_argument("--quality", type=int,
                       help="quality index of the architecture (higher = more bits; `mmcodec models` lists them)")
        p.add_argument("--device", default="cpu", help="torch device (cpu, cuda, ...)")

    def refine_option(p: argparse.ArgumentParser, what: str) -> None:
        p.add_argument("--refine", type=refinement_steps, default=0, metavar="STEPS",
                       help=f"optimise the latents of {what} for this many steps before coding "
                            "(slower encoding, fewer bits at the same quality, e.g. 100)")

    p = sub.add_parser("compress", help="compress images, depth maps or RGB-D pairs to .mmc files")
    p.add_argument("inputs", nargs="+", help="image files, folders or globs (depth maps with --modality depth)")
    p.add_argument("-o", "--output", help="output file (one input) or folder (several)")
    p.add_argument("--depth", help="the depth map (16-bit PNG) of the one colour input: one joint RGB-D file, "
                                   "depth coded given the decoded colour")
    p.add_argument("--modality", choices=["image", "depth"], default="image",
                   help="what the inputs are (depth: 16-bit single-channel PNGs)")
    p.add_argument("--depth-unit", choices=["mm", "tum", "sun", "raw"], default="mm",
                   help="unit of the depth samples: mm, tum (1/5000 m), sun (SUN RGB-D bit rotation), raw")
    p.add_argument("--no-depth-filter", dest="depth_filter", action="store_false",
                   help="depth: do not let the decoder median-filter the depth (by default the encoder picks "
                        "the window, or none, that brings the decoded depth closest to the input)")
    p.add_argument("--depth-coding", choices=["auto", "conditioned", "alone"], default="auto",
                   help="with --depth: code the depth given the decoded colour, alone (the depth-only model of "
                        "the same λ), or auto (default): both, keeping the one of lower rate + λ·distortion "
                        "(twice the depth encoding time)")
    refine_option(p, "each image or depth map (of an RGB-D pair: the depth)")
    model_options(p)
    p.set_defaults(run=cmd_compress)

    p = sub.add_parser("decompress", help="decompress .mmc files to PNG (a joint file: NAME.image.png + "
                                          "NAME.depth.png)")
    p.add_argument("inputs", nargs="+", help=".mmc files, folders or globs")
    p.add_argument("-o", "--output", help="output file (one modality; a joint file given NAME.png writes "
                                          "NAME.image.png + NAME.depth.png) or folder")
    p.add_argument("--model", help="weights to decode with (.safetensors) if not shipped")
    p.add_argument("--device", default="cpu")
    p.set_defaults(run=cmd_decompress)

    p = sub.add_parser("info", help="show the header and streams of an .mmc file")
    p.add_argument("file")
    p.set_defaults(run=cmd_info)

    p = sub.add_parser("models", help="list shipped models and architectures")
    p.set_defaults(run=cmd_models)

    p = sub.add_parser("eval", help="real compress/decompress of a folder: bpp, PSNR, MS-SSIM, times "
                                    "(depth models: depth bpp, PSNR, RMSE, MAE, flying pixels, holes)")
    p.add_argument("--data", help="folder of images (default: Kodak in $MMCODEC_DATASETS or ../shared/datasets); "
                                  "for a depth or RGB-D model, of depth maps or colour + depth pairs")
    p.add_argument("-o", "--output", help="results JSON (images: CompressAI schema, plus per-image rows; "
                                          "depth: means and per-frame rows)")
    p.add_argument("--depth-unit", choices=["auto", "mm", "tum", "sun", "raw"], default="auto",
                   help="unit of the depth maps (auto: by file name, TUM* tum, SUN* sun, NYU* raw, else mm)")
    p.add_argument("--depth-coding", choices=["conditioned", "auto", "alone"], default="conditioned",
                   help="an RGB-conditioned depth model's joint files: the model itself (default), or as "
                        "'compress --depth-coding' writes them (auto: the cheaper of it and its depth-only twin)")
    refine_option(p, "each image or depth map")
    model_options(p)
    p.set_defaults(run=cmd_eval)

    p = sub.add_parser("train", help="train or resume a run (torchrun for several GPUs / nodes)")
    p.add_argument("--config", required=True, help="YAML or JSON training config (see configs/)")
    p.add_argument("--run-dir", help="override the config's run folder")
    p.add_argument("--steps", type=int, help="override the total number of steps")
    p.add_argument("--max-minutes", type=float, help="stop with a checkpoint after this long")
    p.add_argument("--lmbda", type=float, help="override the rate–distortion trade-off λ")
    p.add_argument("--init-from", help="start a new run from these weights (checkpoint or zoo file)")
    p.add_argument("--milestones", help="override the learning-rate milestones, e.g. 1500,1800 ('' for none)")
    p.add_argument("--threads", type=int, help="override the number of CPU threads")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="settings",
                   help="override any setting (VALUE as YAML; model_config.KEY for the model), e.g. "
                        "--set depth_baseline=runs/x/checkpoint.safetensors --set model_config.prompt_lambda=0")
    p.set_defaults(run=cmd_train)

    p = sub.add_parser("export", help="turn a training run into a zoo entry (+ Kodak results and card)")
    p.add_argument("run_dir")
    p.add_argument("--model-id", required=True)
    p.add_argument("--quality", type=int, required=True)
    p.add_argument("--hardware", default="unknown", help="where it was trained, for the model card")
    p.add_argument("--kodak", help="Kodak folder: measure the exported model and write its card")
    p.add_argument("--rgbd", help="RGB-D datasets folder (../shared/datasets/rgbd): measure an exported depth "
                                  "model on its held-out frames and write its card")
    p.add_argument("--fit-prior", type=steps, default=0, metavar="CROPS",
                   help="first fit the factorized priors (z's, or y's of the factorized codec) to the symbols of "
                        "this many random training crops of the run, transforms unchanged (e.g. 256)")
    p.add_argument("--measured-in", metavar="WHERE",
                   help="write a card with the training record alone, saying where the model is measured (e.g. "
                        "docs/results/thesis-tables.md); for models measured by a benchmark rather than here")
    p.add_argument("-o", "--output", help="weights folder (default: the package's zoo; cards go to its ../cards)")
    p.set_defaults(run=cmd_export)

    p = sub.add_parser("anchors", help="quality sweeps of classical codecs on a folder (results JSONs)")
    p.add_argument("--data", default=str(default_kodak()),
                   help="folder of 8-bit images (default: Kodak), or of 16-bit depth PNGs with --modality depth")
    p.add_argument("-o", "--output", default="anchors", help="folder for <codec>.json")
    p.add_argument("--modality", choices=["image", "depth"], default="image",
                   help="depth: *.depth.png or depth/*.png (uint16 mm) with the depth anchors")
    p.add_argument("--codecs", nargs="+", help="anchors to run (default: all of the modality's)")
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
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0), or a usage error already printed on one line (2)
        return exc.code if isinstance(exc.code, int) else 2
    args.command_line = shlex.join(["mmcodec", *(sys.argv[1:] if argv is None else argv)])   # for the records
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
    except BrokenPipeError:  # the reader went away (e.g. `mmcodec models | head`): not an error
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug: still one line, never a traceback
        print(f"mmcodec: internal error: {exc.__class__.__name__}: {exc}".replace("\n", " "), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
