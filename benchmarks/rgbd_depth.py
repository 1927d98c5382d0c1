"""Depth and joint RGB-D coding on held-out RGB-D frames, with real files, against the depth anchors.

    python benchmarks/rgbd_depth.py                  # → docs/results/rgbd-depth.md (+ .json, .png)
    python benchmarks/rgbd_depth.py --frames 8 --skip-anchors     # a quick look
    python benchmarks/rgbd_depth.py --reuse-anchors --refine 50   # also with encoder-side refinement

Test frames (never trained on; ``mmcodec.evaluate.rgbd_evaluate.rgbd_test_frames``): the last
10% of RGB-D-D (by timestamp) and of 7-Scenes red kitchen (by frame number), which the training
configs hold out with ``test_fraction: 0.1``, the 5 ICL-NUIM living-room frames and the 3
``samples`` pairs (TUM, SUN RGB-D and NYU units). For every shipped depth model:

- depth-only models (``depth-mean-scale``): one ``compress_depth`` file per frame;
- RGB-conditioned models: one joint ``compress_rgbd`` file per frame; its *depth bits* are the
  joint file minus the colour-only file of the same frame by the same RGB model (the colour
  streams are byte-identical in both), so "separate" = colour file + depth-only file and
  "joint" = one file compare at equal colour quality.

Depth quality over valid pixels only (holes excluded; holes are checked to come back exactly):
PSNR with the 16-bit peak (65535 mm, as the thesis), RMSE / MAE in mm, flying pixels (error
> 5% of the true depth) and the thesis's comprehensive similarity in dB. The anchors of
``mmcodec anchors --modality depth`` run on the same depth maps in millimetres. Each model point
is compared with each anchor's pchip-interpolated curve (bits at equal PSNR, PSNR at equal
rate), and joint files with two separate files per λ. Each RGB-conditioned model is measured a
second time as ``<model>+auto``: joint files whose encoder codes each frame's depth both ways
(given the colour, and by the depth-only model of the same λ) and keeps the one of lower
R + λ·D (``mmcodec compress --depth-coding auto``, the default; :mod:`mmcodec.depth_mode`). With
``--refine STEPS`` every model is measured a second time with its depth latents refined by the
encoder (``mmcodec compress --refine``: R + λ·D over the non-hole pixels), as its own curve
``<architecture>+refine<STEPS>`` (the per-frame choice is measured without refinement only).

The JSON record is written after every model measured (marked ``"complete": false`` until the
report is written), so a run stopped part-way is finished by running it again with ``--reuse-models``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, datasets_dir, machine  # noqa: E402

from mmcodec.api import written_model_version  # noqa: E402
from mmcodec.atomic_files import atomic_write  # noqa: E402
from mmcodec.codecs.refinement import REFINEMENT_SCHEDULE  # noqa: E402
from mmcodec.depth_mode import depth_alone_twin  # noqa: E402
from mmcodec.evaluate.bd_rate import bd_psnr, bd_rate, quality_at_equal_rate, rate_at_equal_quality  # noqa: E402
from mmcodec.evaluate.depth_anchors import DEPTH_ANCHORS, run_depth_anchor  # noqa: E402
from mmcodec.evaluate.report import comparison_cell  # noqa: E402
from mmcodec.evaluate.rgbd_evaluate import evaluate_depth_model, rgbd_test_frames  # noqa: E402
from mmcodec.modalities.depth import DepthMap, read_depth  # noqa: E402
from mmcodec.zoo import find_entry, list_models  # noqa: E402

OUT = ROOT / "docs" / "results"


def curve(results: list[dict]) -> tuple[list[float], list[float]]:
    points = sorted((r["mean"]["depth_bpp"], r["mean"]["psnr"]) for r in results)
    return [p[0] for p in points], [p[1] for p in points]


def by_architecture(items: list, architecture_of=lambda r: r["architecture"]) -> list[tuple[str, list]]:
    """Model results (or zoo entries, with ``architecture_of``) grouped per architecture, by name."""
    groups: dict[str, list] = {}
    for item in items:
        groups.setdefault(architecture_of(item), []).append(item)
    return sorted(groups.items())


def lossy_curve(anchor: dict) -> tuple[list[float], list[float]]:
    """An anchor's (bpp, PSNR) points that have a PSNR (lossless settings have none)."""
    res = anchor["results"]
    keep = [i for i, q in enumerate(res["psnr"]) if q is not None]
    return [res["bpp"][i] for i in keep], [res["psnr"][i] for i in keep]


