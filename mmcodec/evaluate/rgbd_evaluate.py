"""Measuring depth models on held-out RGB-D frames with real files (depth-only and joint RGB-D).

Test frames (:func:`rgbd_test_frames`): the last 10% of RGB-D-D (by timestamp) and of 7-Scenes
red kitchen (by frame number), which the training configs hold out with ``test_fraction: 0.1``,
the ICL-NUIM living-room frames and the three ``samples`` pairs (TUM, SUN RGB-D, NYU: each in its
own unit), never trained on. Metrics are in millimetres (NYU's raw Kinect values counted as such).

For a depth-only model each frame becomes one :func:`compress_depth` file; for an
RGB-conditioned model one joint :func:`compress_rgbd` file, whose *depth bits* are the joint
file minus the colour-only file of the same frame by the same RGB model (the colour streams
are byte-identical in both). Quality over valid pixels only (holes excluded, and checked to
come back exactly): :func:`mmcodec.evaluate.depth_metrics.depth_metrics`.
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..codecs.refinement import REFINEMENT_SCHEDULE, refined_name
from ..container import read_mmc
from ..depth_mode import depth_alone_twin
from ..modalities.depth import read_depth, to_millimetres
from ..modalities.image import read_image
from ..modalities.rgbd_pairs import RgbdPair, find_rgbd_pairs, split_by_frames
from ..zoo import ZooEntry, find_entry
from .depth_metrics import depth_metrics

TEST_FRACTION = 0.1
HELD_OUT_SEQUENCES = ("rgbdd", "redkitchen")   # trained on, except their last 10%
TEST_ONLY_SEQUENCES = ("icl-nuim-livingroom",)
METRICS = ("psnr", "rmse_mm", "mae_mm", "flying_pixels_percent", "comprehensive_similarity_db")


def rgbd_test_frames(root: Path, limit: int | None = None) -> list[RgbdPair]:
    """The held-out frames under ``root`` (``../shared/datasets/rgbd``); ``limit`` spreads a
    subset over them."""
    frames: list[RgbdPair] = []
    for name in HELD_OUT_SEQUENCES:
        frames += split_by_frames(find_rgbd_pairs(Path(root) / name, "mm"), TEST_FRACTION)[1]
    for name in TEST_ONLY_SEQUENCES:
        frames += find_rgbd_pairs(Path(root) / name, "mm")
    frames += find_rgbd_pairs(Path(root) / "samples", "auto")   # TUM, SUN RGB-D and NYU units
    if limit:
        frames = frames[:: max(1, len(frames) // limit)][:limit]
    return frames


@lru_cache(maxsize=None)
def colour_file_bytes(color_path: Path, rgb_model: str) -> int:
    """Size of the colour-only file of one frame by one RGB model: what a joint file of that
    frame holds besides its depth. Every conditioned model of one RGB model (one per λ, refined
    or not) subtracts the same size, so each frame's colour is coded once per process."""
    import mmcodec

    return len(mmcodec.compress(read_image(color_path, channels=3), model=rgb_model))


def with_progress(frames: list[RgbdPair], name: str, progress: bool) -> Iterable[RgbdPair]:
    """``frames``, with a progress bar on stderr when ``progress``."""
    if not progress:
        return frames
    from tqdm import tqdm
    return tqdm(frames, desc=name, unit="frame")


def _mean(rows: list[dict], key: str) -> float:
    return float(np.mean([r[key] for r in rows]))


def coded_name(name: str, refine_steps: int, depth_coding: str = "conditioned") -> str:
    """How results are named: ``<name>``, with ``+<depth_coding>`` for joint files whose depth was not
    simply coded by the conditioned model (``+auto``: the encoder chose per frame), then
    ``+refine<N>`` with ``N`` refinement steps."""
    return refined_name(name + ("" if depth_coding == "conditioned" else f"+{depth_coding}"), refine_steps)


