"""benchmarks/rgbd_depth.py --reuse-models: a result is kept only for the very weights (and decoder, and file
version) it measured."""
from __future__ import annotations

import json
from types import SimpleNamespace

from mmcodec.codecs.refinement import REFINEMENT_SCHEDULE

from .scripts import load_benchmark


def test_results_are_reused_only_for_the_same_weights_refinement_post_filter_and_file_version() -> None:
    alone, conditioned = "depth-mean-scale", "rgb-conditional-depth"   # both write files of model version 2
    entries = [SimpleNamespace(model_id="depth-a", digest="aaaa", context_model=None, architecture=alone),
               SimpleNamespace(model_id="depth-f", digest="ffff", context_model=None, architecture=alone),
               SimpleNamespace(model_id="depth-b", digest="bbbb", context_model=None, architecture=alone),
               SimpleNamespace(model_id="depth-v", digest="vvvv", context_model=None, architecture=alone),
               SimpleNamespace(model_id="joint-c", digest="cccc", context_model="rgb", architecture=conditioned),
               SimpleNamespace(model_id="joint-d", digest="dddd", context_model="rgb", architecture=conditioned)]
    filtered = {"median_filter": True, "mean": {"model_versions": [2]}}
    joint = {"conditional": True, "depth_coding": "conditioned", **filtered}
    record = {"models": [
        {"model": "depth-a", "digest": "aaaa", "refine_steps": 0, **filtered},
        {"model": "depth-a+refine50", "digest": "aaaa", "refine_steps": 50, "refinement": REFINEMENT_SCHEDULE,
         **filtered},
        {"model": "depth-f+refine50", "digest": "ffff", "refine_steps": 50,
         "refinement": "SGA, Adam 0.01, tau 0.5 to 0.05", **filtered},   # another refinement schedule: again
        {"model": "depth-b", "digest": "old0", "refine_steps": 0, **filtered},   # retrained since: measure again
        {"model": "depth-b", "digest": "bbbb", "refine_steps": 50},   # before the median post-filter: again
        {"model": "depth-e", "refine_steps": 0, **filtered},           # no digest recorded: not reused
        {"model": "depth-v", "digest": "vvvv", "refine_steps": 0, **filtered,
         "mean": {"model_versions": [1]}},                              # files of an older model version: again
        {"model": "depth-v+refine50", "digest": "vvvv", "refine_steps": 50, "refinement": REFINEMENT_SCHEDULE,
         "median_filter": True, "mean": {}},                            # from before the key (version 1): again
        {"model": "joint-c", "digest": "cccc", "context_digest": "rgb1", "refine_steps": 0, **joint},
        {"model": "joint-d", "digest": "dddd", "context_digest": "rgb0", "refine_steps": 0, **joint},   # colour
        {"model": "joint-c+auto", "digest": "cccc", "context_digest": "rgb1", "refine_steps": 0, **joint,
         "depth_coding": "auto", "alone_digest": "twin1"},
        {"model": "joint-d+auto", "digest": "dddd", "context_digest": "rgb1", "refine_steps": 0, **joint,
         "depth_coding": "auto", "alone_digest": "twin0"},   # its depth-only twin retrained since: again
        # files from before the header said how the depth was coded (no depth_coding recorded): again
        {"model": "joint-c+refine50", "digest": "cccc", "context_digest": "rgb1", "refine_steps": 50,
         "conditional": True, **filtered},
    ]}
    kept = load_benchmark("rgbd_depth").reusable_results(record, entries, {"rgb": "rgb1"},
                                                         {"joint-c": "twin1", "joint-d": "twin1"})
    assert set(kept) == {("depth-a", "aaaa", 0, "conditioned"), ("depth-a", "aaaa", 50, "conditioned"),
                         ("joint-c", "cccc", 0, "conditioned"), ("joint-c", "cccc", 0, "auto")}
    assert kept[("depth-a", "aaaa", 50, "conditioned")]["model"] == "depth-a+refine50"
    assert kept[("depth-a", "aaaa", 0, "conditioned")]["kept"]
    assert kept[("joint-c", "cccc", 0, "auto")]["model"] == "joint-c+auto"


