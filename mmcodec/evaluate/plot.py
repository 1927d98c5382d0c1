"""RD plots: PSNR and MS-SSIM (dB) against bpp for any set of result JSONs, to PNG."""
from __future__ import annotations

from pathlib import Path

from ..atomic_files import atomic_write
from .results import Curve

OUR_COLOURS = ("black", "#1f3a93", "#8b1a1a", "#1e6b30", "#6a1b9a", "#8a5a00")


def plot_curves(curves: list[Curve], output: Path, title: str = "Kodak") -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("PSNR-RGB [dB]", "psnr"), ("MS-SSIM-RGB [dB]", "ms_ssim_db")]
    panels = [p for p in panels if any(len(getattr(c, p[1])) == len(c.bpp) for c in curves)]
    figure, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 5), squeeze=False)
    for axis, (label, field) in zip(axes[0], panels):
        colours = plt.cm.tab20.colors
        ours_seen = 0
        for index, curve in enumerate(curves):
            values = getattr(curve, field)
            if len(values) == len(curve.bpp) and values:
                ours = curve.name.startswith("mmcodec")  # our models stand out: stars in dark colours
                colour = OUR_COLOURS[ours_seen % len(OUR_COLOURS)] if ours else colours[index % 20]
                ours_seen += ours
                axis.plot(curve.bpp, values, "-*" if ours else "-o", color=colour, markersize=9 if ours else 3,
                          linewidth=2 if ours else 1, label=curve.name, zorder=3 if ours else 2)
        axis.set_xlabel("bits per pixel")
        axis.set_ylabel(label)
        axis.set_title(f"{title}: {label.split(' ')[0]}")
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=7)
    figure.tight_layout()
    try:
        atomic_write(output, lambda tmp: figure.savefig(tmp, dpi=120, format="png"))
    finally:
        plt.close(figure)
    return output
