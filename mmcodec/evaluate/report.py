"""Markdown table of BD-rate (and BD-PSNR) of every result against a chosen anchor."""
from __future__ import annotations

from collections.abc import Callable

from .bd_rate import bd_psnr, bd_rate, quality_at_equal_rate, rate_at_equal_quality
from .results import Curve


def comparison_cell(function: Callable[..., float], anchor_rate, anchor_quality, test_rate, test_quality, unit: str,
                    digits: int = 2, undefined: str = "n/a") -> str:
    """One table cell: ``function`` (a BD measure or a single-point comparison from ``bd_rate``) formatted
    with a sign, ``digits`` decimals and ``unit``; ``undefined`` where it raises ``ValueError`` (the curves
    do not overlap, or a curve is not monotonic)."""
    try:
        return f"{function(anchor_rate, anchor_quality, test_rate, test_quality):+.{digits}f}{unit}"
    except ValueError:
        return undefined


def _point_row(curve: Curve, anchor: Curve, i: int) -> str:
    """A single point: rate difference at equal PSNR and PSNR gain at equal rate (marked ¹)."""
    point = (curve.bpp[i], curve.psnr[i])
    psnr_cells = (comparison_cell(rate_at_equal_quality, anchor.bpp, anchor.psnr, *point, "% ¹") + " | "
                  + comparison_cell(quality_at_equal_rate, anchor.bpp, anchor.psnr, *point, " dB ¹"))
    try:
        ssim_cell = comparison_cell(rate_at_equal_quality, anchor.bpp, anchor.ms_ssim_db,
                                    curve.bpp[i], curve.ms_ssim_db[i], "% ¹")
    except IndexError:   # a curve without MS-SSIM
        ssim_cell = "n/a"
    return f"| {curve.name} (point {i + 1}) | 1 | {curve.bpp[i]:.3f} | {psnr_cells} | {ssim_cell} |"


def bd_table(curves: list[Curve], anchor: Curve) -> list[str]:
    """Rows: each curve; columns: BD-rate / BD-PSNR on PSNR, BD-rate on MS-SSIM (dB)."""
    lines = [f"BD against **{anchor.name}** (pchip on log-rate; negative BD-rate = fewer bits; ¹ a single "
             "point: rate difference at its PSNR and PSNR gain at its rate, against the interpolated anchor):", "",
             "| method | points | bpp range | BD-rate PSNR | BD-PSNR | BD-rate MS-SSIM |",
             "|---|---|---|---|---|---|"]
    for curve in curves:
        if curve.name == anchor.name:
            continue
        span = f"{min(curve.bpp):.3f}–{max(curve.bpp):.3f}" if curve.bpp else ""
        if len(curve.bpp) < 4:  # too few points for BD: compare each point with the anchor's curve
            lines += [_point_row(curve, anchor, i) for i in range(len(curve.bpp))]
            continue
        psnr_rate = comparison_cell(bd_rate, anchor.bpp, anchor.psnr, curve.bpp, curve.psnr, "%")
        psnr_gain = comparison_cell(bd_psnr, anchor.bpp, anchor.psnr, curve.bpp, curve.psnr, " dB")
        ssim_rate = comparison_cell(bd_rate, anchor.bpp, anchor.ms_ssim_db, curve.bpp, curve.ms_ssim_db, "%")
        lines.append(f"| {curve.name} | {len(curve.bpp)} | {span} | {psnr_rate} | {psnr_gain} | {ssim_rate} |")
    return lines
