"""benchmarks/kodak_rd.py: results measured before join the curve of their architecture; reuse and
refined curves."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from mmcodec.codecs.refinement import REFINEMENT_SCHEDULE

from .scripts import load_benchmark


def test_an_earlier_result_names_its_architecture(tmp_path: Path) -> None:
    path = tmp_path / "tcm-point.json"
    result = {"name": "tcm-point", "description": "mmcodec tcm {'n': 32}, mse λ=0.0035, real bitstreams",
              "results": {"bpp": [0.2], "psnr-rgb": [25.0]}}
    path.write_text(json.dumps(result))
    assert load_benchmark("kodak_rd").earlier_result(path) == ("tcm", result)


@pytest.mark.parametrize("text", ["not json", json.dumps({"name": "x"}),
                                  json.dumps({"description": "jpeg q=50", "results": {"bpp": []}})])
def test_a_file_that_is_no_model_result_is_refused_in_one_line(tmp_path: Path, text: str) -> None:
    path = tmp_path / "foreign.json"
    path.write_text(text)
    with pytest.raises(SystemExit, match=r"^error: .*foreign\.json"):
        load_benchmark("kodak_rd").earlier_result(path)


def test_a_result_is_reused_only_for_the_weights_it_was_measured_on(tmp_path: Path) -> None:
    reusable_result = load_benchmark("kodak_rd").reusable_result
    path = tmp_path / "model.json"
    assert reusable_result(path, "0123456789abcdef") is None                     # not measured yet
    path.write_text(json.dumps({"name": "model", "results": {"bpp": [0.4]}}))
    assert reusable_result(path, "0123456789abcdef") is None                     # weights not named
    path.write_text(json.dumps({"name": "model", "digest": "0123456789abcdef", "results": {"bpp": [0.4]}}))
    assert reusable_result(path, "0123456789abcdef")["results"]["bpp"] == [0.4]
    assert reusable_result(path, "fedcba9876543210") is None                     # other weights
    path.write_text("{truncated")
    assert reusable_result(path, "0123456789abcdef") is None


def test_a_refined_result_is_reused_only_for_todays_refinement_schedule(tmp_path: Path) -> None:
    reusable_result = load_benchmark("kodak_rd").reusable_result
    path = tmp_path / "model+refine100.json"
    result = {"name": "model+refine100", "digest": "0123456789abcdef", "results": {"bpp": [0.4]}}
    path.write_text(json.dumps(result))
    assert reusable_result(path, "0123456789abcdef", refined=True) is None       # schedule not named
    path.write_text(json.dumps({**result, "refinement": "SGA, Adam 0.01, tau 0.5 to 0.05"}))
    assert reusable_result(path, "0123456789abcdef", refined=True) is None       # another schedule
    path.write_text(json.dumps({**result, "refinement": REFINEMENT_SCHEDULE}))
    assert reusable_result(path, "0123456789abcdef", refined=True)["results"]["bpp"] == [0.4]


def test_a_result_is_reused_only_for_files_of_the_model_version_written_now(tmp_path: Path) -> None:
    kodak_rd = load_benchmark("kodak_rd")
    path = tmp_path / "model.json"
    result = {"name": "model", "digest": "0123456789abcdef", "results": {"bpp": [0.4]}}
    for versions, now, older, reused in [(None, 2, False, False),      # versions not named
                                         ([1], 2, False, False),       # files of version 1, version 2 written now
                                         ([1], 2, True, True),         # ... kept when asked to
                                         ([3], 2, True, False),        # never a newer version
                                         ([1, 2], 2, False, False),    # a mixture
                                         ([2], 2, False, True), ([1], 1, False, True)]:
        path.write_text(json.dumps({**result, **({"model_versions": versions} if versions else {})}))
        found = kodak_rd.reusable_result(path, "0123456789abcdef", model_version=now, older_versions=older)
        assert (found is not None) == reused, (versions, now, older)
    assert kodak_rd.version_label([{"model_versions": [1]}, {"model_versions": [2]}], 2) == \
        " (files of model version 1)"
    assert kodak_rd.version_label([{"model_versions": [2]}], 2) == ""


def test_each_refinement_step_count_gets_its_own_curve(tmp_path: Path) -> None:
    folder, out = tmp_path / "images", tmp_path / "results"
    folder.mkdir()
    out.mkdir()
    pixels = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    PILImage.fromarray(pixels).save(folder / "noise.png")
    paths = load_benchmark("kodak_rd").run_models(folder, out, [], reuse=False, refine_steps=(1, 2),
                                                  refine_architectures=("mean-scale",))
    curves = {p.stem: json.loads(p.read_text()) for p in paths}
    plain, one, two = (curves[f"mmcodec-mean-scale{tag}"] for tag in ("", "+refine1", "+refine2"))
    assert len(plain["results"]["bpp"]) == len(one["results"]["bpp"]) == len(two["results"]["bpp"]) >= 4
    assert "mmcodec-factorized+refine1" not in curves                  # only the architectures asked for
    model = json.loads(next(out.glob("mbt2018-mean-*+refine2.json")).read_text())
    assert model["refinement"] == REFINEMENT_SCHEDULE and model["name"].endswith("+refine2")
