"""Shared piece of the determinism tests: one computation under every thread count and CPU kernel."""
import warnings
from collections.abc import Callable

import torch


def on_every_thread_count_and_kernel(compute: Callable[[], torch.Tensor], counts: tuple[int, ...] = (1, 2, 3)
                                     ) -> list[torch.Tensor]:
    """``compute()`` with 1, 2 and 3 threads, each with torch's native kernels and with oneDNN."""
    threads = torch.get_num_threads()
    results = []
    try:
        for count in counts:
            torch.set_num_threads(count)
            for onednn in (False, True):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)   # torch's note on TF32 for Intel GPUs
                    with torch.backends.mkldnn.flags(enabled=onednn):
                        results.append(compute())
    finally:
        torch.set_num_threads(threads)
    return results
