"""The model zoo: shipped weights (safetensors only) with their model cards.

Each entry is ``weights/<model id>.safetensors`` whose metadata names the architecture, its
configuration, the training objective and the quality index, plus ``cards/<model id>.md``.
The weights digest (SHA-256 of the file, first 16 hex digits) goes into every .mmc file, and a
decoder refuses a file whose digest does not match the installed weights.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch

from ..atomic_files import atomic_write
from ..codecs import LearnedCodec, canonical_name, create
from ..errors import ModelError

WEIGHTS_DIR = Path(__file__).parent / "weights"
CARDS_DIR = Path(__file__).parent / "cards"
DEFAULT_MODEL = "mbt2018-mean-n64-mse-0.0067"
MID_QUALITY = 3  # quality k is the k-th λ preset (MSE: 0.0025, 0.0035, 0.0067, 0.013, 0.025, 0.05)
_META_PREFIX = "mmcodec."


@dataclass(frozen=True)
class ZooEntry:
    model_id: str
    architecture: str
    config: dict
    quality: int
    lmbda: float
    metric: str
    path: Path
    context_model: str | None = None  # for a conditional model: the shipped model making its context
    prior_fit: dict | None = None     # how its factorized priors were fitted after training (train/prior_fit.py)
    context_model_digest: str | None = None  # weights digest of context_model when it trained (None: not recorded)

    @property
    def digest(self) -> str:
        return file_digest(self.path)

    @property
    def modality(self) -> str:
        """What the model codes: "image" or "depth"."""
        from ..codecs import architecture_class
        return architecture_class(self.architecture).modality


@lru_cache(maxsize=None)
def _digest_cached(path: str, mtime: float, size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def file_digest(path: Path) -> str:
    stat = path.stat()
    return _digest_cached(str(path), stat.st_mtime, stat.st_size)


def read_entry(path: Path) -> ZooEntry:
    """Read the metadata of a weights file (shipped or user-supplied)."""
    from safetensors import safe_open

    if not path.is_file():
        raise ModelError(f"weights file {path} not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except Exception as exc:
        raise ModelError(f"{path}: not a safetensors weights file ({exc.__class__.__name__})") from None
    try:
        return ZooEntry(meta[_META_PREFIX + "model_id"], meta[_META_PREFIX + "architecture"],
                        json.loads(meta[_META_PREFIX + "config"]), int(meta.get(_META_PREFIX + "quality", 0)),
                        float(meta.get(_META_PREFIX + "lambda", 0.0)), meta.get(_META_PREFIX + "metric", "mse"),
                        path, meta.get(_META_PREFIX + "context_model") or None,
                        json.loads(meta[_META_PREFIX + "prior_fit"]) if _META_PREFIX + "prior_fit" in meta else None,
                        meta.get(_META_PREFIX + "context_model_digest") or None)
    except (KeyError, ValueError) as exc:
        raise ModelError(f"{path}: weights carry no mmcodec metadata ({exc})") from None


def retrained_since(model_id: str, recorded_digest: str | None) -> str | None:
    """The weights digest of the shipped ``model_id`` if it is no longer ``recorded_digest`` (the
    model was trained further and shipped again under its id); None if it is, or if nothing was
    recorded."""
    if recorded_digest is None:
        return None
    current = find_entry(model_id).digest
    return current if current != recorded_digest else None


def list_models() -> list[ZooEntry]:
    """Every shipped model, sorted by architecture then quality."""
    entries = [read_entry(p) for p in sorted(WEIGHTS_DIR.glob("*.safetensors"))]
    return sorted(entries, key=lambda e: (e.architecture, e.quality, e.model_id))


def find_entry(model: str | None = None, quality: int | None = None) -> ZooEntry:
    """Resolve a model id, an architecture name/alias (+ quality) or a .safetensors path."""
    if model is None and quality is None:
        model = DEFAULT_MODEL
    if model is not None and model.endswith(".safetensors"):
        return read_entry(Path(model))
    entries = list_models()
    if model is not None:
        exact = [e for e in entries if e.model_id == model]
        if exact:
            return exact[0]
        try:
            architecture = canonical_name(model)
        except ModelError:
            raise ModelError(f"unknown model '{model}' (run 'mmcodec models' for the list)") from None
        entries = [e for e in entries if e.architecture == architecture]
    else:  # a quality alone picks among the default model's architecture, then the other image models
        default = next((e for e in entries if e.model_id == DEFAULT_MODEL), None)
        entries = sorted((e for e in entries if e.modality == "image"),
                         key=lambda e: default is None or e.architecture != default.architecture)
    if quality is not None:
        entries = [e for e in entries if e.quality == quality]
    if not entries:
        what = f"'{model}'" if model else "any architecture"
        raise ModelError(f"no shipped weights for {what}" + (f" at quality {quality}" if quality is not None else ""))
    if quality is None:  # the mid-rate model of that architecture (quality nearest MID_QUALITY)
        return min(entries, key=lambda e: (abs(e.quality - MID_QUALITY), e.quality))
    return entries[0]


def load_model(entry: ZooEntry, device: str = "cpu") -> LearnedCodec:
    """Instantiate the codec and load its weights (restored to float32)."""
    from safetensors.torch import load_file

    codec = create(entry.architecture, **entry.config)
    try:
        state = load_file(str(entry.path))
        state = {k: (v.float() if v.is_floating_point() else v) for k, v in state.items()}
        codec.load_state_dict(state)
    except Exception as exc:
        raise ModelError(f"{entry.path}: weights do not fit {entry.architecture} ({exc.__class__.__name__})") from None
    return codec.to(device).eval()


def export_model(codec: LearnedCodec, path: Path, model_id: str, quality: int, lmbda: float,
                 metric: str = "mse", half_precision: bool = True, context_model: str | None = None,
                 prior_fit: dict | None = None, context_model_digest: str | None = None) -> ZooEntry:
    """Write ``codec`` as a zoo entry: coding tables built, floats stored as fp16 if asked.
    ``context_model`` (+ ``context_model_digest``): the RGB model (and its weights) whose decoded
    colour a conditional depth model was trained with.

    The weights are rounded to fp16 *before* the tables are built, so the stored tables are
    exactly those of the model that loading restores.
    """
    from safetensors.torch import save

    codec = codec.cpu().eval()
    if half_precision:
        with torch.no_grad():
            for tensor in list(codec.parameters()) + [b for b in codec.buffers() if b.is_floating_point()]:
                tensor.copy_(tensor.half().float())
    codec.update()
    state = {k: v.detach().contiguous() for k, v in codec.state_dict().items()}
    if half_precision:
        state = {k: (v.half() if v.is_floating_point() else v) for k, v in state.items()}
    metadata = {_META_PREFIX + "model_id": model_id, _META_PREFIX + "architecture": codec.name,
                _META_PREFIX + "config": json.dumps(codec.config()), _META_PREFIX + "quality": str(quality),
                _META_PREFIX + "lambda": str(lmbda), _META_PREFIX + "metric": metric,
                _META_PREFIX + "format": "1"}
    if context_model:
        metadata[_META_PREFIX + "context_model"] = context_model
    if context_model and context_model_digest:
        metadata[_META_PREFIX + "context_model_digest"] = context_model_digest
    if prior_fit:
        metadata[_META_PREFIX + "prior_fit"] = json.dumps(prior_fit)
    data = canonical_safetensors(save(state, metadata=metadata))
    atomic_write(path, lambda tmp: tmp.write_bytes(data))   # whole or not at all
    return read_entry(path)


def canonical_safetensors(data: bytes) -> bytes:
    """The same safetensors file with its JSON header's keys sorted, so that the same weights and
    metadata always give the same bytes (and so the same digest): the writer orders the
    metadata differently from one process to the next. The format is an 8-byte little-endian
    header length, the JSON header (padded with spaces to a multiple of 8) and the tensor data,
    whose offsets count from the end of the header and so do not change."""
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + length])
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text + data[8 + length:]
