"""Measuring the RGB-D thesis's six codecs on held-out frames with real files (its Tables 8–13).

Thesis ../shared/papers/multimodal-lic-tcm-rgbd-thesis.txt, sec. 4 (Tables 8–13): per architecture
and λ, the mean PSNR, MS-SSIM in dB (RGB target) or comprehensive similarity in dB (depth target,
eq. 24) and bit rate on the evaluation frames. Each architecture takes the input its training run
took (:func:`mmcodec.train.rgbd_data.frame_tensor`: target channels first, then the context) and
reconstructs the target alone; its decoder needs the streams only (all fusion is encoder-side).

Every frame becomes one real .mmc file: the codec's entropy-coded streams (and, for a depth target,
the lossless hole mask of :mod:`mmcodec.modalities.hole_mask`, as a depth file of
:mod:`mmcodec.depth_api` carries it, so that holes come back exactly), written by
:func:`mmcodec.container.write_mmc`, read back and decoded; bpp is the file's size. Depth quality
is over valid pixels only (:func:`mmcodec.evaluate.depth_metrics.depth_metrics`, PSNR peak 65535
as the thesis), colour quality over the whole 8-bit image. The frames are those of
:func:`mmcodec.evaluate.rgbd_evaluate.rgbd_test_frames`; the ``samples`` pairs are measured but
left out of the means, as there.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from ..api import coded_latents, coded_streams, to_pixels
from ..codecs import LearnedCodec
from ..container import MmcFile, ModalityInfo, StreamInfo, read_mmc, write_mmc
from ..depth_api import depth_pixels
from ..errors import DecodeMismatchError, ModelError
from ..modalities.depth import read_depth, to_millimetres
from ..modalities.hole_mask import decode_hole_mask, encode_hole_mask
from ..modalities.image import read_image
from ..modalities.rgbd_pairs import RgbdPair
from ..train.rgbd_data import frame_tensor
from ..zoo import ZooEntry, load_model
from .depth_metrics import depth_metrics
from .metrics import ms_ssim, ms_ssim_db, psnr


@dataclass(frozen=True)
class ThesisTable:
    """One of the thesis's result tables: which architecture, coding which target from what."""

    number: int
    title: str
    architecture: str
    target: str        # "rgb" | "depth": what the decoder reconstructs
    context: str       # what else the encoder sees: "none" | "rgb" | "depth"


THESIS_TABLES = (
    ThesisTable(8, "Baseline - RGB", "tcm", "rgb", "none"),
    ThesisTable(9, "Fusion - 4C LIC-TCM (RGB target)", "tcm-4c", "rgb", "depth"),
    ThesisTable(10, "Fusion - Attention MM-LIC-TCM", "mm-tcm-attention", "rgb", "depth"),
    ThesisTable(11, "Baseline - Depth", "tcm", "depth", "none"),
    ThesisTable(12, "Fusion - 4C LIC-TCM (Depth target)", "tcm-4c", "depth", "rgb"),
    ThesisTable(13, "Fusion - Convolutional MM-LIC-TCM", "mm-tcm-conv", "depth", "rgb"),
)
RGB_METRICS = ("psnr", "ms_ssim_db")
DEPTH_METRICS = ("psnr", "comprehensive_similarity_db", "rmse_mm", "mae_mm", "flying_pixels_percent")


def thesis_table_of(entry: ZooEntry) -> ThesisTable:
    """The table an exported model belongs to (by architecture and target); ModelError otherwise."""
    target = entry.config.get("target")
    if entry.architecture == "tcm":
        target = "depth" if entry.config.get("in_channels") == 1 else "rgb"
    for table in THESIS_TABLES:
        if table.architecture == entry.architecture and (target is None or table.target == target):
            return table
    raise ModelError(f"'{entry.model_id}' ({entry.architecture}) is not one of the RGB-D thesis's architectures "
                     f"({', '.join(sorted({t.architecture for t in THESIS_TABLES}))})")


def _target_info(table: ThesisTable, pair: RgbdPair, height: int, width: int, padded: torch.Tensor) -> ModalityInfo:
    padding = (int(padded.shape[-2]), int(padded.shape[-1]))
    if table.target == "rgb":
        return ModalityInfo("image", "image", height, width, 3, "uint8", 8, None, *padding)
    return ModalityInfo("depth", "depth", height, width, 1, "uint16", 16, pair.unit, *padding)


