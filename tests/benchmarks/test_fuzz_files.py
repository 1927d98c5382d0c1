"""benchmarks/fuzz_files.py: corrupt files give one clean line, and the harness tells failures apart."""
from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from mmcodec import api
from mmcodec.container import read_mmc

from .scripts import load_benchmark


def _small_file() -> bytes:
    rng = np.random.default_rng(0)
    return api.compress(rng.integers(0, 256, (40, 48, 3), dtype=np.uint8))


def test_the_mutations_keep_the_container_readable_where_they_say_so() -> None:
    fuzz = load_benchmark("fuzz_files")
    cases = fuzz.mutations(_small_file(), random.Random(1), 60)
    assert len(cases) == 60
    crc_kept = [data for description, data in cases if "CRC not fixed" not in description
                and "raw JSON" not in description]
    readable = 0
    for data in crc_kept:
        try:
            read_mmc(data)
            readable += 1
        except Exception:
            pass
    assert readable > len(crc_kept) // 3      # most reach the codec, past the container's checks


def test_corrupt_files_are_refused_on_one_line(tmp_path: Path) -> None:
    fuzz = load_benchmark("fuzz_files")
    data = _small_file()
    outcomes = [fuzz.run_case("image", d, m, tmp_path, 30.0, 1024.0)
                for d, m in fuzz.mutations(data, random.Random(2), 30)]
    assert [o for o in outcomes if o.kind in fuzz.FAILURES] == []
    assert sum(o.kind == "refused" for o in outcomes) > 15
    assert fuzz.run_case("image", "unchanged", data, tmp_path, 30.0, 1024.0).kind == "decoded"

