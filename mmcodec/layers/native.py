"""Switch from oneDNN (mkldnn) to torch's native CPU kernels for a block of code.

oneDNN splits some reductions by thread count, so a few layers (GDN's 1×1 convolution) gave
results that differed in the last bits between 1 and 2 threads, and decoded pixels by ±1.
The native kernels gave identical results for every thread count we tried on an AMD EPYC, but
not on an Intel Xeon: there (torch 2.13.0+cpu) the native convolutions of the per-slice parameter
networks, with 8 and 28 output channels, gave different last bits with 1 and 2 threads. So the
networks whose outputs set the entropy coder's probabilities (hyper-synthesis, slice parameters,
a conditioned codec's context features) run inside :func:`exact_kernels`, on native kernels and
one thread; the synthesis transform, which only shapes the pixels, stays on all threads.
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


@contextlib.contextmanager
def exact_kernels() -> Iterator[None]:
    """Native kernels on one thread: results that do not depend on the thread count, for every
    network whose output the decoder must reproduce bit for bit (the entropy parameters).

    The thread count is process-wide in torch, so it is restored on leaving; code that decodes
    in several Python threads at once sees one thread inside these blocks.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with native_kernels():
            yield
    finally:
        torch.set_num_threads(threads)


class NativeConv2d(torch.nn.Conv2d):
    """A convolution that always runs on native kernels (used for 1×1 convolutions).

    Measured: oneDNN's 1×1 convolution gave different last bits with 1 and 2 threads (as in
    GDN), while its 3×3 convolutions did not; the native 1×1 kernel is also the faster one.
    Parameters and state-dict names are those of :class:`torch.nn.Conv2d`.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with native_kernels():
            return super().forward(x)
