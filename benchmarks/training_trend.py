"""Rate–distortion over training steps: every snapshot of a run measured on Kodak with real files.

    python benchmarks/training_trend.py runs/RUN [runs/OTHER ...]   # → docs/results/training-trend.md
    python benchmarks/training_trend.py --reuse-measured runs/RUN ...   # measure only new snapshots
    python benchmarks/training_trend.py --keep runs/NEW_RUN    # add a run, keep the rows of the earlier ones

A run keeps snapshots when trained with ``snapshot_every: N`` (``<run>/snapshots/step-N.safetensors``);
its latest checkpoint is measured too. Each snapshot is exported as a model (quantiles settled,
coding tables built, as ``mmcodec export``), coded image by image with ``mmcodec eval``
semantics, and compared with the classical anchors of ``docs/results/kodak/`` (rate difference at
equal PSNR against the pchip-interpolated anchor curve, as ``benchmarks/kodak_rd.py`` does for
single points). The trend tells what more training of the same recipe buys.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, datasets_dir, machine  # noqa: E402

from mmcodec.evaluate.bd_rate import rate_at_equal_quality  # noqa: E402
from mmcodec.evaluate.evaluate import evaluate_folder  # noqa: E402
from mmcodec.evaluate.results import load_curve  # noqa: E402
from mmcodec.train.export import export_run  # noqa: E402

RESULTS = ROOT / "docs" / "results"
ANCHORS = ("jpeg", "webp", "jpeg2000")


def checkpoints(run: Path) -> list[tuple[int, Path]]:
    """(step, path) of every snapshot and of the latest checkpoint, by step."""
    found = {}
    for path in sorted((run / "snapshots").glob("step-*.safetensors")) + [run / "checkpoint.safetensors"]:
        if path.exists():
            found[json.loads(path.with_suffix(".json").read_text())["step"]] = path
    return sorted(found.items())


def recorded_rows(record: dict) -> list[dict]:
    """The rows of an earlier record, each naming the command that measured it (``measured_by``; rows
    of records written before rows named it were all measured by the record's own command)."""
    return [{"measured_by": record["command"], **row} for row in record["rows"]]


def kept_rows(record: dict, given: set[str]) -> list[dict]:
    """The rows of an earlier record whose runs are not among the ``given`` run names, marked kept."""
    return [{**row, "kept": True} for row in recorded_rows(record) if row["run"] not in given]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--data", type=Path, default=datasets_dir() / "kodak")
    parser.add_argument("--name", default="training-trend")
    parser.add_argument("--reuse-measured", action="store_true",
                        help="keep the rows of the last run's JSON for snapshots already measured (same run and step)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the last run's rows of the runs not given here (e.g. runs whose folders are gone), "
                             "marked †, with the commands that measured them")
    args = parser.parse_args()
    flags = ["--keep"] if args.keep else []
    command = "python benchmarks/training_trend.py " + " ".join(flags + [str(r) for r in args.runs])
    measured, kept = {}, []
    previous = RESULTS / f"{args.name}.json"
    if (args.reuse_measured or args.keep) and previous.exists():
        record = json.loads(previous.read_text())
        if args.reuse_measured:
            measured = {(r["run"], r["step"]): r for r in recorded_rows(record)}
        if args.keep:
            kept = kept_rows(record, {run.name for run in args.runs})
    anchors = {n: load_curve(RESULTS / "kodak" / f"anchor-{n}.json") for n in ANCHORS
               if (RESULTS / "kodak" / f"anchor-{n}.json").exists()}
    rows = list(kept)
    with tempfile.TemporaryDirectory() as scratch:
        for run in args.runs:
            config = json.loads((run / "config.json").read_text())
            for step, path in checkpoints(run):
                if (run.name, step) in measured:
                    rows.append({k: v for k, v in measured[(run.name, step)].items() if k != "kept"})
                    continue
                entry = export_run(run, f"{run.name}-step-{step}", 0, Path(scratch), checkpoint=path)
                mean = evaluate_folder(entry, args.data)["results"]
                row = {"run": run.name, "architecture": config["architecture"], "lambda": config["lmbda"],
                       "step": step, "bpp": mean["bpp"][0], "psnr": mean["psnr-rgb"][0],
                       "ms_ssim": mean["ms-ssim-rgb"][0], "measured_by": command}
                for name, anchor in anchors.items():
                    try:
                        row[f"vs_{name}"] = rate_at_equal_quality(anchor.bpp, anchor.psnr, row["bpp"], row["psnr"])
                    except ValueError:
                        row[f"vs_{name}"] = None
                rows.append(row)
                print(row, flush=True)
    record = {"command": command, "machine": machine(), "data": str(args.data.name), "rows": rows}
    (RESULTS / f"{args.name}.json").write_text(json.dumps(record, indent=2) + "\n")
    header = "| run | λ | step | bpp | PSNR-RGB dB | MS-SSIM | " + " | ".join(f"bits vs {n}" for n in anchors) + " |"
    lines = [f"# Rate–distortion over training steps ({args.data.name}, real files)", "",
             f"Measured with `{command}` on {record['machine']['platform']}, {record['machine']['cpu_count']} "
             "CPU cores. Bits vs an anchor: rate difference at equal PSNR against the anchor's interpolated "
             "curve (negative = fewer bits than the anchor; empty = outside its range).", "",
             header, "|---|---|---|---|---|---|" + "---|" * len(anchors)]
    for r in rows:
        cells = " | ".join("" if r[f"vs_{n}"] is None else f"{r[f'vs_{n}']:+.1f}%" for n in anchors)
        run = r["run"] + (" †" if r.get("kept") else "")
        lines.append(f"| {run} | {r['lambda']:g} | {r['step']} | {r['bpp']:.4f} | {r['psnr']:.2f} | "
                     f"{r['ms_ssim']:.4f} | {cells} |")
    if kept:
        earlier_commands = dict.fromkeys(row["measured_by"] for row in kept)
        lines += ["", "† Kept from earlier runs of this benchmark (`--keep`; those runs' folders are not given here), "
                  "measured with " + "; ".join(f"`{c}`" for c in earlier_commands) + "."]
    (RESULTS / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
