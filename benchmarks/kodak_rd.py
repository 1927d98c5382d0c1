"""Rate–distortion of the shipped models and the classical anchors on an image folder (Kodak
by default), with real bitstreams: writes the result JSONs, a BD-rate table and an RD plot.

    python benchmarks/kodak_rd.py                       # Kodak → docs/results/kodak.md
    python benchmarks/kodak_rd.py --data DIR --name held-out --anchors jpeg webp
    python benchmarks/kodak_rd.py --reuse-anchors --extra-results docs/results/kodak/OTHER.json
                        # add points measured before of a model whose weights are not kept

Every shipped model is evaluated with ``mmcodec eval`` semantics (one point per model, grouped
into one curve per architecture); every anchor with ``mmcodec anchors``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, datasets_dir  # noqa: E402

from mmcodec.api import written_model_version  # noqa: E402
from mmcodec.codecs.refinement import REFINEMENT_SCHEDULE, refined_name  # noqa: E402
from mmcodec.evaluate.bd_rate import bd_psnr, bd_rate  # noqa: E402
from mmcodec.evaluate.evaluate import evaluate_folder  # noqa: E402
from mmcodec.evaluate.plot import plot_curves  # noqa: E402
from mmcodec.evaluate.report import bd_table  # noqa: E402
from mmcodec.evaluate.results import Curve, load_curve, merge_points  # noqa: E402
from mmcodec.zoo import list_models, read_entry  # noqa: E402

REFERENCE = ROOT.parent / "shared" / "reference-results" / "kodak"
# our anchor → the published curve of the same codec (CompressAI's measurements)
ANCHOR_CHECKS = {"anchor-jpeg": "jpeg.json", "anchor-webp": "webp.json", "anchor-hevc": "bpg_444_x265_ycbcr.json",
                 "anchor-jpeg2000": "jpeg2000.json"}
PUBLISHED = ["bpg_444_x265_ycbcr.json", "vtm.json", "compressai-bmshj2018-hyperprior_mse_cpu.json",
             "compressai-mbt2018-mean_mse_cpu.json"]
# LIC-TCM small (N = 64) on Kodak as published (Liu et al., CVPR 2023, arXiv 2303.14978; MSE models)
PUBLISHED_LIC_TCM = Curve("paper LIC-TCM N=64", "Liu et al. CVPR 2023, Kodak, MSE", [0.161, 0.306, 0.455, 0.899],
                          [29.99, 32.42, 34.18, 37.96], [])


def earlier_result(path: Path) -> tuple[str, dict]:
    """A result JSON measured before by this script (its description starts "mmcodec <architecture>")
    and the architecture whose curve it belongs to."""
    try:
        result = json.loads(path.read_text())
        words = result["description"].split()
        result["results"]["bpp"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SystemExit(f"error: {path} is not a result JSON of this script ({exc})") from None
    if len(words) < 2 or words[0] != "mmcodec":
        raise SystemExit(f"error: {path} is not the result of an mmcodec model")
    return words[1], result


def reusable_result(path: Path, digest: str, refined: bool = False, model_version: int | None = None,
                    older_versions: bool = False) -> dict | None:
    """The result JSON at ``path`` if it was measured on the weights with ``digest`` (and, if
    ``refined``, with today's refinement schedule) and on files of ``model_version``, the version the
    model's encoder writes now (``api.MODEL_VERSIONS``; with ``older_versions``, files of an older
    version are kept too), else None (missing, unreadable, from other weights, another schedule or
    other files, or from before results named them)."""
    try:
        result = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(result, dict) or result.get("digest") != digest:
        return None
    if refined and result.get("refinement") != REFINEMENT_SCHEDULE:
        return None
    versions = result.get("model_versions")
    if model_version is not None and versions != [model_version]:
        older = isinstance(versions, list) and versions and all(
            isinstance(v, int) and v < model_version for v in versions)
        if not (older_versions and older):
            return None
    return result


def version_label(results: list[dict], model_version: int) -> str:
    """" (files of model version N)" for a curve measured on files of versions older than
    ``model_version`` (reused with ``--reuse-older-versions``), else ""."""
    versions = sorted({v for r in results for v in r.get("model_versions", [])} - {model_version})
    return f" (files of model version {', '.join(map(str, versions))})" if versions else ""


def run_models(folder: Path, out: Path, extra: list[Path], reuse: bool, refine_steps: tuple[int, ...] = (),
               refine_architectures: tuple[str, ...] = (), earlier: tuple[Path, ...] = (),
               older_versions: bool = False) -> list[Path]:
    """One result JSON per model (shipped image models + ``extra`` weights files), merged into one
    curve per architecture, with the ``earlier`` results (JSONs of models measured before whose
    weights are not kept); ``reuse`` keeps a model's JSON already in ``out`` when it names the
    weights now installed (its ``digest``; a JSON without one is measured again) and files of the
    model version its encoder writes now (with ``older_versions`` older ones too, the curve then
    labelled with their version). With ``refine_steps``, the models of ``refine_architectures``
    are measured once more per step count with the encoder refining the latents (a curve
    "<architecture> + refine<steps>" each)."""
    by_curve: dict[str, list[dict]] = {}
    versions: dict[str, int] = {}
    entries = [e for e in list_models() if e.modality == "image"] + [read_entry(p) for p in extra]
    runs = [(e, 0) for e in entries]
    runs += [(e, steps) for steps in refine_steps if steps > 0 for e in entries
             if e.architecture in refine_architectures]
    for entry, steps in runs:
        path = out / f"{refined_name(entry.model_id, steps)}.json"
        version = written_model_version(entry.architecture)
        result = reusable_result(path, entry.digest, steps > 0, version, older_versions) if reuse else None
        if result is None:
            result = evaluate_folder(entry, folder, progress=True, refine_steps=steps)
            path.write_text(json.dumps(result, indent=2) + "\n")
        curve = refined_name(entry.architecture, steps)
        by_curve.setdefault(curve, []).append(result)
        versions[curve] = version
    for path in earlier:
        architecture, result = earlier_result(path)
        by_curve.setdefault(architecture, []).append(result)
    paths = []
    for curve, results in by_curve.items():
        label = version_label(results, versions[curve]) if curve in versions else ""
        merged = merge_points(results, f"mmcodec {curve.replace('+', ' + ')}{label}",
                              "; ".join(r["description"] for r in results))
        path = out / f"mmcodec-{curve}.json"
        path.write_text(json.dumps(merged, indent=2) + "\n")
        paths.append(path)
    return paths


def run_anchors(folder: Path, out: Path, names: list[str], reuse: bool) -> list[Path]:
    from mmcodec.evaluate.anchors import ANCHORS, run_anchor
    from mmcodec.modalities.image import IMAGE_SUFFIXES, read_image

    images = [read_image(p, channels=3).pixels for p in sorted(folder.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]
    paths = []
    for name in names:
        path = out / f"anchor-{name}.json"
        if not (reuse and path.exists()):
            result = run_anchor(ANCHORS[name], images, progress=True)
            path.write_text(json.dumps(result, indent=2) + "\n")
        paths.append(path)
    return paths


def anchor_check(by_stem: dict) -> list[str]:
    """Our anchors against the published curves of the same codecs (BD over the common range)."""
    lines = ["Our anchors against the published Kodak curves of the same codecs "
             "(`../shared/reference-results/kodak`; BD over the common range, ours vs published):", "",
             "| anchor | published curve | BD-PSNR | BD-rate |", "|---|---|---|---|"]
    for stem, reference in ANCHOR_CHECKS.items():
        if stem not in by_stem:
            continue
        ours, theirs = by_stem[stem], load_curve(REFERENCE / reference)
        try:
            gain = bd_psnr(theirs.bpp, theirs.psnr, ours.bpp, ours.psnr)
            rate = bd_rate(theirs.bpp, theirs.psnr, ours.bpp, ours.psnr)
            lines.append(f"| {stem[len('anchor-'):]} | {reference} | {gain:+.2f} dB | {rate:+.1f}% |")
        except ValueError as exc:
            lines.append(f"| {stem[len('anchor-'):]} | {reference} | n/a ({exc}) | |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=datasets_dir() / "kodak")
    parser.add_argument("--name", default="kodak", help="report name: docs/results/<name>.md")
    parser.add_argument("--anchors", nargs="*", default=["jpeg", "webp", "jpeg2000", "jpegxl", "avif", "hevc"])
    parser.add_argument("--anchor-for-bd", default="anchor-jpeg2000", help="result name BD-rates are taken against")
    parser.add_argument("--skip-models", action="store_true")
    parser.add_argument("--reuse-anchors", action="store_true", help="keep anchor JSONs already in the output")
    parser.add_argument("--reuse-models", action="store_true", help="keep model JSONs already in the output")
    parser.add_argument("--reuse-older-versions", action="store_true",
                        help="with --reuse-models, keep results of files of an older model version too "
                             "(their curves say so)")
    parser.add_argument("--extra-models", nargs="*", type=Path, default=[],
                        help="weights files that are not shipped (e.g. other λ of a trained architecture)")
    parser.add_argument("--extra-results", nargs="*", type=Path, default=[],
                        help="result JSONs measured before of models whose weights are not kept")
    parser.add_argument("--refine", type=int, nargs="*", default=[], metavar="STEPS",
                        help="also measure the models of --refine-architectures with latent refinement "
                             "(one curve per number of steps)")
    parser.add_argument("--refine-architectures", nargs="*", default=["mean-scale"])
    args = parser.parse_args()
    out = ROOT / "docs" / "results" / args.name
    out.mkdir(parents=True, exist_ok=True)
    paths = [] if args.skip_models else run_models(args.data, out, args.extra_models, args.reuse_models,
                                                  tuple(args.refine), tuple(args.refine_architectures),
                                                  tuple(args.extra_results), args.reuse_older_versions)
    paths += run_anchors(args.data, out, args.anchors, args.reuse_anchors)
    by_stem = {p.stem: load_curve(p) for p in paths}
    curves = list(by_stem.values())
    published = [load_curve(REFERENCE / n) for n in PUBLISHED] if args.name == "kodak" and REFERENCE.is_dir() else []
    if args.name == "kodak":
        published.append(PUBLISHED_LIC_TCM)
    plot = plot_curves(curves + published, ROOT / "docs" / "results" / f"{args.name}.png", args.name)
    command = "python benchmarks/kodak_rd.py " + " ".join(sys.argv[1:])
    lines = [f"# Rate–distortion on {args.name} ({args.data.name}, real bitstreams)", "",
             f"Measured with `{command.strip()}` (CPU). Result JSONs: `docs/results/{args.name}/`.", ""]
    for anchor_name in dict.fromkeys([args.anchor_for_bd, "anchor-webp", "anchor-hevc", "anchor-jpeg"]):
        if anchor_name in by_stem:
            lines += bd_table(curves + published, by_stem[anchor_name]) + [""]
    if published:
        lines += anchor_check(by_stem) + [""]
    lines += ["Every point (times: mean seconds per image on this CPU, whole encode / decode of a file, "
              "models single-process with torch's default threads):", "",
              "| curve | bpp | PSNR-RGB dB | MS-SSIM dB | encode s | decode s |", "|---|---|---|---|---|---|"]
    for path in paths:
        c, results = by_stem[path.stem], json.loads(path.read_text())["results"]
        times = {key: dict(zip(results["bpp"], results.get(key, []))) for key in ("encoding_time", "decoding_time")}
        for i, b in enumerate(c.bpp):
            ms = f"{c.ms_ssim_db[i]:.2f}" if i < len(c.ms_ssim_db) else ""
            enc, dec = (times[key].get(b) for key in ("encoding_time", "decoding_time"))
            cells = " | ".join(f"{t:.3f}" if t is not None else "" for t in (enc, dec))
            lines.append(f"| {c.name} | {b:.4f} | {c.psnr[i]:.2f} | {ms} | {cells} |")
    lines += ["", f"![RD curves]({plot.name})", ""]
    (ROOT / "docs" / "results" / f"{args.name}.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
