"""mmcodec: learned multimodal compression (images, depth, RGB-D, IR, point clouds).

The heavy modules (torch) load on first use, so ``import mmcodec`` stays cheap.
"""
from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["compress", "decompress", "__version__"]


def compress(*args: Any, **kwargs: Any) -> bytes:
    """See :func:`mmcodec.api.compress`."""
    from .api import compress as _compress
    return _compress(*args, **kwargs)


def decompress(*args: Any, **kwargs: Any):
    """See :func:`mmcodec.api.decompress`."""
    from .api import decompress as _decompress
    return _decompress(*args, **kwargs)
