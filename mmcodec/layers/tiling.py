"""Row-band evaluation of convolutional transforms, so that large images fit in memory.

A fully convolutional transform is applied to horizontal bands of its input with a halo of
extra rows above and below (at least the receptive field), and only the band's own rows of the
output are kept. The result equals the whole-image evaluation up to float rounding, and the
peak memory is that of one band instead of the whole image. Small inputs are one band.
"""
from __future__ import annotations

from typing import Callable

import torch


def apply_in_bands(transform: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, factor: float,
                   band_rows: int, halo_rows: int, align: int) -> torch.Tensor:
    """Apply ``transform`` (output height = input height × ``factor``) band by band.

    ``band_rows`` and ``halo_rows`` are input rows and multiples of ``align`` (the stride
    product for a downsampling transform, 1 for an upsampling one). The last band keeps every
    output row from its start to the end: at the bottom of the input the transform's own
    padding applies, so an output that is not exactly height × ``factor`` rows (an odd height
    under a stride, an unpadded or output-padded convolution) comes out as the whole one does.
    """
    assert band_rows % align == 0 and halo_rows % align == 0
    height = x.shape[-2]
    if height <= band_rows + 2 * halo_rows:
        return transform(x)
    pieces = []
    for top in range(0, height, band_rows):
        bottom = min(height, top + band_rows)
        lo, hi = max(0, top - halo_rows), min(height, bottom + halo_rows)
        out = transform(x[..., lo:hi, :])
        start = round((top - lo) * factor)
        stop = None if bottom == height else start + round((bottom - top) * factor)
        pieces.append(out[..., start:stop, :])
        del out
    return torch.cat(pieces, dim=-2)
