"""Encode / decode wall time and peak memory on CPU, for a Kodak image (768×512) and a
24-megapixel photo (6000×4000, Kodak kodim23 upscaled with Lanczos: a real photo's statistics
at that size). Each measurement runs in a fresh process so its peak RSS is its own.

    python benchmarks/speed_memory.py [--model ID] [--skip-large]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import datasets_dir, write_results  # noqa: E402

WORKER = r"""
import json, resource, sys, time
from pathlib import Path
import numpy as np
import mmcodec
from mmcodec import api
from mmcodec.modalities.image import read_image
mode, model, src, dst = sys.argv[1:5]
entry = api.find_entry(model or None)
api.get_codec(entry)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if mode == "encode":
    image = read_image(src)
    start = time.perf_counter()
    data = mmcodec.compress(image, model=entry.model_id)
    seconds = time.perf_counter() - start
    Path(dst).write_bytes(data)
    out = {"bytes": len(data), "bpp": 8 * len(data) / (image.height * image.width)}
else:
    data = Path(src).read_bytes()
    start = time.perf_counter()
    pixels = mmcodec.decompress(data)["image"]
    seconds = time.perf_counter() - start
    out = {"shape": list(pixels.shape)}
out.update(seconds=seconds, peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           model_loaded_rss_mb=base / 1024)
print(json.dumps(out))
"""


def run_worker(mode: str, model: str, src: Path, dst: Path) -> dict:
    done = subprocess.run([sys.executable, "-c", WORKER, mode, model or "", str(src), str(dst)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def make_large(path: Path) -> None:
    from PIL import Image
    Image.open(datasets_dir() / "kodak" / "kodim23.png").resize((6000, 4000), Image.LANCZOS).save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the 768×512 case (median kept)")
    parser.add_argument("--skip-large", action="store_true")
    args = parser.parse_args()
    from mmcodec.zoo import find_entry
    model_id = find_entry(args.model or None).model_id
    cases = [("kodim23 768×512", datasets_dir() / "kodak" / "kodim23.png", args.repeat)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if not args.skip_large:
            make_large(tmp / "large.png")
            cases.append(("kodim23 upscaled 6000×4000 (24 MP)", tmp / "large.png", 1))
        for label, src, repeat in cases:
            encodes = [run_worker("encode", model_id, src, tmp / "x.mmc") for _ in range(repeat)]
            decodes = [run_worker("decode", model_id, tmp / "x.mmc", tmp / "x.png") for _ in range(repeat)]
            median = lambda runs: sorted(r["seconds"] for r in runs)[len(runs) // 2]  # noqa: E731
            rows.append({"case": label, "bpp": encodes[0]["bpp"], "encode_s": median(encodes),
                         "decode_s": median(decodes),
                         "encode_peak_rss_mb": max(r["peak_rss_mb"] for r in encodes),
                         "decode_peak_rss_mb": max(r["peak_rss_mb"] for r in decodes),
                         "runs": repeat})
    table = ["| case | model | bpp | encode s | decode s | encode peak RSS MB | decode peak RSS MB |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        table.append(f"| {r['case']} | {model_id} | {r['bpp']:.3f} | {r['encode_s']:.2f} | {r['decode_s']:.2f} | "
                     f"{r['encode_peak_rss_mb']:.0f} | {r['decode_peak_rss_mb']:.0f} |")
    table += ["", "Times exclude process start and model loading (median of the runs); peak RSS is the "
              "whole process's, model and Python included."]
    write_results("speed_memory", {"model": model_id, "rows": rows}, table, "python benchmarks/speed_memory.py")
    print("\n".join(table))


if __name__ == "__main__":
    main()
