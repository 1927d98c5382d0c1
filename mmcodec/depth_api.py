"""Depth and joint RGB-D files: a depth map alone, or colour + depth in one .mmc.

>>> data = compress_rgbd("frame.color.jpg", "frame.depth.png")   # one file, both modalities
>>> decoded = mmcodec.decompress(data)                            # {"image": uint8, "depth": uint16}

In a joint file the colour image is coded first by its RGB model; the depth is then coded by
an RGB-conditioned depth codec (:mod:`mmcodec.codecs.conditional_depth`) that sees the
*decoded* colour image on both sides, or by its depth-only twin where that costs less
(the encoder's mode decision, :mod:`mmcodec.depth_mode`). Holes (0)
travel losslessly in a ``depth/holes`` stream (:mod:`mmcodec.modalities.hole_mask`); the codec
codes the hole-filled map, and the decoder sets holes back to 0 and every other sample to ≥ 1.

Given one of the RGB-D thesis's models (``model``: its .safetensors), both functions write that
model's file instead (:mod:`mmcodec.thesis_api`: its target alone, coded with the other modality's
help on the encoder side).

Header ``codec_params`` of a depth or joint file: ``{"architecture", "kind": "depth" | "rgbd",
"depth_latent_digest", "depth_median_window"}`` (the decoder's median post-filter, chosen by the
encoder: :mod:`mmcodec.modalities.depth_filter`; 0 or absent = none) plus, for "rgbd",
``"image_model"``, ``"image_weights_digest"``, ``"image_latent_digest"`` and
``"depth_conditioned"`` (whether the depth model sees the colour; absent in older files) and
``"image_model_version"`` (the colour file's ``model_version``, :data:`mmcodec.api.MODEL_VERSIONS`;
absent = 1); the
file's ``model_id`` / ``weights_digest`` are the depth model's, its ``latent_digest`` the hash of
both latent digests.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .codecs.conditional_depth import DepthMeanScaleCodec
from .codecs.refinement import compress_refined
from .container import MmcFile, ModalityInfo, StreamInfo, write_mmc
from .depth_mode import DEPTH_CODINGS, depth_alone_twin, depth_rd_cost
from .errors import DecodeMismatchError, InputError, ModelError
from .modalities.depth import DepthMap, coding_plane, from_millimetres, read_depth, validate_depth
from .modalities.depth_filter import WINDOWS, choose_median_window, median_filter_depth
from .modalities.hole_mask import decode_hole_mask, encode_hole_mask
from .modalities.image import Image, read_image, validate_pixels
from .thesis_api import encode_thesis, needs_thesis_files, thesis_table_of
from .zoo import ZooEntry, find_entry, retrained_since

DEPTH_MODALITY = "depth"
DEFAULT_DEPTH_ARCHITECTURE = "depth-mean-scale"
DEFAULT_RGBD_ARCHITECTURE = "rgb-conditional-depth"
IMAGE_MODEL_VERSION = "image_model_version"  # the colour file's model_version (mmcodec.api.MODEL_VERSIONS)


def as_depth(source: str | Path | np.ndarray | DepthMap, unit: str) -> DepthMap:
    """A depth map from a path, an H×W uint16 array in ``unit``, or a :class:`DepthMap`."""
    if isinstance(source, DepthMap):
        return source
    if isinstance(source, (str, Path)):
        return read_depth(source, unit)
    return validate_depth(np.asarray(source), unit)


def as_colour(source: str | Path | np.ndarray | Image) -> Image:
    """The 8-bit RGB image of an RGB-D pair from a path, an array or an :class:`Image`."""
    if isinstance(source, Image):
        image = source
    elif isinstance(source, (str, Path)):
        image = read_image(source, channels=3)
    else:
        image = validate_pixels(np.asarray(source))
    if image.pixels.dtype != np.uint8 or image.channels != 3:
        raise InputError("the colour image of an RGB-D pair must be 8-bit RGB")
    return image


def _depth_entry(model: str | None, conditioned: bool, quality: int | None) -> ZooEntry:
    """The entry ``model`` names (default: the shipped depth-only or RGB-conditioned architecture)."""
    return find_entry(model or (DEFAULT_RGBD_ARCHITECTURE if conditioned else DEFAULT_DEPTH_ARCHITECTURE), quality)


def _check_context_weights(entry: ZooEntry) -> None:
    """Refuse a conditional depth model whose colour model has been retrained since it trained:
    the RGB model of that id now decodes other colour than the depth model learned from. (Models
    exported before the digest was recorded carry none and are not checked.)"""
    shipped = retrained_since(entry.context_model, entry.context_model_digest)
    if shipped is not None:
        raise ModelError(f"'{entry.model_id}' was trained on the colour of {entry.context_model} weights "
                         f"{entry.context_model_digest}, but those weights are now {shipped}: train it again "
                         "from the new colour model")


def _depth_codec(entry: ZooEntry, conditioned: bool, device: str) -> DepthMeanScaleCodec:
    codec = get_depth_codec(entry, device)
    if conditioned != (codec.context is not None):
        need = "an RGB-conditioned" if conditioned else "a depth-only"
        raise ModelError(f"'{entry.model_id}' is not {need} depth model")
    return codec


def _depth_input(depth: DepthMap) -> tuple[torch.Tensor, np.ndarray]:
    return torch.from_numpy(coding_plane(depth))[None, None], depth.valid


def _context_tensor(pixels: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(pixels.astype(np.float32) / 255.0).permute(2, 0, 1).unsqueeze(0)


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:16]


@dataclass
class CodedDepth:
    """The depth streams of one map, as :func:`_code_depth` writes them."""
    info: ModalityInfo
    streams: list[tuple[StreamInfo, bytes]]
    latent_digest: str
    median_window: int               # the decoder's median post-filter (0: none)
    decoded: np.ndarray | None       # the decoder's output (uint16, the map's unit) when asked for
    model_version: int = 1           # the file's model_version (mmcodec.api.MODEL_VERSIONS)

    @property
    def depth_bytes(self) -> int:
        return sum(len(payload) for _, payload in self.streams)


def _code_depth(entry: ZooEntry, codec: DepthMeanScaleCodec, depth: DepthMap, context: np.ndarray | None,
                device: str, refine_steps: int = 0, median_filter: bool = True, decode: bool = False
                ) -> CodedDepth:
    """The depth streams of one map, its latent digest and the median window for the decoder
    (the encoder reconstructs the decoder's output from its own ŷ to choose it; 0 when
    ``median_filter`` is False); with ``decode``, also the decoder's output."""
    x, valid = _depth_input(depth)
    if context is not None:
        if context.shape[:2] != x.shape[-2:]:
            raise InputError(f"colour ({context.shape[1]}×{context.shape[0]}) and depth "
                             f"({depth.width}×{depth.height}) differ in size")
        x = torch.cat([x, _context_tensor(context)], dim=1)
    padded = codec.pad(x.to(device))
    mask = torch.from_numpy(valid)[None, None].to(device) if refine_steps else None
    coded = compress_refined(codec, padded, depth.height, depth.width, entry.lmbda, entry.metric, refine_steps, mask)
    info = ModalityInfo(DEPTH_MODALITY, "depth", depth.height, depth.width, 1, "uint16", 16, depth.unit,
                        int(padded.shape[-2]), int(padded.shape[-1]))
    from . import api

    after = ("image/z", "image/y") if context is not None else ()
    streams = api.coded_streams(coded, DEPTH_MODALITY, after)
    streams.append((StreamInfo(f"{DEPTH_MODALITY}/holes", DEPTH_MODALITY), encode_hole_mask(valid)))
    window, decoded = 0, None
    if median_filter or decode:
        x_hat = codec.reconstruct(coded, padded[:, 1:] if context is not None else None)
        if median_filter:
            window = choose_median_window(depth.millimetres(), decoded_millimetres(x_hat, info), valid)
        if decode:
            decoded = depth_pixels(x_hat, info, valid, window)
    return CodedDepth(info, streams, coded.digest, window, decoded, api.model_version(coded))


