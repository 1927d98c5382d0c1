"""Rate–distortion results in CompressAI's JSON schema (``{"name", "description", "results":
{"bpp": [...], "psnr-rgb": [...], "ms-ssim-rgb": [...], ...}}``), as written by ``mmcodec eval``
and ``mmcodec anchors`` and as published in ``../shared/reference-results``."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError


@dataclass
class Curve:
    name: str
    description: str
    bpp: list[float]
    psnr: list[float]            # dB, RGB, 8-bit peak
    ms_ssim_db: list[float]      # -10·log10(1 - MS-SSIM)

    def sorted(self) -> "Curve":
        order = sorted(range(len(self.bpp)), key=lambda i: self.bpp[i])
        pick = lambda values: [values[i] for i in order] if len(values) == len(order) else values  # noqa: E731
        return Curve(self.name, self.description, pick(self.bpp), pick(self.psnr), pick(self.ms_ssim_db))


def load_curve(path: str | Path) -> Curve:
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        results = data["results"]
        bpp = [float(v) for v in results["bpp"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a results JSON ({exc.__class__.__name__})") from None
    # a lossless point has no finite PSNR (stored as null): it is plotted at +inf, i.e. not at all
    psnr = [math.inf if v is None else float(v) for v in results.get("psnr-rgb", results.get("psnr", []))]
    if "ms-ssim-db-rgb" in results:
        ms_ssim_db = [float(v) for v in results["ms-ssim-db-rgb"]]
    else:
        raw = results.get("ms-ssim-rgb", results.get("ms-ssim", []))
        ms_ssim_db = [-10 * math.log10(1 - float(v)) if float(v) < 1 else math.inf for v in raw]
    return Curve(str(data.get("name", path.stem)), str(data.get("description", "")), bpp, psnr,
                 ms_ssim_db).sorted()


def merge_points(results: list[dict], name: str, description: str) -> dict:
    """One curve from several single-point results (e.g. one per model of a family)."""
    keys = sorted({k for r in results for k in r["results"]})
    merged = {k: [r["results"][k][0] for r in results if k in r["results"]] for k in keys}
    order = sorted(range(len(merged["bpp"])), key=lambda i: merged["bpp"][i])
    return {"name": name, "description": description,
            "results": {k: [v[i] for i in order] for k, v in merged.items() if len(v) == len(order)}}
