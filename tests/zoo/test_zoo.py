"""The zoo: shipped weights load, names resolve, exports restore exactly, errors are clear."""
import pytest
import torch

from mmcodec.codecs import create
from mmcodec.errors import ModelError
from mmcodec.zoo import DEFAULT_MODEL, export_model, find_entry, list_models, load_model, read_entry


def test_default_model_is_shipped_and_loads() -> None:
    entry = find_entry()
    assert entry.model_id == DEFAULT_MODEL
    assert entry in list_models()
    codec = load_model(entry)
    assert not codec.training and codec.config() == entry.config


def test_names_resolve() -> None:
    default = find_entry()
    assert find_entry(default.architecture, default.quality) == default
    assert find_entry("mbt2018-mean", default.quality) == default
    assert find_entry("mbt2018-mean") == default  # no quality: the mid-rate model
    with pytest.raises(ModelError, match="unknown model"):
        find_entry("does-not-exist")


def test_export_restores_float32_and_codes_identically(tmp_path) -> None:
    torch.manual_seed(0)
    codec = create("hyperprior", n=8, m=12)
    entry = export_model(codec, tmp_path / "tiny.safetensors", "tiny", 1, 0.01)
    assert read_entry(tmp_path / "tiny.safetensors") == entry
    loaded = load_model(entry)
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    x = loaded.pad(torch.rand(1, 3, 64, 64))
    coded = codec.compress(x)  # the exporting process, after rounding to fp16
    assert loaded.compress(x).streams == coded.streams
    assert torch.equal(loaded.decompress(coded)[0], codec.decompress(coded)[0])


def test_a_quality_alone_prefers_the_default_architecture() -> None:
    default = find_entry()
    assert find_entry(quality=default.quality) == default
    image_models = [e for e in list_models() if e.modality == "image"]
    for quality in {e.quality for e in image_models}:
        picked = find_entry(quality=quality)
        assert picked.modality == "image" and picked.quality == quality
        if any(e.architecture == default.architecture and e.quality == quality for e in image_models):
            assert picked.architecture == default.architecture


def test_missing_and_foreign_weights(tmp_path) -> None:
    with pytest.raises(ModelError, match="not found"):
        read_entry(tmp_path / "missing.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"\x80\x04pickle")
    with pytest.raises(ModelError, match="not a safetensors"):
        read_entry(tmp_path / "bad.safetensors")