def per_dataset(models: list[dict]) -> list[str]:
    """Mean depth bpp and PSNR per test set (frames are named <sequence>/<frame>)."""
    sets = sorted({f["frame"].split("/")[0] for f in models[0]["frames"]}) if models else []
    lines = ["", "## Per test set (depth bpp / PSNR)", "", "| model | " + " | ".join(sets) + " |",
             "|---|" + "---|" * len(sets)]
    for r in sorted(models, key=lambda r: (r["architecture"], r["lambda"])):
        cells = []
        for name in sets:
            rows = [f for f in r["frames"] if f["frame"].split("/")[0] == name]
            bpp, psnr = (sum(f[k] for f in rows) / len(rows) for k in ("depth_bpp", "psnr"))
            cells.append(f"{bpp:.3f} / {psnr:.2f} dB ({len(rows)})")
        lines.append(f"| {r['model']} | " + " | ".join(cells) + " |")
    return lines


def refinements(models: list[dict]) -> list[tuple[int, list[dict]]]:
    """The results grouped by the encoder's refinement steps (0: none), fewest first."""
    groups: dict[int, list[dict]] = {}
    for r in models:
        groups.setdefault(r.get("refine_steps", 0), []).append(r)
    return sorted(groups.items())


def coding(result: dict) -> str:
    """How a result's joint files coded the depth ("conditioned" for results from before the key)."""
    return result.get("depth_coding") or "conditioned"


def joint_versus_separate(models: list[dict]) -> list[str]:
    """Per λ: one joint file (colour + conditioned depth) against two files (colour + depth alone),
    both coded with the same refinement."""
    lines = ["", "## Joint RGB-D file vs two separate files, per λ", "",
             "Same colour streams in both (the colour-only file of the same RGB model); the difference is the "
             "depth part.", "",
             "| λ | colour bpp | depth bpp: alone → joint | total bpp: separate → joint | "
             "depth PSNR: alone → joint |", "|---|---|---|---|---|"]
    for steps, group in refinements(models):
        alone = {r["lambda"]: r for r in group if not r["conditional"]}
        for r in sorted((r for r in group if r["conditional"]), key=lambda r: (coding(r) == "auto", r["lambda"])):
            base = alone.get(r["lambda"])
            if base is None:
                continue
            m, b = r["mean"], base["mean"]
            separate, joint = m["color_bpp"] + b["depth_bpp"], m["color_bpp"] + m["depth_bpp"]
            label = f"{r['lambda']:g}" + (f", depth refined {steps} steps" if steps else "")
            if coding(r) == "auto":
                counted = [f for f in r["frames"] if f["frame"].split("/")[0] != "samples"]
                label += (f", encoder's choice (given the colour in {sum(f['depth_conditioned'] for f in counted)} "
                          f"of {len(counted)})")
            lines.append(f"| {label} | {m['color_bpp']:.4f} | {b['depth_bpp']:.4f} → {m['depth_bpp']:.4f} "
                         f"({(m['depth_bpp'] / b['depth_bpp'] - 1) * 100:+.1f}%) | {separate:.4f} → {joint:.4f} "
                         f"({(joint / separate - 1) * 100:+.1f}%) | {b['psnr']:.2f} → {m['psnr']:.2f} dB "
                         f"({m['psnr'] - b['psnr']:+.2f} dB) |")
    return lines


def _bd_cell(anchor: tuple[list[float], list[float]], test: tuple[list[float], list[float]]) -> str:
    try:
        return f"{bd_rate(*anchor, *test):+.1f}% / {bd_psnr(*anchor, *test):+.2f} dB"
    except ValueError as exc:  # too few points, or curves that do not overlap
        return "n/a (" + str(exc).replace("BD metrics need ", "needs ").replace(" per curve", "") + ")"


def total(results: list[dict], colour_of: dict[float, float]) -> tuple[list[float], list[float]]:
    """(bpp, depth PSNR) of colour + depth per λ, the colour being the colour-only file of that λ's joint
    file (``colour_of``: λ → its bpp): a depth-only result carries no colour, and two separate files
    carry the same colour streams as the joint one."""
    points = sorted((colour_of[r["lambda"]] + r["mean"]["depth_bpp"], r["mean"]["psnr"]) for r in results)
    return [p[0] for p in points], [p[1] for p in points]