def encode_frame(entry: ZooEntry, codec: LearnedCodec, table: ThesisTable, pair: RgbdPair) -> bytes:
    """One frame → .mmc bytes: the target coded by ``codec`` from the target and its context."""
    frame = torch.from_numpy(frame_tensor(pair, table.target, table.context))[None]
    height, width = frame.shape[-2:]
    padded = codec.pad(frame)
    with torch.no_grad():
        coded = codec.compress(padded)
    info = _target_info(table, pair, height, width, padded)
    streams = coded_streams(coded, info.name)
    if table.target == "depth":
        valid = read_depth(pair.depth, pair.unit).valid
        streams.append((StreamInfo("depth/holes", "depth"), encode_hole_mask(valid)))
    params = {"architecture": entry.architecture, "thesis_table": table.number}
    return write_mmc(MmcFile(entry.model_id, 1, entry.digest, [info], streams, coded.digest, params))


def decode_frame(codec: LearnedCodec, data: bytes) -> np.ndarray:
    """.mmc bytes of :func:`encode_frame` → the decoded target: H×W×3 uint8 or H×W uint16 depth."""
    mmc = read_mmc(data)
    info = mmc.modalities[0]
    holes = [b for s, b in mmc.streams if s.name == f"{info.name}/holes"]
    coded = coded_latents([(s, b) for s, b in mmc.streams if s.name != f"{info.name}/holes"], info.name)
    with torch.no_grad():
        x_hat, digest = codec.decompress(coded)
    if digest != mmc.latent_digest:
        raise DecodeMismatchError("decoded latents differ from the encoder's (digest mismatch)")
    if info.kind == "depth":
        return depth_pixels(x_hat, info, decode_hole_mask(holes[0], info.height, info.width) if holes else None)
    return to_pixels(x_hat, info)


def _frame_quality(table: ThesisTable, pair: RgbdPair, decoded: np.ndarray) -> dict:
    if table.target == "rgb":
        reference = read_image(pair.color, channels=3).pixels
        return {"psnr": psnr(reference, decoded), "ms_ssim_db": ms_ssim_db(ms_ssim(reference, decoded))}
    depth = read_depth(pair.depth, pair.unit)
    metrics = depth_metrics(depth.millimetres(), to_millimetres(decoded, depth.unit))
    return {"holes_kept": metrics["holes_kept"], **{k: metrics[k] for k in DEPTH_METRICS}}


def evaluate_thesis_model(entry: ZooEntry, frames: list[RgbdPair], outside_mean: tuple[str, ...] = ("samples",),
                          rate: float | None = None) -> dict:
    """Per-frame and mean bpp (real files), quality and coding times of one thesis model; a
    variable-rate model (``mm-tcm-attention`` trained with ``variable_rate``) codes at trade-off
    ``rate`` (its λ map, :meth:`TCMAttentionFusionCodec.set_rate`), named ``<model>@<rate>``."""
    table = thesis_table_of(entry)
    codec = load_model(entry)
    if rate is not None:
        if not getattr(codec, "variable_rate", False):
            raise ModelError(f"'{entry.model_id}' ({entry.architecture}) has no rate input; code it at its own λ")
        codec.set_rate(rate)
    rows = []
    for pair in frames:
        start = time.perf_counter()
        data = encode_frame(entry, codec, table, pair)
        encoding = time.perf_counter() - start
        start = time.perf_counter()
        decoded = decode_frame(codec, data)
        decoding = time.perf_counter() - start
        height, width = decoded.shape[:2]
        rows.append({"frame": f"{pair.sequence}/{pair.name}", "bytes": len(data),
                     "bpp": 8 * len(data) / (height * width), "encoding_time": encoding, "decoding_time": decoding,
                     **_frame_quality(table, pair, decoded)})
    counted = [r for r in rows if r["frame"].split("/")[0] not in outside_mean] or rows
    keys = ("bpp", "encoding_time", "decoding_time", *(RGB_METRICS if table.target == "rgb" else DEPTH_METRICS))
    summary: dict = {k: float(np.mean([r[k] for r in counted])) for k in keys}
    if table.target == "depth":
        summary["holes_kept"] = all(r["holes_kept"] for r in rows)
    summary["frames"] = len(counted)
    fixed = rate is None
    return {"model": entry.model_id if fixed else f"{entry.model_id}@{rate:g}", "architecture": entry.architecture,
            "table": table.number, "target": table.target, "lambda": entry.lmbda if fixed else rate,
            "metric": entry.metric, "config": entry.config, "mean": summary, "frames": rows}