def test_progress_is_saved_after_every_model_and_keeps_what_is_not_measured_again(tmp_path) -> None:
    benchmark = load_benchmark("rgbd_depth")
    frames = ["rgbdd/f1", "rgbdd/f2"]
    earlier = {"frames": ["rgbdd/f1", "rgbdd/f2"], "anchors": [{"anchor": "jpegxl"}], "models": [
        {"model": "depth-a", "digest": "old0"}, {"model": "depth-b", "digest": "bbbb"}]}
    path = tmp_path / "rgbd-depth.json"
    benchmark.save_progress(path, earlier, frames, [{"model": "depth-a", "digest": "new1"}], [])
    saved = json.loads(path.read_text())
    assert saved["complete"] is False and saved["frames"] == earlier["frames"]
    assert [(r["model"], r["digest"]) for r in saved["models"]] == [("depth-a", "new1"), ("depth-a", "old0"),
                                                                     ("depth-b", "bbbb")]
    assert saved["anchors"] == earlier["anchors"] and not list(tmp_path.glob("*.partial"))
    assert [p.name for p in tmp_path.iterdir()] == ["rgbd-depth.json"]   # no temporary file left beside it
    benchmark.save_progress(path, None, frames, [{"model": "depth-a", "digest": "new1"}], [])
    assert [r["model"] for r in json.loads(path.read_text())["models"]] == ["depth-a"]


def test_joint_bd_rate_counts_the_same_colour_bits_on_both_sides() -> None:
    benchmark = load_benchmark("rgbd_depth")
    lambdas, depth_bpp, psnr = [32, 128, 512, 2048], [0.10, 0.15, 0.20, 0.25], [70.0, 71.0, 72.0, 73.0]

    def result(conditional: bool, i: int) -> dict:
        scale, colour = (0.9, 0.3) if conditional else (1.0, 0.0)   # a depth-only result carries no colour
        return {"lambda": lambdas[i], "conditional": conditional, "refine_steps": 0, "architecture": "a",
                "mean": {"depth_bpp": depth_bpp[i] * scale, "psnr": psnr[i], "color_bpp": colour}}

    models = [result(c, i) for c in (False, True) for i in range(4)]
    colour_of = {lam: 0.3 for lam in lambdas}
    assert benchmark.total(models[:4], colour_of) == ([0.3 + b for b in depth_bpp], psnr)
    rows = [line for line in benchmark.bd_rates(models, []) if line.startswith("| ")]
    assert rows[1].startswith("| depth bits only | -10.0% /")
    all_bits = float(rows[2].split("| ")[2].split("%")[0])
    # 10% of the depth bits, diluted by the 0.3 bpp of colour in both: between -10% and -2.5%
    assert -10.0 < all_bits < -2.5


def test_the_encoders_per_frame_choice_is_a_joint_curve_of_its_own() -> None:
    benchmark = load_benchmark("rgbd_depth")
    lambdas, depth_bpp, psnr = [32, 128, 512, 2048], [0.10, 0.15, 0.20, 0.25], [70.0, 71.0, 72.0, 73.0]

    def result(how: str | None, i: int) -> dict:
        scale = {None: 1.0, "conditioned": 1.1, "auto": 0.95}[how]
        frames = [{"frame": "rgbdd/1", "depth_conditioned": True}, {"frame": "rgbdd/2", "depth_conditioned": False},
                  {"frame": "samples/x", "depth_conditioned": True}]
        return {"lambda": lambdas[i], "conditional": how is not None, "refine_steps": 0, "architecture": "a",
                "depth_coding": how, "frames": frames,
                "mean": {"depth_bpp": depth_bpp[i] * scale, "psnr": psnr[i], "color_bpp": 0.3 if how else 0.0}}

    models = [result(how, i) for how in (None, "conditioned", "auto") for i in range(4)]
    rows = [line for line in benchmark.bd_rates(models, []) if line.startswith("| depth bits only")]
    assert rows[0].startswith("| depth bits only | +10.0% /") and rows[1].startswith("| depth bits only | -5.0% /")
    joint = benchmark.joint_versus_separate(models)
    assert any(line.startswith("| 32, encoder's choice (given the colour in 1 of 2) |") for line in joint)
    assert benchmark.depth_codings(type("E", (), {"model_id": "c"})(), 0, {"c": "t"}) == ("conditioned", "auto")
    assert benchmark.depth_codings(type("E", (), {"model_id": "c"})(), 50, {"c": "t"}) == ("conditioned",)
