"""Mode decision for the depth of a joint RGB-D file: coded given the decoded colour, or alone.

The RGB-conditioned depth codec (:mod:`mmcodec.codecs.conditional_depth`) saves bits on the
frames whose colour edges are depth edges and costs bits on the frames whose colour edges are
texture (``docs/benchmarks/colour_guided_median.md``). So the encoder of a joint file codes the
depth both ways, with the conditioned model and with its depth-only twin (the same network,
λ and distortion, without the colour), decodes both exactly as the decoder will (median
post-filter and rounding to the unit included), and keeps the one of lower rate–distortion
cost

    J = R + λ · 255² · MSE,

the objective both models were trained on (arXiv 1802.01436, eq. 2, with CompressAI's 255²
scale: :func:`mmcodec.train.losses.rate_distortion_loss`): R the bits per pixel of the depth
streams, MSE over the valid pixels of the depth scaled to [0, 1] by the 16-bit peak (holes
travel exactly in their own stream and cost the same both ways). This is the Lagrangian mode
decision of classical video coders (Sullivan and Wiegand, IEEE Signal Processing Magazine 15(6),
1998) applied to the whole depth stream: the file's header says which model coded the depth, so
the decoder needs no other signal, and a frame the colour does not help costs what it costs alone.
It is not in the RGB-D thesis; decoder-side fusion that is always on (Chen et al., ICIP 2022)
has no such fallback.
"""
from __future__ import annotations

import numpy as np

from .modalities.depth import DepthMap, to_millimetres
from .train.losses import MSE_DISTORTION_SCALE
from .zoo import ZooEntry, list_models

DEPTH_CODINGS = ("auto", "conditioned", "alone")   # auto: the cheaper of the other two, per file
PEAK_MM = 65535.0
_CONTEXT_KEYS = ("context_channels", "prior_residual")   # the config entries only the conditioned model has


def depth_rd_cost(depth_stream_bytes: int, decoded: np.ndarray, depth: DepthMap, lmbda: float) -> float:
    """J = R + λ·255²·MSE of one coded depth map: ``depth_stream_bytes`` its depth streams,
    ``decoded`` the decoder's output (uint16 in ``depth``'s unit), MSE over ``depth``'s valid pixels
    in millimetres over the 16-bit peak."""
    if decoded.shape != depth.pixels.shape:
        raise ValueError(f"decoded depth {decoded.shape} and the original {depth.pixels.shape} differ in shape")
    rate = 8.0 * depth_stream_bytes / (depth.height * depth.width)
    error = (to_millimetres(decoded, depth.unit) - depth.millimetres())[depth.valid] / PEAK_MM
    mse = float(np.mean(np.square(error, dtype=np.float64))) if error.size else 0.0
    return rate + lmbda * MSE_DISTORTION_SCALE * mse


def _network(entry: ZooEntry) -> dict:
    return {k: v for k, v in entry.config.items() if k not in _CONTEXT_KEYS}


def depth_alone_twin(conditioned: ZooEntry, architecture: str = "depth-mean-scale") -> ZooEntry | None:
    """The shipped depth-only model (``architecture``) with the network, λ and distortion of the
    RGB-conditioned ``conditioned`` less its colour context; None when none is shipped."""
    return next((e for e in list_models() if e.architecture == architecture and e.context_model is None
                 and e.lmbda == conditioned.lmbda and e.metric == conditioned.metric
                 and _network(e) == _network(conditioned)), None)
