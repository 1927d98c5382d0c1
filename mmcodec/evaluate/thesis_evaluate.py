"""Measuring the RGB-D thesis's six codecs on held-out frames with real files (its Tables 8–13).

Thesis ../shared/papers/multimodal-lic-tcm-rgbd-thesis.txt, sec. 4 (Tables 8–13): per architecture
and λ, the mean PSNR, MS-SSIM in dB (RGB target) or comprehensive similarity in dB (depth target,
eq. 24) and bit rate on the evaluation frames. Every frame becomes one real .mmc file
of :mod:`mmcodec.thesis_api` (the target's entropy-coded streams, and for a depth target the
lossless hole mask), as ``mmcodec compress COLOR --depth DEPTH --model M`` writes it, and is read
back and decoded from the file alone; bpp is the file's size. Depth quality
is over valid pixels only (:func:`mmcodec.evaluate.depth_metrics.depth_metrics`, PSNR peak 65535
as the thesis), colour quality over the whole 8-bit image. The frames are those of
:func:`mmcodec.evaluate.rgbd_evaluate.rgbd_test_frames`; the ``samples`` pairs are measured but
left out of the means, as there.
"""
from __future__ import annotations

import time

import numpy as np

from ..codecs import LearnedCodec
from ..codecs.refinement import refined_name
from ..container import read_header, read_mmc
from ..errors import ModelError
from ..modalities.depth import read_depth, to_millimetres
from ..modalities.image import read_image
from ..modalities.rgbd_pairs import RgbdPair
from ..thesis_api import ThesisTable, decode_thesis, encode_thesis, thesis_table_of
from ..zoo import ZooEntry, load_model
from .depth_metrics import depth_metrics
from .metrics import ms_ssim, ms_ssim_db, psnr
from .rgbd_evaluate import with_progress

RGB_METRICS = ("psnr", "ms_ssim_db")
MS_SSIM_MIN_SIDE = 161   # five scales of an 11-pixel window: smaller frames get no MS-SSIM
DEPTH_METRICS = ("psnr", "comprehensive_similarity_db", "rmse_mm", "mae_mm", "flying_pixels_percent")


def encode_frame(entry: ZooEntry, codec: LearnedCodec, pair: RgbdPair, refine_steps: int = 0) -> bytes:
    """One frame → .mmc bytes (:func:`mmcodec.thesis_api.encode_thesis`, from the pair's files;
    the latents refined ``refine_steps`` steps first if > 0)."""
    table = thesis_table_of(entry)
    uses = {table.target, table.context}
    color = read_image(pair.color, channels=3) if "rgb" in uses else None
    depth = read_depth(pair.depth, pair.unit) if "depth" in uses else None
    return encode_thesis(entry, codec, color, depth, refine_steps=refine_steps)


def decode_frame(codec: LearnedCodec, data: bytes) -> np.ndarray:
    """.mmc bytes of :func:`encode_frame` → the decoded target: H×W×3 uint8 or H×W uint16 depth."""
    (decoded,) = decode_thesis(codec, read_mmc(data)).values()
    return decoded


def _frame_quality(table: ThesisTable, pair: RgbdPair, decoded: np.ndarray) -> dict:
    if table.target == "rgb":
        reference = read_image(pair.color, channels=3).pixels
        quality = {"psnr": psnr(reference, decoded)}
        if min(reference.shape[:2]) >= MS_SSIM_MIN_SIDE:
            quality["ms_ssim_db"] = ms_ssim_db(ms_ssim(reference, decoded))
        return quality
    depth = read_depth(pair.depth, pair.unit)
    metrics = depth_metrics(depth.millimetres(), to_millimetres(decoded, depth.unit))
    return {"holes_kept": metrics["holes_kept"], **{k: metrics[k] for k in DEPTH_METRICS}}


def evaluate_thesis_model(entry: ZooEntry, frames: list[RgbdPair], outside_mean: tuple[str, ...] = ("samples",),
                          rate: float | None = None, refine_steps: int = 0, progress: bool = False) -> dict:
    """Per-frame and mean bpp (real files), quality and coding times of one thesis model; a
    variable-rate model (``mm-tcm-attention`` trained with ``variable_rate``) codes at trade-off
    ``rate`` (its λ map, :meth:`TCMAttentionFusionCodec.set_rate`), named ``<model>@<rate>``. With
    ``refine_steps`` the encoder refines each frame's latents first (named ``…+refine<N>``)."""
    table = thesis_table_of(entry)
    codec = load_model(entry)
    if rate is not None:
        if not getattr(codec, "variable_rate", False):
            raise ModelError(f"'{entry.model_id}' ({entry.architecture}) has no rate input; code it at its own λ")
        codec.set_rate(rate)
    fixed = rate is None
    name = refined_name(entry.model_id if fixed else f"{entry.model_id}@{rate:g}", refine_steps)
    rows = []
    for pair in with_progress(frames, name, progress):
        start = time.perf_counter()
        data = encode_frame(entry, codec, pair, refine_steps)
        encoding = time.perf_counter() - start
        start = time.perf_counter()
        decoded = decode_frame(codec, data)
        decoding = time.perf_counter() - start
        height, width = decoded.shape[:2]
        rows.append({"frame": f"{pair.sequence}/{pair.name}", "bytes": len(data),
                     "bpp": 8 * len(data) / (height * width), "encoding_time": encoding, "decoding_time": decoding,
                     "model_version": read_header(data).model_version, **_frame_quality(table, pair, decoded)})
    counted = [r for r in rows if r["frame"].split("/")[0] not in outside_mean] or rows
    keys = ("bpp", "encoding_time", "decoding_time", *(RGB_METRICS if table.target == "rgb" else DEPTH_METRICS))
    summary: dict = {k: float(np.mean([r[k] for r in counted if k in r])) for k in keys
                     if any(k in r for r in counted)}
    if table.target == "depth":
        summary["holes_kept"] = all(r["holes_kept"] for r in rows)
    summary["frames"] = len(counted)
    summary["model_versions"] = sorted({r["model_version"] for r in rows})   # of the files (api.MODEL_VERSIONS)
    return {"model": name, "architecture": entry.architecture, "refine_steps": refine_steps,
            "table": table.number, "target": table.target, "lambda": entry.lmbda if fixed else rate,
            "metric": entry.metric, "config": entry.config, "mean": summary, "frames": rows}
