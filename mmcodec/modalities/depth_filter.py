"""A median post-filter for decoded depth, its window chosen by the encoder and sent in the file.

What a small learned depth codec gets most wrong is depth edges: two-thirds of the squared
error lies in errors over 100 mm (``docs/design.md``), the over- and undershoots that g_s leaves
beside a step and isolated outliers. A median over a k×k window removes both, while it keeps a
plane or a straight step exactly as it is (it does not sharpen a monotone ramp, which is a fixed
point of every median). The decoder runs it; the encoder, which has the true depth, decodes
its own latents, measures the squared error over the valid pixels for every window in
:data:`WINDOWS` (0 = no filter) and writes the best one into the file's ``codec_params``, so a
file is never worse for the filter than without it, and the choice costs a few header bytes.
Measured in ``docs/benchmarks/depth_median_filter.md``.

Holes (no measurement) take no part: they do not vote in their neighbours' medians and stay 0.
The median of an even number of valid neighbours is the lower of the two middle values, so the
output is always one of the decoded samples: the filter adds no rounding of its own, and it
commutes with the rounding to the file's unit that follows.

This is the classical decoder-side post-filter of depth coding (e.g. the median / weighted-mode
filters of depth-map compression for 3D video; Min, Lu and Do, IEEE TIP 21(3), 2012), used
here as an encoder-signalled option; it is not in the RGB-D thesis.
"""
from __future__ import annotations

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view

from ..evaluate.metrics import mse

WINDOWS = (0, 3, 5, 7)   # 0: no filter; 9 did worse than 5 (and than none) in a probe at λ = 128
_STRIP_ELEMENTS = 1 << 24   # window values held at once (64 MiB of float32), whatever the map's size


def median_filter_depth(mm: np.ndarray, valid: np.ndarray, window: int) -> np.ndarray:
    """``mm`` (H×W, float) with every valid sample replaced by the median of the valid samples
    in the ``window``×``window`` square around it; holes and ``window`` 0 leave samples as they are."""
    if window not in WINDOWS:
        raise ValueError(f"median window must be one of {WINDOWS}, not {window}")
    mm = np.asarray(mm, dtype=np.float32)
    if window == 0 or not valid.any():
        return mm.copy()
    radius, middle = window // 2, window * window // 2
    height, width = mm.shape
    padded = np.pad(np.where(valid, mm, np.nan).astype(np.float32), radius, constant_values=np.nan)
    rows = max(1, _STRIP_ELEMENTS // (width * window * window))
    out = np.empty_like(mm)
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        strip = padded[top:bottom + 2 * radius]
        patches = sliding_window_view(strip, (window, window)).reshape(bottom - top, width, -1)
        whole = ~np.isnan(patches).any(axis=-1)   # most windows: every sample valid, a fixed middle
        medians = np.empty((bottom - top, width), dtype=np.float32)
        medians[whole] = np.partition(patches[whole], middle, axis=-1)[:, middle]
        if not whole.all():   # windows with holes (or the border): the lower middle of the valid ones
            medians[~whole] = torch.nanmedian(torch.from_numpy(patches[~whole]), dim=-1).values.numpy()
        out[top:bottom] = medians
    return np.where(valid, out, mm)


def choose_median_window(reference_mm: np.ndarray, decoded_mm: np.ndarray, valid: np.ndarray) -> int:
    """The window of :data:`WINDOWS` whose filtered output is closest to ``reference_mm`` over the
    valid samples (squared error, as PSNR; the smaller window on a tie, 0 when none helps)."""
    errors = {w: mse(reference_mm[valid], median_filter_depth(decoded_mm, valid, w)[valid]) for w in WINDOWS}
    return min(WINDOWS, key=lambda w: (errors[w], w))