def compress_depth(depth: str | Path | np.ndarray | DepthMap, unit: str = "mm", model: str | None = None,
                   quality: int | None = None, device: str = "cpu", refine_steps: int = 0,
                   median_filter: bool = True) -> bytes:
    """A depth map (path or H×W uint16 array in ``unit``) alone → .mmc bytes. ``refine_steps`` > 0
    optimises the latents for the model's R + λ·D over the valid pixels first (holes travel
    exactly in their own stream, so their error does not count): :mod:`mmcodec.codecs.refinement`.
    ``median_filter`` lets the encoder choose the decoder's median post-filter
    (:mod:`mmcodec.modalities.depth_filter`; not for the thesis's models); False writes a file
    decoded without one."""
    depth = as_depth(depth, unit)
    entry = _depth_entry(model, False, quality)
    if needs_thesis_files(entry):   # one of the thesis's codecs: depth baseline, or an error naming its inputs
        from .api import get_codec
        return encode_thesis(entry, get_codec(entry, device), None, depth, device, refine_steps)
    codec = _depth_codec(entry, False, device)
    coded = _code_depth(entry, codec, depth, None, device, refine_steps, median_filter)
    params = {"architecture": entry.architecture, "kind": "depth", "depth_latent_digest": coded.latent_digest,
              "depth_median_window": coded.median_window}
    return write_mmc(MmcFile(entry.model_id, coded.model_version, entry.digest, [coded.info], coded.streams,
                             coded.latent_digest, params))


