"""Python API: arrays or paths in, .mmc bytes out, and back.

>>> import mmcodec
>>> data = mmcodec.compress("photo.png")                 # default shipped model
>>> images = mmcodec.decompress(data)                    # {"image": uint8 array (H, W, 3)}
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .codecs import CodedLatents, LearnedCodec
from .codecs.refinement import compress_refined
from .container import MmcFile, ModalityInfo, StreamInfo, read_mmc, write_mmc
from .errors import DecodeMismatchError, ModelError
from .modalities.image import Image, read_image, validate_pixels
from .zoo import ZooEntry, find_entry, load_model

IMAGE_MODALITY = "image"


@lru_cache(maxsize=8)
def _cached_model(path: str, mtime: float, device: str) -> LearnedCodec:
    from .zoo import read_entry
    return load_model(read_entry(Path(path)), device)


def get_codec(entry: ZooEntry, device: str = "cpu") -> LearnedCodec:
    """The loaded codec of a zoo entry (cached per process)."""
    return _cached_model(str(entry.path), entry.path.stat().st_mtime, device)


def _as_image(source: str | Path | np.ndarray | Image, bit_depth: int | None) -> Image:
    if isinstance(source, Image):
        return source
    if isinstance(source, (str, Path)):
        return read_image(source)
    return validate_pixels(np.asarray(source), bit_depth)


def to_tensor(image: Image, channels: int, device: str = "cpu") -> torch.Tensor:
    """An image → the 1 × ``channels`` × H × W input of a codec on [0, 1] (its peak maps to 1; grey
    is repeated to fill colour channels); the inverse of :func:`to_pixels`."""
    pixels = image.pixels
    if pixels.shape[2] != channels:
        pixels = np.repeat(pixels, channels, axis=2) if pixels.shape[2] == 1 else pixels
        if pixels.shape[2] != channels:
            raise ModelError(f"the model codes {channels}-channel images, the input has {image.channels}")
    x = torch.from_numpy(pixels.astype(np.float32) / image.peak).permute(2, 0, 1).unsqueeze(0)
    return x.to(device)


def to_pixels(x_hat: torch.Tensor, info: ModalityInfo) -> np.ndarray:
    """A decoded image tensor (padded) → the H×W×C array of ``info`` (cropped, rounded, its dtype)."""
    peak = (1 << info.bit_depth) - 1
    x = x_hat[0, :, :info.height, :info.width].clamp(0, 1).mul(peak).round()
    pixels = x.permute(1, 2, 0).cpu().numpy()
    if info.channels == 1 and pixels.shape[2] != 1:
        pixels = pixels.mean(axis=2, keepdims=True).round()
    return pixels.astype(info.dtype)


def compress(source: str | Path | np.ndarray | Image, model: str | None = None, quality: int | None = None,
             device: str = "cpu", bit_depth: int | None = None, refine_steps: int = 0) -> bytes:
    """Compress an image (path, H×W[×C] uint8/uint16 array, or :class:`Image`) to .mmc bytes.

    ``model`` is a shipped model id, an architecture name or alias (with ``quality``), or the
    path of a .safetensors file; None takes the default model. ``bit_depth`` states the
    significant bits of a uint16 array (default 16). ``refine_steps`` > 0 optimises the image's
    latents for the model's own R + λ·D before coding them (slower encoding, fewer bits for the
    same quality; any decoder reads the file): see :mod:`mmcodec.codecs.refinement`.
    """
    return _encode_image(source, model, quality, device, bit_depth, refine_steps)[0]


def compress_and_reconstruct(source: str | Path | np.ndarray | Image, model: str | None = None,
                             quality: int | None = None, device: str = "cpu", bit_depth: int | None = None,
                             refine_steps: int = 0) -> tuple[bytes, np.ndarray]:
    """:func:`compress`, and the pixels :func:`decompress` will return for the bytes, bit for bit,
    synthesised from the latents the encoder coded
    (:meth:`~mmcodec.codecs.base.LearnedCodec.reconstruct`: no entropy decoding, no second hyper
    synthesis)."""
    data, codec, coded, info = _encode_image(source, model, quality, device, bit_depth, refine_steps)
    return data, to_pixels(codec.reconstruct(coded), info)


def _encode_image(source: str | Path | np.ndarray | Image, model: str | None, quality: int | None, device: str,
                  bit_depth: int | None, refine_steps: int) -> tuple[bytes, LearnedCodec, CodedLatents, ModalityInfo]:
    """The .mmc bytes of :func:`compress`, with the codec, its coded latents and the file's image entry."""
    image = _as_image(source, bit_depth)
    entry = find_entry(model, quality)
    from .thesis_api import needs_thesis_files, thesis_table_of
    if needs_thesis_files(entry):
        table = thesis_table_of(entry)
        if table.context == "none":
            raise ModelError(f"'{entry.model_id}' codes depth maps, not images (compress depth with --modality depth)")
        raise ModelError(f"'{entry.model_id}' codes the {table.target} of an RGB-D pair from both: give the colour "
                         "image and the depth map (--depth)")
    if entry.modality != "image":
        raise ModelError(f"'{entry.model_id}' codes {entry.modality} maps, not images "
                         "(compress depth with --modality depth, or an RGB-D pair with --depth)")
    codec = get_codec(entry, device)
    x = to_tensor(image, codec.in_channels, device)
    padded = codec.pad(x)
    coded = compress_refined(codec, padded, image.height, image.width, entry.lmbda, entry.metric, refine_steps)
    info = ModalityInfo(IMAGE_MODALITY, "image", image.height, image.width, image.channels,
                        str(image.pixels.dtype), image.bit_depth,
                        padded_height=int(padded.shape[-2]), padded_width=int(padded.shape[-1]))
    mmc = MmcFile(entry.model_id, model_version(coded), entry.digest, [info], coded_streams(coded, IMAGE_MODALITY),
                  coded.digest, {"architecture": entry.architecture})
    return write_mmc(mmc), codec, coded, info