def bd_rates(models: list[dict], anchors: list[dict]) -> list[str]:
    """BD-rate / BD-PSNR (pchip, as the image tables) of every depth architecture with four or more
    λ: the RGB-conditioned depth against depth alone at equal depth PSNR (the joint file's saving
    over two files, in depth bits and in total bits), and every architecture against each lossy
    anchor."""
    lines = ["", "## BD-rate at equal depth PSNR (pchip over the common PSNR range; four or more λ per curve)", ""]
    for steps, group in refinements(models):
        for joint_coding, what in (("conditioned", "colour + RGB-conditioned depth"),
                                   ("auto", "colour + depth coded as the encoder chose per frame: given the colour "
                                            "or alone")):
            alone = [r for r in group if not r["conditional"]]
            conditioned = [r for r in group if r["conditional"] and coding(r) == joint_coding]
            colour_of = {r["lambda"]: r["mean"]["color_bpp"] for r in conditioned}
            alone = [r for r in alone if r["lambda"] in colour_of]
            if not (alone and conditioned):
                continue
            colour = sorted({round(r["mean"]["color_bpp"], 6) for r in conditioned})
            refined = f", depth latents of both refined {steps} steps" if steps else ""
            lines += [f"Joint file ({what}) against two files (colour + depth alone){refined}; both carry the same "
                      f"colour streams ({', '.join(f'{c:.4f}' for c in colour)} bpp):", "",
                      "| rates counted | BD-rate / BD-PSNR of the joint file |", "|---|---|",
                      f"| depth bits only | {_bd_cell(curve(alone), curve(conditioned))} |",
                      f"| all bits (colour + depth) | "
                      f"{_bd_cell(total(alone, colour_of), total(conditioned, colour_of))} |", ""]
    lossy = [(name, points) for name, points in ((a["name"], lossy_curve(a)) for a in anchors) if len(points[0]) >= 4]
    lines += ["Each architecture against the lossy depth anchors (positive: more bits than the anchor):", "",
              "| architecture | λ | " + " | ".join(name for name, _ in lossy) + " |",
              "|---|---|" + "---|" * len(lossy)]
    for name, rs in by_architecture(models):
        lambdas = ", ".join(f"{r['lambda']:g}" for r in sorted(rs, key=lambda r: r["lambda"]))
        lines.append(f"| {name} | {lambdas} | " + " | ".join(_bd_cell(a, curve(rs)) for _, a in lossy) + " |")
    return lines


OUTSIDE = "outside its range"   # a point the anchor's curve does not reach


def anchor_deltas(models: list[dict], anchors: list[dict]) -> list[str]:
    """Each model point against each lossy anchor's interpolated curve (pchip): extra bits at equal
    PSNR and PSNR gain at equal rate."""
    lines = ["", "## Each model point against the lossy depth anchors (pchip-interpolated)", "",
             "| model | anchor | bits at equal PSNR | PSNR at equal rate |", "|---|---|---|---|"]
    for r in sorted(models, key=lambda r: (r["architecture"], r["lambda"])):
        for a in anchors:
            bpp, psnr = lossy_curve(a)
            if len(bpp) < 2:
                continue
            point = (r["mean"]["depth_bpp"], r["mean"]["psnr"])
            extra = comparison_cell(rate_at_equal_quality, bpp, psnr, *point, "%", digits=1, undefined=OUTSIDE)
            gain = comparison_cell(quality_at_equal_rate, bpp, psnr, *point, " dB", undefined=OUTSIDE)
            lines.append(f"| {r['model']} | {a['name']} | {extra} | {gain} |")
    return lines


