"""Files of the RGB-D thesis's codecs: one modality coded with the help of the other.

Thesis ../shared/papers/multimodal-lic-tcm-rgbd-thesis.txt, sec. 3.1 (its six systems, Tables
8–13): LIC-TCM on colour or on depth alone (the baselines), the 4-channel early fusion with a
colour or a depth target, the Convolutional MM-LIC-TCM (depth target, colour context) and the
Attention MM-LIC-TCM (colour target, depth context). Each takes the input its training run took
(target channels first, then the context: :mod:`mmcodec.train.rgbd_data`) and reconstructs the
target alone. All their fusion is encoder-side, so a file holds the target's streams only (and,
for a depth target, the lossless hole mask of :mod:`mmcodec.modalities.hole_mask`, so that holes
come back exactly) and decodes without the context.

>>> data = compress_thesis("runs/exports/mm-tcm-conv-0.001.safetensors", color="c.png", depth="d.png")
>>> mmcodec.decompress(data, model="runs/exports/mm-tcm-conv-0.001.safetensors")   # {"depth": uint16}

Header ``codec_params``: ``{"kind": "thesis"}``; the model the file names tells the table, target
and context (:func:`thesis_table_of`). Files before 2026-12-08 also carried "architecture",
"thesis_table", "target" and "context", which no decoder reads; they cost 2.3–4.2% of a depth
file of 0.03–0.05 bpp (``docs/results/thesis-tables.md``). The modality is "image" (colour
target) or "depth" (depth target).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .codecs import LearnedCodec
from .codecs.refinement import compress_refined
from .container import MmcFile, ModalityInfo, StreamInfo, write_mmc
from .errors import DecodeMismatchError, InputError, ModelError
from .modalities.depth import DepthMap
from .modalities.hole_mask import decode_hole_mask, encode_hole_mask
from .modalities.image import Image
from .train.rgbd_data import depth_plane, rgb_plane
from .zoo import ZooEntry, find_entry

THESIS_KIND = "thesis"
USAGE = "mmcodec compress COLOR --depth DEPTH --model M"


@dataclass(frozen=True)
class ThesisTable:
    """One of the thesis's result tables: which architecture, coding which target from what."""

    number: int
    title: str
    architecture: str
    target: str        # "rgb" | "depth": what the decoder reconstructs
    context: str       # what else the encoder sees: "none" | "rgb" | "depth"

    @property
    def modality(self) -> str:
        """The name of the decoded modality in a file: "image" or "depth"."""
        return "image" if self.target == "rgb" else "depth"


THESIS_TABLES = (
    ThesisTable(8, "Baseline - RGB", "tcm", "rgb", "none"),
    ThesisTable(9, "Fusion - 4C LIC-TCM (RGB target)", "tcm-4c", "rgb", "depth"),
    ThesisTable(10, "Fusion - Attention MM-LIC-TCM", "mm-tcm-attention", "rgb", "depth"),
    ThesisTable(11, "Baseline - Depth", "tcm", "depth", "none"),
    ThesisTable(12, "Fusion - 4C LIC-TCM (Depth target)", "tcm-4c", "depth", "rgb"),
    ThesisTable(13, "Fusion - Convolutional MM-LIC-TCM", "mm-tcm-conv", "depth", "rgb"),
)


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


def needs_thesis_files(entry: ZooEntry) -> bool:
    """Whether a model codes through this module: a thesis model with a context or a depth
    target (the RGB baseline is a plain image model, coded by :func:`mmcodec.compress`)."""
    try:
        table = thesis_table_of(entry)
    except ModelError:
        return False
    return table.context != "none" or table.target == "depth"


def thesis_input(table: ThesisTable, color: Image | None, depth: DepthMap | None) -> np.ndarray:
    """The codec's input (C, H, W): the target's planes, then the context's."""
    planes = []
    for part in (table.target, table.context):
        if part == "rgb":
            if color is None:
                raise InputError(f"a {table.title} model needs the colour image too ({USAGE})")
            planes.append(rgb_plane(color.pixels))
        elif part == "depth":
            if depth is None:
                raise InputError(f"a {table.title} model needs the depth map too ({USAGE})")
            planes.append(depth_plane(depth))
    if len({p.shape[1:] for p in planes}) != 1:
        raise InputError(f"colour ({color.width}×{color.height}) and depth ({depth.width}×{depth.height}) "
                         "differ in size")
    return np.concatenate(planes, axis=0)


