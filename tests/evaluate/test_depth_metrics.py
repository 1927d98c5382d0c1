"""Depth metrics: exact values for known errors, holes excluded, the 5% flying-pixel threshold,
edge cases, one implementation shared with the training loss, and a real Kinect frame."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from mmcodec.errors import InputError
from mmcodec.evaluate.depth_metrics import comprehensive_similarity, comprehensive_similarity_db, depth_metrics
from mmcodec.train.depth_loss import comprehensive_similarity_loss

REDKITCHEN = Path(__file__).resolve().parents[2] / "../shared/datasets/rgbd/redkitchen/frame-000000.depth.png"


def depth_with_holes(height: int = 48, width: int = 64) -> np.ndarray:
    """A sloped wall, 1000–2260 mm, uint16, with a block and a column of holes."""
    rows, cols = np.mgrid[0:height, 0:width]
    depth = (1000 + 10 * rows + 12 * cols).astype(np.uint16)
    depth[5:9, 10:20] = 0
    depth[:, 40] = 0
    return depth


def test_identical_maps() -> None:
    depth = depth_with_holes()
    metrics = depth_metrics(depth, depth.copy())
    assert metrics["psnr"] == math.inf
    assert metrics["rmse_mm"] == metrics["mae_mm"] == metrics["flying_pixels_percent"] == 0.0
    assert metrics["comprehensive_similarity"] == 0.0 and metrics["comprehensive_similarity_db"] == math.inf
    assert metrics["holes_kept"] is True
    assert metrics["valid_pixels"] == int((depth > 0).sum())


def test_constant_offset_gives_exact_errors() -> None:
    depth = depth_with_holes()
    decoded = np.where(depth > 0, depth + 7, 0).astype(np.uint16)
    metrics = depth_metrics(depth, decoded)
    assert metrics["rmse_mm"] == 7.0 and metrics["mae_mm"] == 7.0
    assert metrics["psnr"] == pytest.approx(10 * math.log10(65535.0 ** 2 / 49.0), abs=1e-12)
    assert depth_metrics(depth, decoded, peak=10000.0)["psnr"] == pytest.approx(20 * math.log10(10000 / 7))
    assert metrics["flying_pixels_percent"] == 0.0 and metrics["holes_kept"] is True
    assert 0 < metrics["comprehensive_similarity"] < 1e-3


def test_holes_are_excluded() -> None:
    depth = depth_with_holes()
    decoded = np.where(depth > 0, depth.astype(np.int64) + np.arange(depth.size).reshape(depth.shape) % 9 - 4, 0)
    decoded = decoded.astype(np.uint16)
    filled = decoded.copy()
    filled[depth == 0] = 4321                  # the codec invents depth where there is none
    kept, invented = depth_metrics(depth, decoded), depth_metrics(depth, filled)
    assert kept.pop("holes_kept") is True and invented.pop("holes_kept") is False
    assert invented == kept


def test_holes_kept_needs_nonzero_elsewhere() -> None:
    depth = depth_with_holes()
    decoded = depth.copy()
    decoded[20, 20] = 0                        # a new hole where the reference measured
    assert depth_metrics(depth, decoded)["holes_kept"] is False


def test_flying_pixel_threshold_is_strictly_above_five_percent() -> None:
    depth = np.full((16, 16), 2000, dtype=np.uint16)
    decoded = depth.astype(np.float64)
    decoded[:4] += 100                         # exactly 5%: not flying
    decoded[4:8] -= 100                        # exactly 5% below: not flying
    decoded[8:10] += 100.5                     # just above: flying (32 pixels)
    decoded[10:11] -= 101                      # flying (16 pixels)
    metrics = depth_metrics(depth, decoded)
    assert metrics["flying_pixels_percent"] == pytest.approx(100 * 48 / 256)


def test_explicit_valid_mask_is_used() -> None:
    depth = depth_with_holes()
    decoded = depth.astype(np.float64) + 3
    decoded[depth == 0] = 0
    valid = depth > 0
    valid[:, :32] = False                      # only the right half counts
    decoded[:, :32] += 500                     # so this error is invisible
    metrics = depth_metrics(depth, decoded, valid=valid)
    assert metrics["mae_mm"] == 3.0 and metrics["valid_pixels"] == int(valid.sum())


def test_edge_cases_raise_input_error() -> None:
    depth = depth_with_holes()
    with pytest.raises(InputError, match="no valid"):
        depth_metrics(np.zeros_like(depth), depth)
    with pytest.raises(InputError, match="shape"):
        depth_metrics(depth, depth[:, :-1])
    with pytest.raises(InputError, match="shape"):
        depth_metrics(depth, depth, valid=np.ones((3, 3), dtype=bool))


def test_metric_is_the_training_loss() -> None:
    depth = depth_with_holes()
    decoded = np.where(depth > 0, depth.astype(np.float64) * 1.01 + 3, 0)
    peak = 4096.0

    def tensor(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.asarray(a, dtype=np.float64) / peak).float()[None, None]

    expected = comprehensive_similarity_loss(tensor(depth), tensor(decoded), torch.from_numpy(depth > 0)[None, None])
    assert comprehensive_similarity(depth, decoded, peak=peak) == expected.item()
    assert comprehensive_similarity(depth, decoded, peak=peak, gamma=0.0) < expected.item()


def test_comprehensive_similarity_db() -> None:
    assert comprehensive_similarity_db(1e-3) == pytest.approx(30.0)
    assert comprehensive_similarity_db(0.0) == math.inf


def test_real_kinect_frame() -> None:
    if not REDKITCHEN.is_file():
        pytest.skip("shared RGB-D data set not present")
    import imagecodecs

    depth = imagecodecs.imread(str(REDKITCHEN))
    assert depth.dtype == np.uint16 and (depth == 0).any()
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 1, depth.shape)

    def degrade(sigma_mm: float) -> np.ndarray:
        return np.where(depth > 0, np.clip(np.rint(depth + sigma_mm * noise), 1, 65535), 0).astype(np.uint16)

    mild, strong = depth_metrics(depth, degrade(5)), depth_metrics(depth, degrade(40))
    assert mild["valid_pixels"] == int((depth > 0).sum()) and mild["holes_kept"] and strong["holes_kept"]
    assert mild["psnr"] > strong["psnr"] and mild["rmse_mm"] < strong["rmse_mm"]
    assert mild["comprehensive_similarity"] < strong["comprehensive_similarity"]
    assert strong["flying_pixels_percent"] > mild["flying_pixels_percent"]
    assert mild["rmse_mm"] == pytest.approx(5, rel=0.05)
