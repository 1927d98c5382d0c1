"""benchmarks/slice_streams.py: a file's latents in the older per-slice layout decode alike and cost more."""
from __future__ import annotations

from pathlib import Path

from PIL import Image

from .scripts import load_benchmark

ASTRONAUT = Path(__file__).resolve().parents[2] / "mmcodec" / "assets" / "astronaut.png"


def test_the_per_slice_layout_decodes_to_the_same_pixels_in_more_bytes(tmp_path: Path) -> None:
    bench = load_benchmark("slice_streams")
    crop = tmp_path / "crop.png"
    Image.open(ASTRONAUT).convert("RGB").crop((0, 0, 192, 128)).save(crop)
    result = bench.measure("mean-scale-channel-n64-mse-0.0067", [crop])   # refuses a layout that decodes otherwise
    assert result["slices"] == 4 and result["saving_percent"] > 0
    assert result["slice_streams_file_bytes"] > result["file_bytes"] > result["y_stream_bytes"]