def encode_thesis(entry: ZooEntry, codec: LearnedCodec, color: Image | None, depth: DepthMap | None,
                  device: str = "cpu", refine_steps: int = 0) -> bytes:
    """The target of ``entry``'s thesis table, coded from it and its context → .mmc bytes."""
    table = thesis_table_of(entry)
    frame = torch.from_numpy(thesis_input(table, color, depth))[None].to(device)
    height, width = frame.shape[-2:]
    padded = codec.pad(frame)
    valid = depth.valid if table.target == "depth" else None
    mask = torch.from_numpy(valid)[None, None].to(device) if (valid is not None and refine_steps) else None
    coded = compress_refined(codec, padded, height, width, entry.lmbda, entry.metric, refine_steps, mask)
    padding = (int(padded.shape[-2]), int(padded.shape[-1]))
    if table.target == "rgb":
        info = ModalityInfo(table.modality, "image", height, width, 3, "uint8", 8, None, *padding)
    else:
        info = ModalityInfo(table.modality, "depth", height, width, 1, "uint16", 16, depth.unit, *padding)
    from .api import coded_streams, model_version

    streams = coded_streams(coded, info.name)
    if valid is not None:
        streams.append((StreamInfo(f"{info.name}/holes", info.name), encode_hole_mask(valid)))
    return write_mmc(MmcFile(entry.model_id, model_version(coded), entry.digest, [info], streams, coded.digest,
                             {"kind": THESIS_KIND}))


def compress_thesis(model: str, color: str | Path | np.ndarray | Image | None = None,
                    depth: str | Path | np.ndarray | DepthMap | None = None, unit: str = "mm",
                    device: str = "cpu", refine_steps: int = 0) -> bytes:
    """Code a frame with one of the thesis's models (``model``: a .safetensors path or id): its
    target (colour or depth) from the target and the context the model was trained with."""
    from .api import get_codec

    entry = find_entry(model)
    thesis_table_of(entry)
    from .depth_api import as_colour, as_depth

    image = None if color is None else as_colour(color)
    depth_map = None if depth is None else as_depth(depth, unit)
    return encode_thesis(entry, get_codec(entry, device), image, depth_map, device, refine_steps)


def decode_thesis(codec: LearnedCodec, mmc: MmcFile) -> dict[str, np.ndarray]:
    """A parsed thesis file → ``{"image": H×W×3 uint8}`` or ``{"depth": H×W uint16 in its unit}``."""
    from .api import check_shapes, coded_latents, entropy_parameters_of, to_pixels
    from .depth_api import depth_pixels

    if len(mmc.modalities) != 1:
        raise DecodeMismatchError("a thesis file holds exactly one modality")
    info = mmc.modalities[0]
    holes = [b for s, b in mmc.streams if s.name == f"{info.name}/holes"]
    if (info.kind == "depth") != bool(holes) or len(holes) > 1:
        raise DecodeMismatchError("the hole-mask stream is missing or unexpected")
    coded = coded_latents([(s, b) for s, b in mmc.streams if s.name != f"{info.name}/holes"], info.name)
    coded.entropy_parameters = entropy_parameters_of(mmc.model_version, codec, mmc.model_id)
    check_shapes(codec, info, coded)
    with torch.no_grad():
        x_hat, digest = codec.decompress(coded)
    if digest != mmc.latent_digest:
        raise DecodeMismatchError("decoded latents differ from the encoder's (digest mismatch): "
                                  "the file is corrupt or was written on an incompatible platform")
    if info.kind == "depth":
        return {info.name: depth_pixels(x_hat, info, decode_hole_mask(holes[0], info.height, info.width))}
    return {info.name: to_pixels(x_hat, info)}


def decompress_thesis_file(mmc: MmcFile, device: str = "cpu", model: str | None = None) -> dict[str, np.ndarray]:
    """Decode a parsed thesis file with the weights it names (or ``model``, of the same digest)."""
    from .api import checked_entry, get_codec

    return decode_thesis(get_codec(checked_entry(mmc, model), device), mmc)
