"""Evaluate a shipped model on a folder of images with real bitstreams.

For every image: compress → bytes → decompress; bpp from the byte length (the model's estimated
bpp beside it), PSNR and MS-SSIM on the decoded integers, encode / decode wall time. Output in
CompressAI's results schema (see ../shared/reference-results), one point per model.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import torch

from .. import api
from ..codecs.refinement import REFINEMENT_SCHEDULE, refined_name
from ..container import read_header
from ..modalities.image import read_image
from ..train.losses import bits_per_pixel
from ..zoo import ZooEntry
from .metrics import ms_ssim, psnr


def estimated_bpp(entry: ZooEntry, pixels: np.ndarray, peak: int, device: str = "cpu") -> float:
    """Rate the model predicts for the rounded latents (what an ideal entropy coder would spend)."""
    codec = api.get_codec(entry, device)
    x = torch.from_numpy(pixels.astype(np.float32) / peak).permute(2, 0, 1).unsqueeze(0).to(device)
    if x.shape[1] != codec.in_channels:
        x = x.repeat(1, codec.in_channels, 1, 1)
    with torch.no_grad():
        out = codec(codec.pad(x))
    return float(bits_per_pixel(out["likelihoods"], pixels.shape[0] * pixels.shape[1]))


def evaluate_image(entry: ZooEntry, path: Path, device: str = "cpu", refine_steps: int = 0) -> dict:
    """One image's real round trip; with ``refine_steps`` the encoder refines the latents first
    (the estimated bpp is then that of the unrefined latents, for comparison)."""
    image = read_image(path)
    start = time.perf_counter()
    data = api.compress(image, model=str(entry.path), device=device, refine_steps=refine_steps)
    encode_s = time.perf_counter() - start
    start = time.perf_counter()
    decoded = api.decompress(data, device=device, model=str(entry.path))["image"]
    decode_s = time.perf_counter() - start
    pixels = image.height * image.width
    result = {"name": path.name, "bytes": len(data), "bpp": 8 * len(data) / pixels,
              "estimated_bpp": estimated_bpp(entry, image.pixels, image.peak, device),
              "psnr-rgb": psnr(image.pixels, decoded, image.peak), "psnr_peak": image.peak,
              "encoding_time": encode_s, "decoding_time": decode_s,
              "model_version": read_header(data).model_version}
    if min(image.height, image.width) >= 161:  # MS-SSIM needs 5 scales of an 11-px window
        result["ms-ssim-rgb"] = ms_ssim(image.pixels, decoded, image.peak)
    return result


def evaluate_folder(entry: ZooEntry, folder: Path, device: str = "cpu", progress: bool = False,
                    refine_steps: int = 0) -> dict:
    """Per-image results and their means, as ``{"name", "description", "digest", "refinement", "results",
    "per_image"}`` (``digest``: the weights measured, :func:`mmcodec.zoo.file_digest`; ``refinement``:
    the refinement schedule, :data:`mmcodec.codecs.refinement.REFINEMENT_SCHEDULE`, or None)."""
    from ..modalities.image import IMAGE_SUFFIXES

    paths = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if progress:
        from tqdm import tqdm
        paths = tqdm(paths, desc=entry.model_id, unit="image")
    api.get_codec(entry, device)  # load outside the timings
    per_image = [evaluate_image(entry, p, device, refine_steps) for p in paths]
    keys = ["bpp", "estimated_bpp", "psnr-rgb", "ms-ssim-rgb", "encoding_time", "decoding_time"]
    means = {k: float(np.mean([r[k] for r in per_image if k in r])) for k in keys
             if any(k in r for r in per_image)}
    peaks = sorted({r["psnr_peak"] for r in per_image})
    if "ms-ssim-rgb" in means:
        means["ms-ssim-db-rgb"] = -10 * math.log10(1 - means["ms-ssim-rgb"])
    refined = f", latents refined {refine_steps} steps" if refine_steps else ""
    return {"name": refined_name(entry.model_id, refine_steps),
            "description": f"mmcodec {entry.architecture} {entry.config}, {entry.metric} λ={entry.lmbda}{refined}, "
                           f"real bitstreams, {device}; PSNR peak {'/'.join(map(str, peaks))}",
            "digest": entry.digest,
            "refinement": REFINEMENT_SCHEDULE if refine_steps else None,
            "model_versions": sorted({r["model_version"] for r in per_image}),   # of the files (api.MODEL_VERSIONS)
            "results": {k: [v] for k, v in means.items()},
            "per_image": per_image}
