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