def compress_rgbd(color: str | Path | np.ndarray | Image, depth: str | Path | np.ndarray | DepthMap,
                  unit: str = "mm", model: str | None = None, quality: int | None = None,
                  device: str = "cpu", refine_steps: int = 0, refine_colour: bool = True,
                  median_filter: bool = True, depth_coding: str = "auto", alone_model: str | None = None) -> bytes:
    """Colour + depth → one .mmc: the colour by the depth model's RGB model, the depth
    conditioned on the decoded colour or alone, as ``depth_coding`` says (:mod:`mmcodec.depth_mode`):
    "conditioned" by ``model``; "alone" by its depth-only twin (``alone_model``, by default the
    shipped one: :func:`~mmcodec.depth_mode.depth_alone_twin`); "auto" both ways, keeping the one
    of lower R + λ·D (the conditioned one when there is no twin). ``refine_steps`` refines the
    depth latents as in :func:`compress_depth` and, unless ``refine_colour`` is False, the
    colour's latents first (:func:`mmcodec.compress`; the depth is then coded given the refined
    colour, which is what the decoder sees). With ``refine_colour=False`` the colour part is
    exactly the colour-only file of the RGB model (how the benchmarks count the depth bits of a
    joint file). ``median_filter`` as in :func:`compress_depth`."""
    from . import api

    if depth_coding not in DEPTH_CODINGS:
        raise InputError(f"unknown depth coding '{depth_coding}' (known: {', '.join(DEPTH_CODINGS)})")
    image, depth = as_colour(color), as_depth(depth, unit)
    entry = _depth_entry(model, True, quality)
    if needs_thesis_files(entry):   # one of the thesis's codecs: the file holds its target alone
        if thesis_table_of(entry).context == "none":
            raise ModelError(f"'{entry.model_id}' codes the depth alone (compress it with --modality depth)")
        return encode_thesis(entry, api.get_codec(entry, device), image, depth, device, refine_steps)
    codec = _depth_codec(entry, True, device)
    if not entry.context_model:
        raise ModelError(f"'{entry.model_id}' does not name the RGB model it was trained with")
    _check_context_weights(entry)
    candidates = _depth_candidates(entry, codec, depth_coding, alone_model, device)
    image_file, decoded_rgb = api.compress_and_reconstruct(image, model=entry.context_model, device=device,
                                                           refine_steps=refine_steps if refine_colour else 0)
    image_mmc = api.read_mmc(image_file)    # decoded_rgb: exactly what a decoder will see
    coded = [(e, c.context is not None,
              _code_depth(e, c, depth, decoded_rgb if c.context is not None else None, device, refine_steps,
                          median_filter, decode=len(candidates) > 1))
             for e, c in candidates]
    # one coding is kept as it is; of two, the lower R + λ·D (the conditioned one first, so it wins a tie)
    chosen, conditioned, depth_coded = coded[0] if len(coded) == 1 else min(
        coded, key=lambda item: depth_rd_cost(item[2].depth_bytes, item[2].decoded, depth, entry.lmbda))
    params = {"architecture": chosen.architecture, "kind": "rgbd", "depth_latent_digest": depth_coded.latent_digest,
              "depth_median_window": depth_coded.median_window, "depth_conditioned": conditioned,
              "image_model": image_mmc.model_id, "image_weights_digest": image_mmc.weights_digest,
              "image_latent_digest": image_mmc.latent_digest}
    if image_mmc.model_version != 1:   # files before model version 2 lack the key
        params[IMAGE_MODEL_VERSION] = image_mmc.model_version
    mmc = MmcFile(chosen.model_id, depth_coded.model_version, chosen.digest, image_mmc.modalities + [depth_coded.info],
                  image_mmc.streams + depth_coded.streams,
                  _digest(image_mmc.latent_digest, depth_coded.latent_digest), params)
    return write_mmc(mmc)


def _depth_candidates(entry: ZooEntry, codec: DepthMeanScaleCodec, depth_coding: str, alone_model: str | None,
                      device: str) -> list[tuple[ZooEntry, DepthMeanScaleCodec]]:
    """The models that ``depth_coding`` codes a joint file's depth with, the conditioned one first."""
    conditioned = [(entry, codec)]
    if depth_coding == "conditioned":
        return conditioned
    twin = find_entry(alone_model) if alone_model else depth_alone_twin(entry)
    if twin is None:
        if depth_coding == "alone":
            raise ModelError(f"no depth-only model with the network and λ of '{entry.model_id}' is shipped: "
                             "name one to code the depth alone")
        return conditioned
    alone = [(twin, _depth_codec(twin, False, device))]
    return alone if depth_coding == "alone" else conditioned + alone


