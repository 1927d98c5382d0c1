"""The RGB-D thesis's Tables 8–13 for trained thesis models, on held-out RGB-D frames with real files.

    mmcodec export runs/thesis-depth-baseline-0.001 --model-id thesis-depth-0.001 --quality 2 \\
        --output runs/exports/weights                  # once per trained run (configs/thesis/)
    python benchmarks/thesis_tables.py runs/exports/weights/thesis-*.safetensors
                                                       # → docs/results/thesis-tables.md (+ .json)
    python benchmarks/thesis_tables.py WEIGHTS... --frames 8 --output /tmp/tables   # a quick look
    python benchmarks/thesis_tables.py VARIABLE_RATE_WEIGHTS --rates 0.0025 0.013 0.05   # one model, 3 rows
    python benchmarks/thesis_tables.py WEIGHTS... --reuse    # measure only the models not measured before
    python benchmarks/thesis_tables.py WEIGHTS... --reuse --keep   # and keep the earlier rows of other models

Thesis ../shared/papers/multimodal-lic-tcm-rgbd-thesis.txt, sec. 4: one table per architecture
(8 RGB baseline, 9 4C LIC-TCM RGB target, 10 Attention MM-LIC-TCM, 11 depth baseline, 12 4C
LIC-TCM depth target, 13 Convolutional MM-LIC-TCM), one row per λ: mean PSNR, MS-SSIM dB (RGB)
or comprehensive similarity dB (depth, eq. 24) and bpp, here with the depth errors in mm, the
flying pixels and the coding times beside them. Each weights file is put in its table by its
architecture and target (:func:`mmcodec.thesis_api.thesis_table_of`); frames and
files as :mod:`mmcodec.evaluate.thesis_evaluate`. Tables 14–15 (complexity) are
``benchmarks/complexity.py``'s.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, datasets_dir, machine  # noqa: E402

from mmcodec.api import written_model_version  # noqa: E402
from mmcodec.errors import ModelError  # noqa: E402
from mmcodec.evaluate.rgbd_evaluate import rgbd_test_frames  # noqa: E402
from mmcodec.evaluate.thesis_evaluate import evaluate_thesis_model  # noqa: E402
from mmcodec.thesis_api import THESIS_TABLES, ThesisTable  # noqa: E402
from mmcodec.zoo import read_entry  # noqa: E402

OUT = ROOT / "docs" / "results" / "thesis-tables"


def table_lines(table: ThesisTable, results: list[dict]) -> list[str]:
    lines = [f"### Table {table.number}: {table.title} (`{table.architecture}`, {table.target} target)", ""]
    if not results:
        return lines + ["No trained model of this architecture was given.", ""]
    if table.target == "rgb":
        lines += ["| λ | PSNR dB | MS-SSIM dB | bpp | encode s | decode s | model |", "|---|---|---|---|---|---|---|"]
    else:
        lines += ["| λ | PSNR dB | comprehensive similarity dB | bpp | RMSE mm | flying px % | holes exact | "
                  "encode s | decode s | model |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(results, key=lambda r: r["lambda"]):
        m = r["mean"]
        if table.target == "rgb":
            cells = [f"{m['psnr']:.2f}", f"{m['ms_ssim_db']:.2f}", f"{m['bpp']:.4f}"]
        else:
            cells = [f"{m['psnr']:.2f}", f"{m['comprehensive_similarity_db']:.2f}", f"{m['bpp']:.4f}",
                     f"{m['rmse_mm']:.1f}", f"{m['flying_pixels_percent']:.2f}", "yes" if m["holes_kept"] else "no"]
        cells += [f"{m['encoding_time']:.2f}", f"{m['decoding_time']:.2f}", f"`{r['model']}`" + (" †" if r.get("kept")
                                                                                               else "")]
        lines.append(f"| {r['lambda']:g} | " + " | ".join(cells) + " |")
    return lines + [""]


def earlier_results(path: Path, frames: list) -> dict[tuple, dict]:
    """Results of an earlier run of this benchmark, by (model id, weights digest, rate), if it
    measured the same frames."""
    if not path.is_file():
        return {}
    names = [f"{pair.sequence}/{pair.name}" for pair in frames]
    return {(r["model_id"], r["weights_digest"], r["rate"]): {k: v for k, v in r.items() if k != "kept"}
            for r in json.loads(path.read_text())["results"]
            if "weights_digest" in r and [row["frame"] for row in r["frames"]] == names}


def current_files(result: dict) -> bool:
    """Whether ``result``'s files are of the model version its architecture writes now (results from
    before the JSON recorded it were measured on files of version 1)."""
    return result["mean"].get("model_versions", [1]) == [written_model_version(result["architecture"])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weights", nargs="+", help="exported thesis models (.safetensors)")
    parser.add_argument("--rgbd", default=str(datasets_dir() / "rgbd"), help="the RGB-D datasets folder")
    parser.add_argument("--frames", type=int, help="measure a subset of this many frames, spread over the test set")
    parser.add_argument("--output", default=str(OUT), help="result files without extension (.md, .json)")
    parser.add_argument("--reuse", action="store_true",
                        help="take a model's results from the existing JSON when its weights digest, the frames, "
                             "the rate and the files' model version are the same (measure only what is new)")
    parser.add_argument("--rates", type=float, nargs="+",
                        help="code every mm-tcm-attention model given at these λ through its λ map (meant for "
                             "one trained with variable_rate; the others code at their own λ)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the earlier results (same frames) of the models not given here, marked in the "
                             "tables: e.g. models whose weights are no longer at hand")
    args = parser.parse_args()
    frames = rgbd_test_frames(Path(args.rgbd), args.frames)
    output = Path(args.output)
    previous = earlier_results(output.with_suffix(".json"), frames) if args.reuse or args.keep else {}
    results = []
    for path in args.weights:
        entry = read_entry(Path(path))
        variable = entry.architecture == "mm-tcm-attention" and args.rates
        for rate in args.rates if variable else [None]:
            reused = previous.get((entry.model_id, entry.digest, rate)) if args.reuse else None
            reused = reused if reused is not None and current_files(reused) else None
            results.append(reused or {**evaluate_thesis_model(entry, frames, rate=rate), "model_id": entry.model_id,
                                      "weights_digest": entry.digest, "rate": rate})
            m = results[-1]["mean"]
            print(f"{results[-1]['model']}: table {results[-1]['table']}, {m['bpp']:.4f} bpp, {m['psnr']:.2f} dB"
                  + (" (reused)" if reused else ""), flush=True)
    if args.keep:
        given = {r["model_id"] for r in results}
        results += [{**r, "kept": True} for r in previous.values() if r["model_id"] not in given]
    command = "python benchmarks/thesis_tables.py " + " ".join(sys.argv[1:])
    counted = results[0]["mean"]["frames"]
    versions = sorted({v for r in results for v in r["mean"].get("model_versions", [1])})
    lines = ["# The RGB-D thesis's Tables 8–13 (real files)", "",
             f"Measured with `{command}` (CPU). Mean over {counted} held-out RGB-D frames (the last 10% of RGB-D-D "
             "and red kitchen, ICL-NUIM living room; the three `samples` pairs are measured but left out of the "
             "mean); bpp from the .mmc file sizes (depth files include the lossless hole mask); depth quality "
             "over valid pixels, PSNR peak 65535 mm as the thesis. Files of model version "
             f"{', '.join(str(v) for v in versions)} (`mmcodec.api.MODEL_VERSIONS`; 2: the entropy parameters in "
             "fixed point, decodable on any platform).", ""]
    for table in THESIS_TABLES:
        lines += table_lines(table, [r for r in results if r["table"] == table.number])
    if any(r.get("kept") for r in results):
        lines += ["† Kept from an earlier run of this benchmark on the same frames (`--keep`): its weights were not "
                  "given to this one, so this row is not measured again here (how these models were trained, and "
                  "where their weights are: `docs/design.md`, \"The RGB-D thesis's models\").", ""]
    lines += ["### Tables 14–15: complexity", "",
              "Encoding / decoding time, parameters and MACs of the six architectures at the thesis's size: "
              "`docs/benchmarks/complexity.md` (`python benchmarks/complexity.py`). The encode / decode seconds "
              "in Tables 8–13 are wall times of the run that measured each row (with `--reuse`, of different "
              "runs, some beside training jobs on the same cores): compare speeds there, not here.", ""]
    output.parent.mkdir(parents=True, exist_ok=True)
    output.with_suffix(".md").write_text("\n".join(lines))
    output.with_suffix(".json").write_text(json.dumps({"command": command, "machine": machine(), "results": results},
                                                      indent=2) + "\n")
    print(f"wrote {output.with_suffix('.md')}")


if __name__ == "__main__":
    try:
        main()
    except ModelError as error:   # a missing or foreign weights file: one line, no traceback
        sys.exit(f"thesis_tables: error: {error}")
