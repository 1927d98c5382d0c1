"""Encode / decode wall time and peak memory on CPU, for a Kodak image (768×512) and a
24-megapixel photo (6000×4000, Kodak kodim23 upscaled with Lanczos: a real photo's statistics
at that size), and for joint RGB-D files of a 7-Scenes frame (640×480) and of the same frame
upscaled 6× (3840×2880, 11 megapixels: colour with Lanczos, depth by repeating each sample, so
the holes stay holes). Each measurement runs in a fresh process so its peak RSS is its own.

    python benchmarks/speed_memory.py [--model ID] [--skip-large] [--skip-rgbd] [--skip-images] [--name NAME]
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
if mode == "encode-rgbd":
    from mmcodec.depth_api import _depth_entry, compress_rgbd
    from mmcodec.depth_mode import depth_alone_twin
    entry = _depth_entry(model or None, True, None)
    for loaded in (entry, api.find_entry(entry.context_model), depth_alone_twin(entry)):
        if loaded is not None:
            api.get_codec(loaded)
elif mode == "decode":   # every model the file names, loaded before the clock starts
    mmc = api.read_mmc(Path(src).read_bytes())
    api.get_codec(api.find_entry(mmc.model_id))
    if mmc.codec_params.get("image_model"):
        api.get_codec(api.find_entry(mmc.codec_params["image_model"]))
else:
    entry = api.find_entry(model or None)
    api.get_codec(entry)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if mode == "encode-rgbd":
    colour, depth = src.split(",")
    start = time.perf_counter()
    data = compress_rgbd(colour, depth, unit="mm", model=entry.model_id)
    seconds = time.perf_counter() - start
    Path(dst).write_bytes(data)
    from PIL import Image
    width, height = Image.open(colour).size
    out = {"bytes": len(data), "bpp": 8 * len(data) / (height * width), "model": entry.model_id}
elif mode == "encode":
    image = read_image(src)
    start = time.perf_counter()
    data = mmcodec.compress(image, model=entry.model_id)
    seconds = time.perf_counter() - start
    Path(dst).write_bytes(data)
    out = {"bytes": len(data), "bpp": 8 * len(data) / (image.height * image.width)}
else:
    data = Path(src).read_bytes()
    start = time.perf_counter()
    decoded = mmcodec.decompress(data)
    seconds = time.perf_counter() - start
    out = {"shape": list(decoded["image"].shape)}
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


RGBD_FRAME = ("rgbd/redkitchen/frame-000000.color.jpg", "rgbd/redkitchen/frame-000000.depth.png")


def make_large_rgbd(colour_path: Path, depth_path: Path, factor: int) -> None:
    """The 7-Scenes frame ``factor``× larger: colour with Lanczos, each depth sample repeated."""
    import numpy as np
    from PIL import Image
    colour = Image.open(datasets_dir() / RGBD_FRAME[0])
    colour.resize((colour.width * factor, colour.height * factor), Image.LANCZOS).save(colour_path)
    depth = np.asarray(Image.open(datasets_dir() / RGBD_FRAME[1])).astype(np.uint16)
    Image.fromarray(depth.repeat(factor, axis=0).repeat(factor, axis=1)).save(depth_path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the 768×512 case (median kept)")
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--skip-rgbd", action="store_true", help="no joint RGB-D cases")
    parser.add_argument("--skip-images", action="store_true", help="no image cases")
    parser.add_argument("--name", default="speed_memory", help="results as docs/benchmarks/NAME.json and .md")
    parser.add_argument("--rgbd-model", default="", help="the RGB-conditioned depth model (default: shipped)")
    args = parser.parse_args()
    from mmcodec.zoo import find_entry
    model_id = find_entry(args.model or None).model_id
    cases = [] if args.skip_images else [("kodim23 768×512", "encode", model_id,
                                          datasets_dir() / "kodak" / "kodim23.png", args.repeat)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if not args.skip_large and not args.skip_images:
            make_large(tmp / "large.png")
            cases.append(("kodim23 upscaled 6000×4000 (24 MP)", "encode", model_id, tmp / "large.png", 1))
        if not args.skip_rgbd:
            frame = ",".join(str(datasets_dir() / part) for part in RGBD_FRAME)
            cases.append(("RGB-D: 7-Scenes redkitchen frame 0, 640×480", "encode-rgbd", args.rgbd_model, frame,
                          args.repeat))
            if not args.skip_large:
                make_large_rgbd(tmp / "large.color.png", tmp / "large.depth.png", 6)
                cases.append(("RGB-D: the same frame upscaled 3840×2880 (11 MP)", "encode-rgbd", args.rgbd_model,
                              f"{tmp / 'large.color.png'},{tmp / 'large.depth.png'}", 1))
        for label, mode, model, src, repeat in cases:
            encodes = [run_worker(mode, model, src, tmp / "x.mmc") for _ in range(repeat)]
            decodes = [run_worker("decode", model, tmp / "x.mmc", tmp / "x.png") for _ in range(repeat)]
            median = lambda runs: sorted(r["seconds"] for r in runs)[len(runs) // 2]  # noqa: E731
            rows.append({"case": label, "model": encodes[0].get("model", model_id), "bpp": encodes[0]["bpp"],
                         "encode_s": median(encodes),
                         "decode_s": median(decodes),
                         "encode_peak_rss_mb": max(r["peak_rss_mb"] for r in encodes),
                         "decode_peak_rss_mb": max(r["peak_rss_mb"] for r in decodes),
                         "runs": repeat})
    table = ["| case | model | bpp | encode s | decode s | encode peak RSS MB | decode peak RSS MB |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        table.append(f"| {r['case']} | {r['model']} | {r['bpp']:.3f} | {r['encode_s']:.2f} | {r['decode_s']:.2f} | "
                     f"{r['encode_peak_rss_mb']:.0f} | {r['decode_peak_rss_mb']:.0f} |")
    table += ["", "Times exclude process start and model loading (median of the runs); peak RSS is the "
              "whole process's, model and Python included. A joint RGB-D file's model is its depth model "
              "(its colour model is the one that depth model names); its encoder codes the depth both given "
              "the colour and alone and keeps the better (the default `--depth-coding auto`), and its bpp "
              "counts both streams over the frame's pixels."]
    command = "python benchmarks/speed_memory.py" + " ".join([""] + sys.argv[1:])
    write_results(args.name, {"model": model_id, "rows": rows}, table, command)
    print("\n".join(table))


if __name__ == "__main__":
    main()
