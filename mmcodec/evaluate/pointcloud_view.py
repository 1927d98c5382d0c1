"""Qualitative depth view: back-project a depth map to a coloured point cloud and render it from
a slightly rotated viewpoint (as the thesis's Figures 30ff. render reconstructed depth).

Pinhole model (Hartley & Zisserman, "Multiple View Geometry", eq. 6.1): pixel (u, v) with depth
z maps to X = (u − cx)·z/fx, Y = (v − cy)·z/fy, Z = z (camera axes: x right, y down, z forward).
Rendering is a numpy point splat with a z-buffer: no OpenGL, no open3d.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..errors import InputError

KINECT_FOCAL = 585.0     # 7-Scenes / Kinect v1 depth intrinsics (principal point at the centre)


def _principal_point(shape: tuple[int, ...], cx: float | None, cy: float | None) -> tuple[float, float]:
    height, width = shape[:2]
    return (width / 2 if cx is None else cx), (height / 2 if cy is None else cy)


def backproject(depth_mm: np.ndarray, color: np.ndarray | None = None, fx: float = KINECT_FOCAL,
                fy: float = KINECT_FOCAL, cx: float | None = None,
                cy: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Depth (H×W, mm) → (N×3 float64 points in metres, N×3 uint8 colours); holes (0) dropped.

    ``color`` is an H×W×3 uint8 image registered to the depth map; without one, points are
    shaded grey by depth (near = light). ``cx``/``cy`` default to W/2 and H/2.
    """
    depth_mm = np.asarray(depth_mm)
    if depth_mm.ndim != 2:
        raise InputError(f"a depth map must be H×W, got shape {depth_mm.shape}")
    if color is not None and (color.shape[:2] != depth_mm.shape or color.ndim != 3 or color.shape[2] != 3):
        raise InputError(f"colour image {color.shape} does not match the depth map {depth_mm.shape}")
    cx, cy = _principal_point(depth_mm.shape, cx, cy)
    v, u = np.nonzero(depth_mm > 0)
    z = depth_mm[v, u].astype(np.float64) / 1000.0
    points = np.stack([(u - cx) * z / fx, (v - cy) * z / fy, z], axis=1)
    if color is not None:
        colors = np.asarray(color, dtype=np.uint8)[v, u]
    else:
        near, far = (z.min(), z.max()) if z.size else (0.0, 1.0)
        grey = (230 - 180 * (z - near) / max(far - near, 1e-9)).astype(np.uint8)
        colors = np.repeat(grey[:, None], 3, axis=1)
    return points, colors


def rotation(yaw_deg: float, pitch_deg: float) -> np.ndarray:
    """3×3 rotation: yaw about the camera's vertical (y) axis, then pitch about its x axis."""
    yaw, pitch = math.radians(yaw_deg), math.radians(pitch_deg)
    about_y = np.array([[math.cos(yaw), 0, math.sin(yaw)], [0, 1, 0], [-math.sin(yaw), 0, math.cos(yaw)]])
    about_x = np.array([[1, 0, 0], [0, math.cos(pitch), -math.sin(pitch)], [0, math.sin(pitch), math.cos(pitch)]])
    return about_x @ about_y


def render_point_cloud(points: np.ndarray, colors: np.ndarray, width: int, height: int,
                       yaw_deg: float = 25.0, pitch_deg: float = -10.0, center: np.ndarray | None = None,
                       fx: float = KINECT_FOCAL, fy: float = KINECT_FOCAL, cx: float | None = None,
                       cy: float | None = None, point_size: int = 2,
                       background: tuple[int, int, int] = (255, 255, 255)) -> np.ndarray:
    """Render a cloud to an H×W×3 uint8 image from a viewpoint orbited about ``center``.

    The cloud is rotated by ``rotation(yaw_deg, pitch_deg)`` about ``center`` (default its
    centroid; pass the same one to compare two clouds), then projected with the pinhole
    intrinsics. Each point is splatted as a ``point_size``² square; per pixel the nearest point
    wins (z-buffer by sorting, deterministic).
    """
    image = np.empty((height, width, 3), dtype=np.uint8)
    image[:] = np.asarray(background, dtype=np.uint8)
    if len(points) == 0:
        return image
    cx, cy = _principal_point((height, width), cx, cy)
    center = points.mean(axis=0) if center is None else np.asarray(center, dtype=np.float64)
    moved = (points - center) @ rotation(yaw_deg, pitch_deg).T + center
    z = moved[:, 2]
    front = z > 1e-6
    moved, z, colors = moved[front], z[front], colors[front]
    u = np.rint(moved[:, 0] * fx / z + cx).astype(np.int64)     # pixel (u, v) has its centre at u, v
    v = np.rint(moved[:, 1] * fy / z + cy).astype(np.int64)
    offsets = np.arange(point_size) - (point_size - 1) // 2
    splat = (len(z), point_size, point_size)
    u = np.broadcast_to(u[:, None, None] + offsets[None, None, :], splat).reshape(-1)
    v = np.broadcast_to(v[:, None, None] + offsets[None, :, None], splat).reshape(-1)
    index = np.repeat(np.arange(len(z)), point_size * point_size)
    inside = (u >= 0) & (u < width) & (v >= 0) & (v < height)
    pixel = v[inside] * width + u[inside]
    index = index[inside]
    order = np.lexsort((z[index], pixel))                  # by pixel, then nearest first
    pixel, index = pixel[order], index[order]
    first = np.ones(len(pixel), dtype=bool)
    first[1:] = pixel[1:] != pixel[:-1]
    image.reshape(-1, 3)[pixel[first]] = colors[index[first]]
    return image


def render_depth_comparison(color: np.ndarray | None, reference_mm: np.ndarray, decoded_mm: np.ndarray,
                            path: str | Path, fx: float = KINECT_FOCAL, fy: float = KINECT_FOCAL,
                            cx: float | None = None, cy: float | None = None, yaw_deg: float = 25.0,
                            pitch_deg: float = -10.0, point_size: int = 2, gap: int = 8) -> np.ndarray:
    """Write a PNG: the reference cloud (left) and the decoded cloud (right), side by side.

    Both are coloured by ``color`` (or grey by depth) and seen from the same viewpoint, orbited
    about the reference cloud's centroid, so differences are the codec's. Returns the image.
    """
    import imagecodecs

    if np.shape(reference_mm) != np.shape(decoded_mm):
        raise InputError(f"depth maps differ in shape: {np.shape(reference_mm)} vs {np.shape(decoded_mm)}")
    height, width = np.shape(reference_mm)[:2]
    intrinsics = {"fx": fx, "fy": fy, "cx": cx, "cy": cy}
    reference_cloud = backproject(reference_mm, color, **intrinsics)
    decoded_cloud = backproject(decoded_mm, color, **intrinsics)
    center = reference_cloud[0].mean(axis=0) if len(reference_cloud[0]) else None
    view = {"yaw_deg": yaw_deg, "pitch_deg": pitch_deg, "center": center, "point_size": point_size, **intrinsics}
    left = render_point_cloud(*reference_cloud, width, height, **view)
    right = render_point_cloud(*decoded_cloud, width, height, **view)
    spacer = np.full((height, gap, 3), 255, dtype=np.uint8)
    image = np.concatenate([left, spacer, right], axis=1)
    Path(path).write_bytes(imagecodecs.png_encode(image))
    return image