MODEL_VERSIONS = {1: "float", 2: "integer"}
"""A file's ``model_version``: how its decoder computes the entropy parameters
(:attr:`CodedLatents.entropy_parameters`): 1, the float network (every file before version 2),
or 2, its fixed-point copy (:mod:`mmcodec.layers.integer_network`)."""


def model_version(coded: CodedLatents) -> int:
    """The ``model_version`` a file of ``coded`` records."""
    return next(version for version, mode in MODEL_VERSIONS.items() if mode == coded.entropy_parameters)


def written_model_version(architecture: str) -> int:
    """The ``model_version`` of the files that codecs of ``architecture`` write now."""
    from .codecs import architecture_class

    mode = architecture_class(architecture).entropy_parameter_modes[-1]
    return next(version for version, known in MODEL_VERSIONS.items() if known == mode)


def entropy_parameters_of(version: int, codec: LearnedCodec, model_id: str) -> str:
    """The mode of a file's ``model_version``, refused in one line when ``codec`` cannot decode it."""
    mode = MODEL_VERSIONS.get(version)
    if mode not in codec.entropy_parameter_modes:
        known = ", ".join(str(v) for v, m in MODEL_VERSIONS.items() if m in codec.entropy_parameter_modes)
        raise ModelError(f"file needs version {version} of model '{model_id}'; this decoder reads version {known}")
    return mode


def coded_streams(coded: CodedLatents, modality: str, after: tuple[str, ...] = ()) -> list[tuple[StreamInfo, bytes]]:
    """The file streams of ``coded``, named ``<modality>/<stream>``; each depends on ``after``
    (streams of another modality, decoded first) and on its own dependencies."""
    return [(StreamInfo(f"{modality}/{name}", modality,
                        after + tuple(f"{modality}/{d}" for d in coded.dependencies.get(name, [])),
                        tuple(coded.shapes[name])), data) for name, data in coded.streams.items()]


def coded_latents(streams: list[tuple[StreamInfo, bytes]], modality: str) -> CodedLatents:
    """:func:`coded_streams` undone: the streams of ``modality`` as the codec's CodedLatents."""
    prefix = f"{modality}/"
    own = [(s, b) for s, b in streams if s.modality == modality]
    return CodedLatents({s.name[len(prefix):]: b for s, b in own},
                        {s.name[len(prefix):]: list(s.shape) for s, b in own})


def decompress(data: bytes, device: str = "cpu", model: str | None = None) -> dict[str, np.ndarray]:
    """Decode .mmc bytes to ``{modality name: array}`` (H×W×C, uint8/uint16, as coded; a
    depth map is H×W uint16 in its unit).

    ``model`` overrides where the weights come from (a .safetensors path for a model that is
    not shipped); its digest must still match the one recorded in the file.
    """
    mmc = read_mmc(data)
    if mmc.codec_params.get("kind") == "thesis":
        from .thesis_api import decompress_thesis_file
        return decompress_thesis_file(mmc, device, model)
    if mmc.codec_params.get("kind") in ("depth", "rgbd"):
        from .depth_api import decompress_depth_file
        return decompress_depth_file(mmc, device, model)
    return decode_images(mmc, device, model)


def checked_entry(mmc: MmcFile, model: str | None = None) -> ZooEntry:
    """The zoo entry a file needs, refusing weights whose digest differs from the file's."""
    try:
        entry = find_entry(model or mmc.model_id)
    except ModelError:
        if model is not None:
            raise
        raise ModelError(f"file needs model '{mmc.model_id}', which is not shipped: give its weights with "
                         "--model PATH.safetensors") from None
    if entry.model_id != mmc.model_id and model is None:
        raise ModelError(f"file needs model '{mmc.model_id}', which is not installed")
    if entry.digest != mmc.weights_digest:
        raise ModelError(f"file was written with weights {mmc.weights_digest} of '{mmc.model_id}', "
                         f"but the installed weights have digest {entry.digest}")
    return entry


def decode_images(mmc: MmcFile, device: str = "cpu", model: str | None = None) -> dict[str, np.ndarray]:
    """Decode the image modalities of a parsed file with the file's (image) model."""
    codec = get_codec(checked_entry(mmc, model), device)
    mode = entropy_parameters_of(mmc.model_version, codec, mmc.model_id)
    decoded: dict[str, np.ndarray] = {}
    for info in mmc.modalities:
        coded = coded_latents(mmc.streams, info.name)
        coded.entropy_parameters = mode
        check_shapes(codec, info, coded)
        x_hat, digest = codec.decompress(coded)
        if digest != mmc.latent_digest:
            raise DecodeMismatchError("decoded latents differ from the encoder's (digest mismatch): "
                                      "the file is corrupt or was written on an incompatible platform")
        decoded[info.name] = to_pixels(x_hat, info)
    return decoded


def check_shapes(codec: LearnedCodec, info: ModalityInfo, coded: CodedLatents) -> None:
    """Refuse latent shapes that do not follow from the image size (before allocating)."""
    from .errors import ContainerError

    m = codec.padding_multiple
    ph, pw = -(-info.height // m) * m, -(-info.width // m) * m
    if (info.padded_height, info.padded_width) != (ph, pw):
        raise ContainerError("header padding does not match the model's")
    shapes = {name: list(shape) for name, shape in coded.shapes.items()}
    if not any(shapes == layout for layout in codec.latent_layouts(ph, pw)):
        raise ContainerError("stream shapes do not match the image size and model")