def table(models: list[dict], anchors: list[dict], frames: int) -> list[str]:
    lines = ["## Shipped depth models (per λ: the thesis's Tables 11–13 layout, plus mm errors)", "",
             f"Mean over {frames} held-out frames in millimetres (the 3 `samples` pairs in other units are only in "
             "the per-set table); depth bpp = depth bits per pixel (for joint files: joint file minus the "
             "colour-only file), hole-mask stream included; holes exact = on every frame.", "",
             "| model | λ | depth bpp | PSNR (16-bit) | comprehensive similarity | RMSE mm | MAE mm | "
             "flying px % | holes exact | enc s | dec s |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(models, key=lambda r: (r["architecture"], r["lambda"])):
        m = r["mean"]
        lines.append(f"| {r['model']} | {r['lambda']:g} | {m['depth_bpp']:.4f} | {m['psnr']:.2f} dB | "
                     f"{m['comprehensive_similarity_db']:.2f} dB | {m['rmse_mm']:.1f} | {m['mae_mm']:.1f} | "
                     f"{m['flying_pixels_percent']:.2f} | {'yes' if m['holes_kept'] else 'no'} | "
                     f"{m['encoding_time']:.2f} | {m['decoding_time']:.2f} |")
    lines += per_dataset(models) + joint_versus_separate(models) + bd_rates(models, anchors)
    lines += anchor_deltas(models, anchors)
    lines += ["", "## Depth anchors on the same depth maps", "",
              "| anchor | setting | bpp | PSNR (16-bit) | RMSE mm | flying px % | holes exact |",
              "|---|---|---|---|---|---|---|"]
    for a in anchors:
        res = a["results"]
        for i in range(len(res["bpp"])):
            psnr = "lossless" if res["psnr"][i] is None else f"{res['psnr'][i]:.2f} dB"
            lines.append(f"| {a['name']} | {res['quality'][i]} | {res['bpp'][i]:.4f} | {psnr} | "
                         f"{res['rmse_mm'][i]:.2f} | {res['flying_pixels_percent'][i]:.2f} | "
                         f"{'yes' if res['holes_kept'][i] else 'no'} |")
    return lines


def plot(models: list[dict], anchors: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    for name, rs in by_architecture(models):
        ax.plot(*curve(rs), "o-", linewidth=2, label=name)
    for a in anchors:
        bpp, psnr = lossy_curve(a)
        if bpp:
            ax.plot(bpp, psnr, ".--", label=a["name"])
    ax.set_xscale("log")
    ax.set_xlabel("depth bits per pixel")
    ax.set_ylabel("depth PSNR (dB, peak 65535, holes excluded)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def render_views(entries: list, frames: list, name: str) -> list[str]:
    """Back-projected coloured point clouds of one held-out 7-Scenes frame (pinhole fx = fy = 585):
    the reference (left) and each depth architecture's mid-rate model's reconstruction (right)."""
    import mmcodec
    from mmcodec.depth_api import compress_depth, compress_rgbd
    from mmcodec.evaluate.pointcloud_view import render_depth_comparison
    from mmcodec.modalities.depth import to_millimetres
    from mmcodec.modalities.image import read_image

    frame = next((p for p in frames if p.sequence.startswith("redkitchen")), frames[0])
    depth, color = read_depth(frame.depth, frame.unit), read_image(frame.color, channels=3)
    lines = []
    for architecture, group in by_architecture(entries, lambda e: e.architecture):
        entry = sorted(group, key=lambda e: e.lmbda)[len(group) // 2]
        if entry.context_model:
            data = compress_rgbd(color, depth, depth.unit, model=str(entry.path), depth_coding="conditioned")
        else:
            data = compress_depth(depth, depth.unit, model=str(entry.path))
        decoded = to_millimetres(mmcodec.decompress(data, model=str(entry.path))["depth"], depth.unit)
        image = f"{name}-view-{architecture}.png"
        render_depth_comparison(color.pixels, depth.millimetres(), decoded, OUT / image)
        lines += [f"{frame.sequence}/{frame.name}, reference (left) and `{entry.model_id}` (right):", "",
                  f"![{architecture}]({image})", ""]
    return lines


def millimetre_map(depth: DepthMap) -> np.ndarray:
    from mmcodec.modalities.depth import from_millimetres
    return from_millimetres(depth.millimetres(), "mm", depth.valid)


def write_report(record: dict, name: str, views: list[str]) -> None:
    """docs/results/<name>.md and .png from a measurement record (views: point-cloud lines)."""
    models, anchors = record["models"], record["anchors"]
    plot(models, anchors, OUT / f"{name}.png")
    m = record["machine"]
    header = [f"# Depth and joint RGB-D coding ({len(record['frames'])} held-out frames)", "",
              f"Measured with `{record['command']}` on {m['platform']}, {m['cpu_count']} CPU cores, "
              f"torch {m['torch']}.", ""]
    if any(r.get("median_filter") for r in models):
        header += ["Each learned depth file carries the median post-filter its encoder chose for the decoder "
                   "(window 0 = none, 3, 5 or 7: `mmcodec/modalities/depth_filter.py`); the filter alone is "
                   "measured in `docs/benchmarks/depth_median_filter.md`.", ""]
    header += [f"![depth RD]({name}.png)", ""]
    path = OUT / f"{name}.md"
    if not views and path.exists():  # keep the point-cloud section of the last measurement
        text = path.read_text()
        marker = "## Point clouds"
        views = [""] + text[text.index(marker):].rstrip("\n").split("\n") if marker in text else []
    elif views:
        views = ["", "## Point clouds (depth back-projected, coloured by the frame's image)", ""] + views
    counted = models[0]["mean"].get("frames", len(record["frames"])) if models else len(record["frames"])
    path.write_text("\n".join(header + table(models, anchors, counted) + views) + "\n")


def reusable_results(record: dict, entries: list, context_digests: dict[str, str],
                     alone_digests: dict[str, str]) -> dict[tuple[str, str, int, str], dict]:
    """The results of ``record`` that measured the same weights as a shipped entry, keyed by
    (model id, weights digest, refinement steps, depth coding). A conditioned model's result must
    also have been measured with the colour model's current weights (``context_digests``: id →
    digest), which make its colour streams and its context, and with the decoder's median
    post-filter (``median_filter``; results from before it existed lack the key); one whose
    encoder chose the depth's coding per frame, with its depth-only twin's current weights too
    (``alone_digests``: conditioned model id → twin's digest). Results without digests are not
    reused, nor a conditioned model's from before its files said how the depth was coded (no
    ``depth_coding``: those files lack the header's ``depth_conditioned``, 12–14 bytes), nor a
    refined result from another refinement schedule (``refinement``), nor one whose files are of
    another model version than the codec writes now (results from before the key: version 1; a
    joint file with the depth coded alone has its depth-only model's version)."""
    versions = {e.model_id: written_model_version(e.architecture) for e in entries}
    shipped = {(e.model_id, e.digest): context_digests.get(e.context_model) if e.context_model else None
               for e in entries}
    kept = {}
    for result in record["models"]:
        steps, how = result.get("refine_steps", 0), coding(result)
        base = result["model"].removesuffix(f"+refine{steps}") if steps else result["model"]
        base = base.removesuffix(f"+{how}") if how != "conditioned" else base
        if how != "conditioned" and result.get("alone_digest") != alone_digests.get(base):
            continue
        if result.get("conditional") and result.get("depth_coding") is None:
            continue
        if steps and result.get("refinement") != REFINEMENT_SCHEDULE:
            continue
        if result.get("mean", {}).get("model_versions", [1]) != [versions.get(base)]:
            continue
        key = (base, result.get("digest"))
        if key in shipped and result.get("context_digest") == shipped[key] and result.get("median_filter") is True:
            kept[(base, result["digest"], steps, how)] = {**result, "kept": True}
    return kept


def save_progress(path: Path, record: dict | None, frame_names: list[str], measured: list[dict],
                  anchors: list[dict]) -> None:
    """Write ``measured`` (and the results of the earlier ``record`` not measured again) to
    ``path`` after every model, marked incomplete, so that a run stopped part-way loses at most
    the model it was measuring: rerun with ``--reuse-models`` (and ``--reuse-anchors``)."""
    done = {(r["model"], r.get("digest")) for r in measured}
    earlier = [r for r in (record or {}).get("models", []) if (r["model"], r.get("digest")) not in done]
    progress = {"complete": False, "frames": frame_names,
                "models": measured + earlier, "anchors": anchors or (record or {}).get("anchors", [])}
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(progress, indent=2) + "\n"))


def measure_model(entry, frames: list, refine_steps: int, depth_coding: str) -> dict:
    refined = f", refined {refine_steps} steps" if refine_steps else ""
    how = f", depth coding {depth_coding}" if entry.context_model else ""
    print(f"{entry.model_id} on {len(frames)} frames{refined}{how}", flush=True)
    return evaluate_depth_model(entry, frames, refine_steps=refine_steps, depth_coding=depth_coding)


def depth_codings(entry, refine_steps: int, alone_digests: dict[str, str]) -> tuple[str, ...]:
    """How the benchmark codes the joint files of ``entry``: as they come ("conditioned"; the only
    way for a depth-only model), and without refinement also with the encoder's per-frame choice
    ("auto") when the model has a depth-only twin."""
    return ("conditioned", "auto") if entry.model_id in alone_digests and not refine_steps else ("conditioned",)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=datasets_dir() / "rgbd")
    parser.add_argument("--frames", type=int, help="use about this many frames (default: all held-out)")
    parser.add_argument("--skip-anchors", action="store_true")
    parser.add_argument("--reuse-anchors", action="store_true",
                        help="keep the anchor results of docs/results/<name>.json (same frames) instead of rerunning")
    parser.add_argument("--reuse-models", action="store_true",
                        help="keep the results of docs/results/<name>.json (same frames) of every model whose "
                             "weights are unchanged (same digest); measure only new or retrained models (the record is "
                             "saved after every model, so this also finishes a run that was stopped)")
    parser.add_argument("--name", default="rgbd-depth")
    parser.add_argument("--cards-from-runs", type=Path,
                        help="also write each shipped depth model's card from these results, its training "
                             "record read from <this folder>/<model id>/ (the training run)")
    parser.add_argument("--hardware", default="CPU", help="where the models were trained (for the cards)")
    parser.add_argument("--refine", type=int, default=0, metavar="STEPS",
                        help="also measure every model with its depth latents refined for this many steps")
    parser.add_argument("--tables-only", action="store_true",
                        help="rewrite the markdown and plot from docs/results/<name>.json without measuring")
    args = parser.parse_args()
    if args.tables_only:
        record = json.loads((OUT / f"{args.name}.json").read_text())
        if not record.get("complete", True):
            raise SystemExit(f"{args.name}.json is from a run stopped part-way: finish it with --reuse-models")
        write_report(record, args.name, [])
        return
    frames = rgbd_test_frames(args.data, args.frames)
    frame_names = [f"{p.sequence}/{p.name}" for p in frames]
    entries = [e for e in list_models() if e.modality == "depth"]
    previous = OUT / f"{args.name}.json"
    reusing = args.reuse_anchors or args.reuse_models
    record = json.loads(previous.read_text()) if reusing and previous.exists() else None
    if record is not None and record["frames"] != frame_names:
        raise SystemExit(f"{previous} was measured on other frames: rerun without --reuse-anchors / --reuse-models")
    context_digests = {e.context_model: find_entry(e.context_model).digest for e in entries if e.context_model}
    twins = {e.model_id: depth_alone_twin(e) for e in entries if e.context_model}
    alone_digests = {model_id: twin.digest for model_id, twin in twins.items() if twin is not None}
    kept = reusable_results(record, entries, context_digests, alone_digests) if args.reuse_models and record else {}
    anchors = record["anchors"] if args.reuse_anchors and record else []
    models = []
    for steps in (0, args.refine) if args.refine else (0,):
        for entry in entries:
            for how in depth_codings(entry, steps, alone_digests):
                result = kept.get((entry.model_id, entry.digest, steps, how))
                if result is None:
                    result = measure_model(entry, frames, steps, how)
                    save_progress(previous, record, frame_names, models + [result], anchors)
                models.append(result)
    if not anchors and not args.skip_anchors:
        # the anchors code the frames of the means, in millimetres, holes kept at 0
        depths = [millimetre_map(read_depth(p.depth, p.unit)) for p in frames if not p.sequence.startswith("samples")]
        for name, anchor in DEPTH_ANCHORS.items():
            if anchor.requirement() is None:
                print(f"anchor {name}", flush=True)
                anchors.append(run_depth_anchor(anchor, depths))
    command = "python benchmarks/rgbd_depth.py" + (f" --frames {args.frames}" if args.frames else "")
    command += " --reuse-anchors" if args.reuse_anchors else ""
    command += " --reuse-models" if args.reuse_models else ""
    command += f" --refine {args.refine}" if args.refine else ""
    OUT.mkdir(parents=True, exist_ok=True)
    record = {"command": command, "machine": machine(), "frames": frame_names,
              "models": models, "anchors": anchors}
    (OUT / f"{args.name}.json").write_text(json.dumps(record, indent=2) + "\n")
    write_report(record, args.name, render_views(entries, frames, args.name))
    print(f"wrote {OUT / (args.name + '.md')}")
    if args.cards_from_runs:
        from mmcodec.train.export import write_depth_card
        for entry in entries:
            measured = next(r for r in models if r["model"] == entry.model_id)
            card = write_depth_card(entry, args.cards_from_runs / entry.model_id, measured, command, args.hardware)
            print(f"model card: {card}")


if __name__ == "__main__":
    main()
