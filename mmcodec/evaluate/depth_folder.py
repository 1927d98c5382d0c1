"""``mmcodec eval`` of a depth or RGB-D model on any folder of frames: real files, depth metrics.

The model decides what the folder must hold. A depth-only codec (``depth-mean-scale``, the RGB-D
thesis's depth baseline) needs depth maps alone (:func:`find_depth_frames`); a codec that reads
the colour (``rgb-conditional-depth``, the thesis's fusion models) needs colour + depth pairs
(:func:`find_rgbd_pairs`, the usual RGB-D layouts). Every frame is coded to a real file as
``mmcodec compress`` writes it and decoded from it: a joint RGB-D file for a conditioned model
(its depth bits: joint file − colour-only file), the thesis's file for its models
(:mod:`mmcodec.thesis_api`). Depth quality is over valid pixels, in millimetres
(:func:`mmcodec.evaluate.depth_metrics.depth_metrics`; PSNR peak 65535 mm and the comprehensive
similarity of eq. 24 as in the RGB-D thesis, ``../shared/papers/multimodal-lic-tcm-rgbd-thesis.txt``);
colour quality (a thesis model with an RGB target) over the whole image. Every frame counts in the
means.
"""
from __future__ import annotations

from pathlib import Path

from ..modalities.rgbd_pairs import RgbdPair, find_depth_frames, find_rgbd_pairs
from ..thesis_api import needs_thesis_files, thesis_table_of
from ..zoo import ZooEntry


def reads_colour(entry: ZooEntry) -> bool:
    """Whether coding with this depth or thesis model needs each frame's colour image."""
    if needs_thesis_files(entry):
        table = thesis_table_of(entry)
        return "rgb" in (table.target, table.context)
    return entry.context_model is not None


def evaluation_frames(entry: ZooEntry, folder: Path, unit: str = "auto") -> list[RgbdPair]:
    """The frames of ``folder`` this model is measured on: colour + depth pairs if it reads the
    colour, else every depth map."""
    return find_rgbd_pairs(folder, unit) if reads_colour(entry) else find_depth_frames(folder, unit)


def evaluate_depth_folder(entry: ZooEntry, folder: Path, unit: str = "auto", refine_steps: int = 0,
                          progress: bool = False, depth_coding: str = "conditioned") -> dict:
    """Per-frame rows and means of one depth-producing or thesis model on ``folder``
    (the dicts of :func:`evaluate_depth_model` / :func:`evaluate_thesis_model`; ``depth_coding``:
    an RGB-conditioned model's joint files, as :func:`evaluate_depth_model` takes it)."""
    from .rgbd_evaluate import evaluate_depth_model
    from .thesis_evaluate import evaluate_thesis_model

    frames = evaluation_frames(entry, Path(folder), unit)
    if needs_thesis_files(entry):
        return evaluate_thesis_model(entry, frames, outside_mean=(), refine_steps=refine_steps, progress=progress)
    return evaluate_depth_model(entry, frames, outside_mean=(), refine_steps=refine_steps, progress=progress,
                                depth_coding=depth_coding)


def summary_line(result: dict) -> str:
    """One line of the means of :func:`evaluate_depth_folder`'s result."""
    mean = result["mean"]
    times = f"encode {mean['encoding_time']:.2f} s, decode {mean['decoding_time']:.2f} s per frame"
    if result.get("target") == "rgb":
        ms_ssim = f"{mean['ms_ssim_db']:.2f} dB" if "ms_ssim_db" in mean else "n/a (frames under 161 pixels)"
        return (f"{result['model']}: {mean['bpp']:.4f} bpp, PSNR {mean['psnr']:.2f} dB, "
                f"MS-SSIM {ms_ssim}, {times} ({mean['frames']} frames)")
    bpp = mean["bpp"] if "bpp" in mean else mean["depth_bpp"]
    return (f"{result['model']}: {bpp:.4f} depth bpp, PSNR {mean['psnr']:.2f} dB (peak 65535 mm), "
            f"comprehensive similarity {mean['comprehensive_similarity_db']:.2f} dB, RMSE {mean['rmse_mm']:.1f} mm, "
            f"MAE {mean['mae_mm']:.1f} mm, flying pixels {mean['flying_pixels_percent']:.2f}%, "
            f"holes {'exact' if mean['holes_kept'] else 'NOT exact'}, {times} ({mean['frames']} frames)")
