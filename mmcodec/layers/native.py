"""Switch from oneDNN (mkldnn) to torch's native CPU kernels for a block of code.

oneDNN splits some reductions by thread count, so a few layers (GDN's 1×1 convolution) gave
results that differed in the last bits between 1 and 2 threads, and decoded pixels by ±1.
The native kernels gave identical results for every thread count we tried. Everything whose
output a decoder must reproduce bit for bit runs inside :func:`native_kernels`.
"""
from __future__ import annotations

import contextlib
import warnings
from typing import Iterator

import torch


@contextlib.contextmanager
def native_kernels() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch warns about TF32 on Intel GPUs here
        with torch.backends.mkldnn.flags(enabled=False):
            yield


class NativeConv2d(torch.nn.Conv2d):
    """A convolution that always runs on native kernels (used for 1×1 convolutions).

    Measured: oneDNN's 1×1 convolution gave different last bits with 1 and 2 threads (as in
    GDN), while its 3×3 convolutions did not; the native 1×1 kernel is also the faster one.
    Parameters and state-dict names are those of :class:`torch.nn.Conv2d`.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with native_kernels():
            return super().forward(x)
