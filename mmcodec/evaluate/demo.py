"""The quick-start job: compress and decompress one image with a shipped model and compare
the result with PNG (lossless) and with the JPEG that reaches the same PSNR."""
from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np

from .. import api
from ..modalities.image import read_image
from .jpeg_match import jpeg_for_psnr
from .metrics import psnr


def run_demo(path: Path, model: str | None = None, quality: int | None = None, device: str = "cpu") -> dict:
    image = read_image(path)
    entry = api.find_entry(model, quality)
    api.get_codec(entry, device)  # load once, outside the timings
    start = time.perf_counter()
    data = api.compress(image, model=model, quality=quality, device=device)
    encode_s = time.perf_counter() - start
    start = time.perf_counter()
    weights_file = model if model and model.endswith(".safetensors") else None
    decoded = api.decompress(data, device=device, model=weights_file)
    decode_s = time.perf_counter() - start
    pixels = decoded["image"]
    pixels_count = image.height * image.width
    quality_db = psnr(image.pixels, pixels, image.peak)
    png_size = len(_png_bytes(image.pixels))
    result = {"image": str(path), "model": entry.model_id, "bytes": len(data), "bpp": 8 * len(data) / pixels_count,
              "psnr": quality_db, "png_bytes": png_size, "encode_s": encode_s, "decode_s": decode_s}
    print(f"image       {path.name}: {image.width}x{image.height}, {image.channels} channel(s), {image.bit_depth}-bit")
    print(f"model       {entry.model_id} ({entry.architecture})")
    print(f"mmcodec     {len(data)} bytes = {result['bpp']:.4f} bpp, PSNR {quality_db:.2f} dB "
          f"(encode {encode_s:.2f} s, decode {decode_s:.2f} s)")
    print(f"PNG         {png_size} bytes = {8 * png_size / pixels_count:.4f} bpp (lossless); "
          f"mmcodec file is {png_size / len(data):.1f}x smaller")
    jpeg = jpeg_for_psnr(image.pixels, quality_db)
    if jpeg is None:
        print("JPEG        cannot reach that PSNR")
    else:
        result["jpeg_bytes"] = jpeg.size
        print(f"JPEG        {jpeg.size} bytes = {8 * jpeg.size / pixels_count:.4f} bpp for PSNR {jpeg.psnr:.2f} dB "
              f"(quality {jpeg.quality}); mmcodec needs {100 * (len(data) / jpeg.size - 1):+.1f}% bytes")
    return result


def _png_bytes(pixels: np.ndarray) -> bytes:
    from PIL import Image as PILImage

    buffer = io.BytesIO()
    PILImage.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
