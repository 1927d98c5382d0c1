"""Does conditioning on the decoded colour pay off? Depth training runs measured side by side on
the held-out RGB-D frames with real files, before any of them is shipped.

    python benchmarks/conditioning_probe.py --runs RUN [RUN ...]   # → docs/benchmarks/conditioning_probe.md

Every run (``mmcodec train`` folder, depth-only or RGB-conditioned) is exported to a scratch
folder and measured exactly as ``benchmarks/rgbd_depth.py`` measures shipped models
(``evaluate_depth_model``: depth bits of a joint file = joint file − colour file). The first run
given is the reference: every other run's depth bits and PSNR are given relative to it (a
depth-only reference at the same λ and the same number of training steps makes the difference
one of conditioning alone).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import datasets_dir, write_results  # noqa: E402

from mmcodec.evaluate.rgbd_evaluate import evaluate_depth_model, rgbd_test_frames  # noqa: E402
from mmcodec.train.export import export_run  # noqa: E402

COLUMNS = ("depth_bpp", "psnr", "rmse_mm", "flying_pixels_percent")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", type=Path, required=True, help="training run folders; the first is "
                                                                           "the reference")
    parser.add_argument("--data", type=Path, default=datasets_dir() / "rgbd")
    parser.add_argument("--frames", type=int, help="use about this many held-out frames (default: all)")
    args = parser.parse_args()
    frames = rgbd_test_frames(args.data, args.frames)
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        for i, run in enumerate(args.runs):
            entry = export_run(run, f"probe-{i}-{run.name}", 1, Path(scratch))
            result = evaluate_depth_model(entry, frames)
            result["run"] = str(run)
            results.append(result)
            print(run, {k: round(result["mean"][k], 4) for k in COLUMNS}, flush=True)
    reference = results[0]["mean"]
    table = [f"{results[0]['mean']['frames']} held-out frames (the `samples` pairs measured but not averaged); "
             f"Δ against the first run, `{args.runs[0].name}`.", "",
             "| run | conditioned | λ | depth bpp | PSNR dB | RMSE mm | flying px % | Δ depth bits | Δ PSNR dB |",
             "|---|---|---|---|---|---|---|---|---|"]
    for result in results:
        m = result["mean"]
        bits = (m["depth_bpp"] / reference["depth_bpp"] - 1) * 100
        conditioned = "yes" if result["conditional"] else "no"
        table.append(f"| {Path(result['run']).name} | {conditioned} | {result['lambda']} | {m['depth_bpp']:.4f} | "
                     f"{m['psnr']:.2f} | {m['rmse_mm']:.1f} | {m['flying_pixels_percent']:.2f} | {bits:+.1f}% | "
                     f"{m['psnr'] - reference['psnr']:+.2f} |")
    command = "python benchmarks/conditioning_probe.py " + " ".join(sys.argv[1:])
    write_results("conditioning_probe", {"results": [{k: v for k, v in r.items() if k != "frames"} for r in results]},
                  table, command.strip())
    print("\n".join(table))


if __name__ == "__main__":
    main()