def evaluate_depth_model(entry: ZooEntry, frames: list[RgbdPair], outside_mean: tuple[str, ...] = ("samples",),
                         refine_steps: int = 0, progress: bool = False, median_filter: bool = True,
                         depth_coding: str = "conditioned") -> dict:
    """Per-frame and mean depth bpp, quality and times of one depth model (a zoo entry); with
    ``refine_steps`` the encoder refines each frame's depth latents first (the result is named
    ``<model>+refine<N>``, its architecture ``<architecture>+refine<N>``). ``median_filter`` is
    passed to the encoder (the decoder's median post-filter, :mod:`mmcodec.modalities.depth_filter`);
    each frame records the window its file chose. ``depth_coding`` is the joint files'
    (:func:`compress_rgbd`; by default the conditioned model itself): with "auto" the encoder
    codes each frame's depth also with the model's depth-only twin and keeps the cheaper
    (:mod:`mmcodec.depth_mode`; the result is named ``<model>+auto``), and each frame records
    which it kept.

    Frames of the sequences in ``outside_mean`` are measured but left out of the mean: the
    ``samples`` pairs are single frames in other units (NYU's raw values are not even metric)
    and show how units are handled rather than typical quality."""
    import mmcodec

    from ..depth_api import compress_depth, compress_rgbd

    conditional = entry.context_model is not None
    coding = depth_coding if conditional else "conditioned"   # a depth-only model's files have one coding
    name = coded_name(entry.model_id, refine_steps, coding)
    rows = []
    for pair in with_progress(frames, name, progress):
        depth = read_depth(pair.depth, pair.unit)
        pixels = depth.height * depth.width
        start = time.perf_counter()
        if conditional:
            color = read_image(pair.color, channels=3)
            # refine_colour=False: the colour-only file's streams, so the depth bits are the rest
            data = compress_rgbd(color, depth, depth.unit, model=str(entry.path), refine_steps=refine_steps,
                                 refine_colour=False, median_filter=median_filter, depth_coding=depth_coding)
            encoding = time.perf_counter() - start
            color_bytes = colour_file_bytes(Path(pair.color), entry.context_model)
        else:
            data = compress_depth(depth, depth.unit, model=str(entry.path), refine_steps=refine_steps,
                                  median_filter=median_filter)
            encoding = time.perf_counter() - start
            color_bytes = 0
        mmc = read_mmc(data)
        start = time.perf_counter()   # a depth coded alone names its (shipped) depth-only model
        decoded = mmcodec.decompress(data, model=str(entry.path) if mmc.model_id == entry.model_id else None)["depth"]
        decoding = time.perf_counter() - start
        metrics = depth_metrics(depth.millimetres(), to_millimetres(decoded, depth.unit))
        holes = sum(len(b) for s, b in mmc.streams if s.name == "depth/holes")
        rows.append({"frame": f"{pair.sequence}/{pair.name}", "bytes": len(data), "holes_bpp": 8 * holes / pixels,
                     "depth_bpp": 8 * (len(data) - color_bytes) / pixels, "color_bpp": 8 * color_bytes / pixels,
                     "encoding_time": encoding, "decoding_time": decoding,
                     "median_window": mmc.codec_params.get("depth_median_window", 0),
                     "model_version": mmc.model_version,
                     "depth_conditioned": mmc.codec_params.get("depth_conditioned", conditional),
                     "holes_kept": metrics["holes_kept"], **{k: metrics[k] for k in METRICS}})
    counted = [r for r in rows if r["frame"].split("/")[0] not in outside_mean] or rows
    summary = {k: _mean(counted, k) for k in ("depth_bpp", "holes_bpp", "color_bpp", "encoding_time", "decoding_time",
                                              *METRICS)}
    summary["holes_kept"] = all(r["holes_kept"] for r in rows)   # every frame, the samples included
    summary["frames"] = len(counted)
    summary["model_versions"] = sorted({r["model_version"] for r in rows})   # of the files (mmcodec.api.MODEL_VERSIONS)
    context_digest = find_entry(entry.context_model).digest if conditional else None
    twin = depth_alone_twin(entry) if coding != "conditioned" else None
    return {"model": name, "digest": entry.digest, "context_digest": context_digest,
            "architecture": coded_name(entry.architecture, refine_steps, coding),
            "lambda": entry.lmbda, "refine_steps": refine_steps, "median_filter": median_filter,
            "refinement": REFINEMENT_SCHEDULE if refine_steps else None,
            "conditional": conditional, "context_model": entry.context_model,
            "depth_coding": depth_coding if conditional else None, "alone_digest": twin.digest if twin else None,
            "mean": summary, "frames": rows}