def decompress_depth_file(mmc: MmcFile, device: str = "cpu", model: str | None = None) -> dict[str, np.ndarray]:
    """Decode a depth or joint RGB-D file (already parsed) to ``{"image"?, "depth"}``."""
    from . import api

    params = mmc.codec_params
    entry = api.checked_entry(mmc, model)
    codec = get_depth_codec(entry, device)
    mode = api.entropy_parameters_of(mmc.model_version, codec, mmc.model_id)
    conditioned = codec.context is not None
    if params.get("depth_conditioned", conditioned) is not conditioned:   # files from before the key lack it
        raise DecodeMismatchError(f"the file says its depth is {'' if conditioned else 'not '}coded given the "
                                  f"colour, but '{entry.model_id}' is {'' if conditioned else 'not '}so")
    if conditioned and params.get("kind") != "rgbd":
        raise DecodeMismatchError(f"'{entry.model_id}' needs the colour, and the file has none")
    decoded: dict[str, np.ndarray] = {}
    context = None
    if params.get("kind") == "rgbd":
        image_info = [m for m in mmc.modalities if m.name == api.IMAGE_MODALITY]
        image_streams = [(s, b) for s, b in mmc.streams if s.modality == api.IMAGE_MODALITY]
        version = params.get(IMAGE_MODEL_VERSION, 1)
        if type(version) is not int:
            raise DecodeMismatchError(f"image model version must be an integer, not {str(version)[:20]!r}")
        image_mmc = MmcFile(str(params.get("image_model")), version, str(params.get("image_weights_digest")),
                            image_info, image_streams, str(params.get("image_latent_digest")), {})
        decoded[api.IMAGE_MODALITY] = api.decode_images(image_mmc, device)[api.IMAGE_MODALITY]
        context = _context_tensor(decoded[api.IMAGE_MODALITY])
    info = next((m for m in mmc.modalities if m.name == DEPTH_MODALITY), None)
    if info is None:
        raise DecodeMismatchError("file has no depth modality")
    own = {s.name[len(DEPTH_MODALITY) + 1:]: (s, b) for s, b in mmc.streams if s.modality == DEPTH_MODALITY}
    if set(own) != {"z", "y", "holes"}:
        raise DecodeMismatchError("depth streams are missing or unexpected")
    window = params.get("depth_median_window", 0)
    if type(window) is not int or window not in WINDOWS:
        raise DecodeMismatchError(f"unknown depth median window {str(window)[:20]!r} (this decoder knows {WINDOWS})")
    valid = decode_hole_mask(own.pop("holes")[1], info.height, info.width)
    coded = api.coded_latents(list(own.values()), DEPTH_MODALITY)
    coded.entropy_parameters = mode
    api.check_shapes(codec, info, coded)
    context = codec.pad(context.to(device)) if conditioned and context is not None else None
    x_hat, digest = codec.decompress(coded, context)
    if digest != params.get("depth_latent_digest"):
        raise DecodeMismatchError("decoded depth latents differ from the encoder's (digest mismatch): "
                                  "the file is corrupt or was written on an incompatible platform")
    decoded[DEPTH_MODALITY] = depth_pixels(x_hat, info, valid, window)
    return decoded


def decoded_millimetres(x_hat: torch.Tensor, info: ModalityInfo) -> np.ndarray:
    """A decoded depth plane (depth / 65535, padded) → H×W float millimetres."""
    return x_hat[0, 0, :info.height, :info.width].clamp(0, 1).mul(65535.0).cpu().numpy()


def depth_pixels(x_hat: torch.Tensor, info: ModalityInfo, valid: np.ndarray | None,
                 median_window: int = 0) -> np.ndarray:
    """A decoded depth plane → the H×W uint16 map in ``info``'s unit, 0 exactly at the holes
    (where ``valid`` is False) and at least 1 elsewhere, after the median post-filter of
    ``median_window`` (0: none)."""
    mm = decoded_millimetres(x_hat, info)
    if median_window:
        mm = median_filter_depth(mm, valid if valid is not None else np.ones(mm.shape, bool), median_window)
    return from_millimetres(mm, info.unit or "mm", valid)


def get_depth_codec(entry: ZooEntry, device: str) -> DepthMeanScaleCodec:
    from .api import get_codec

    codec = get_codec(entry, device)
    if not isinstance(codec, DepthMeanScaleCodec):
        raise ModelError(f"'{entry.model_id}' is not a depth model")
    return codec
