"""Markdown table of BD-rate (and BD-PSNR) of every result against a chosen anchor."""
from __future__ import annotations

from .bd_rate import bd_psnr, bd_rate
from .results import Curve


def _cell(function, anchor_rate, anchor_quality, test_rate, test_quality, unit: str) -> str:
    try:
        return f"{function(anchor_rate, anchor_quality, test_rate, test_quality):+.2f}{unit}"
    except ValueError:
        return "n/a"


def bd_table(curves: list[Curve], anchor: Curve) -> list[str]:
    """Rows: each curve; columns: BD-rate / BD-PSNR on PSNR, BD-rate on MS-SSIM (dB)."""
    lines = [f"BD against **{anchor.name}** (pchip on log-rate; negative BD-rate = fewer bits):", "",
             "| method | points | bpp range | BD-rate PSNR | BD-PSNR | BD-rate MS-SSIM |",
             "|---|---|---|---|---|---|"]
    for curve in curves:
        if curve.name == anchor.name:
            continue
        span = f"{min(curve.bpp):.3f}–{max(curve.bpp):.3f}" if curve.bpp else ""
        psnr_rate = _cell(bd_rate, anchor.bpp, anchor.psnr, curve.bpp, curve.psnr, "%")
        psnr_gain = _cell(bd_psnr, anchor.bpp, anchor.psnr, curve.bpp, curve.psnr, " dB")
        ssim_rate = _cell(bd_rate, anchor.bpp, anchor.ms_ssim_db, curve.bpp, curve.ms_ssim_db, "%")
        lines.append(f"| {curve.name} | {len(curve.bpp)} | {span} | {psnr_rate} | {psnr_gain} | {ssim_rate} |")
    return lines
