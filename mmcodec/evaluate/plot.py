"""RD plots: PSNR and MS-SSIM (dB) against bpp for any set of result JSONs, to PNG."""
from __future__ import annotations

from pathlib import Path

from .results import Curve


def plot_curves(curves: list[Curve], output: Path, title: str = "Kodak") -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("PSNR-RGB [dB]", "psnr"), ("MS-SSIM-RGB [dB]", "ms_ssim_db")]
    panels = [p for p in panels if any(len(getattr(c, p[1])) == len(c.bpp) for c in curves)]
    figure, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 5), squeeze=False)
    for axis, (label, field) in zip(axes[0], panels):
        for curve in curves:
            values = getattr(curve, field)
            if len(values) == len(curve.bpp) and values:
                style = "-o" if len(values) > 1 else "o"
                axis.plot(curve.bpp, values, style, markersize=3, label=curve.name)
        axis.set_xlabel("bits per pixel")
        axis.set_ylabel(label)
        axis.set_title(f"{title}: {label.split(' ')[0]}")
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=7)
    figure.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(output, dpi=120)
    plt.close(figure)
    return output
