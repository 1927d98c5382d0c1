"""benchmarks/slice_streams.py: the slices rebuilt as the encoder coded them, and one stream for them."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from mmcodec import api
from mmcodec.entropy.coder import GroupDecoder
from mmcodec.modalities.image import read_image

from .scripts import load_benchmark

ASTRONAUT = Path(__file__).resolve().parents[2] / "mmcodec" / "assets" / "astronaut.png"


def test_one_stream_holds_the_slices_and_the_file_shrinks(tmp_path: Path) -> None:
    bench = load_benchmark("slice_streams")
    crop = tmp_path / "crop.png"
    Image.open(ASTRONAUT).convert("RGB").crop((0, 0, 192, 128)).save(crop)
    result = bench.measure("mean-scale-channel-n64-mse-0.0067", [crop])   # refuses slices that differ from the file's
    assert result["streams"] == 5 and result["one_stream_file_bytes"] < result["file_bytes"]
    # the one stream decodes, slice by slice, to what the file's streams hold
    codec = api.get_codec(bench.find_entry("mean-scale-channel-n64-mse-0.0067"))
    groups = bench.slice_groups(codec, codec.pad(api.to_tensor(read_image(crop), 3)))
    tables = codec.y_model.gaussian_conditional.tables()
    decoder = GroupDecoder(bench.encode_groups(groups, tables))
    for values, index in groups:
        np.testing.assert_array_equal(decoder.decode(index, tables), values.ravel())
    decoder.finish()
