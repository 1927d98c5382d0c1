"""Finding RGB-D pairs in the dataset layouts and splitting by contiguous frame ranges."""
from pathlib import Path

import pytest

from mmcodec.errors import InputError
from mmcodec.modalities.rgbd_pairs import find_depth_frames, find_rgbd_pairs, split_by_frames

RGBD = Path(__file__).resolve().parents[2] / "../shared/datasets/rgbd"


def _touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")


def test_three_layouts(tmp_path):
    _touch(tmp_path / "room" / "color" / "001.jpg")
    _touch(tmp_path / "room" / "depth" / "001.png")
    _touch(tmp_path / "room" / "depth" / "002.png")            # no colour: skipped
    _touch(tmp_path / "scenes" / "frame-000004.color.jpg")
    _touch(tmp_path / "scenes" / "frame-000004.depth.png")
    _touch(tmp_path / "samples" / "TUM_color.png")
    _touch(tmp_path / "samples" / "TUM_depth.png")
    _touch(tmp_path / "samples" / "SUN_color.jpg")
    _touch(tmp_path / "samples" / "SUN_depth.png")
    pairs = find_rgbd_pairs(tmp_path)
    found = {(p.sequence.split("/", 1)[1], p.name, p.unit) for p in pairs}
    assert found == {("room", "001", "mm"), ("scenes", "frame-000004", "mm"), ("samples", "TUM", "tum"),
                     ("samples", "SUN", "sun")}
    assert all(p.color.exists() and p.depth.exists() for p in pairs)
    assert {p.unit for p in find_rgbd_pairs(tmp_path, unit="mm")} == {"mm"}


def test_names_match_in_any_case(tmp_path):
    _touch(tmp_path / "Room" / "RGB" / "001.JPG")
    _touch(tmp_path / "Room" / "Depth" / "001.PNG")
    _touch(tmp_path / "Room" / "Depth" / "002.png")            # no colour: skipped
    _touch(tmp_path / "scenes" / "frame-000004.Color.png")
    _touch(tmp_path / "scenes" / "frame-000004.DEPTH.png")
    _touch(tmp_path / "scenes" / "frame-000005_color.png")     # the other separator: not this frame's colour
    _touch(tmp_path / "scenes" / "frame-000005.depth.png")
    pairs = find_rgbd_pairs(tmp_path)
    assert [(p.color.name, p.depth.name, p.name) for p in pairs] == [
        ("001.JPG", "001.PNG", "001"), ("frame-000004.Color.png", "frame-000004.DEPTH.png", "frame-000004")]


def test_depth_frames_need_no_colour_and_are_named_as_pairs(tmp_path):
    _touch(tmp_path / "room" / "color" / "001.jpg")
    _touch(tmp_path / "room" / "depth" / "001.png")
    _touch(tmp_path / "room" / "depth" / "002.png")            # no colour: a depth frame all the same
    _touch(tmp_path / "scenes" / "frame-000004.depth.png")
    _touch(tmp_path / "samples" / "TUM_depth.png")
    _touch(tmp_path / "samples" / "notes.png")                 # neither name nor folder says depth
    frames = find_depth_frames(tmp_path)
    assert [(p.sequence.split("/", 1)[1], p.name, p.unit) for p in frames] == [
        ("room", "001", "mm"), ("room", "002", "mm"), ("samples", "TUM", "tum"), ("scenes", "frame-000004", "mm")]
    assert all(p.color is None and p.depth.exists() for p in frames)
    pair = find_rgbd_pairs(tmp_path)[0]
    assert (pair.sequence, pair.name) == (frames[0].sequence, frames[0].name)


def test_a_depth_folder_itself_is_one_sequence(tmp_path):
    _touch(tmp_path / "room" / "color" / "001.jpg")
    _touch(tmp_path / "room" / "depth" / "001.png")
    assert [p.sequence for p in find_rgbd_pairs(tmp_path / "room" / "depth")] == ["depth"]
    assert [p.sequence for p in find_depth_frames(tmp_path / "room" / "depth")] == ["depth"]


def test_empty_or_missing_folders_are_one_line_errors(tmp_path):
    with pytest.raises(InputError, match="no colour"):
        find_rgbd_pairs(tmp_path)
    with pytest.raises(InputError, match="no such folder"):
        find_rgbd_pairs(tmp_path / "missing")


def test_split_holds_out_the_end_of_every_sequence(tmp_path):
    for seq, count in (("a", 10), ("b", 3)):
        for i in range(count):
            _touch(tmp_path / seq / "color" / f"{i:03d}.jpg")
            _touch(tmp_path / seq / "depth" / f"{i:03d}.png")
    train, test = split_by_frames(find_rgbd_pairs(tmp_path), 0.2)
    held = {(p.sequence.rsplit("/", 1)[1], p.name) for p in test}
    assert held == {("a", "008"), ("a", "009"), ("b", "002")}
    assert len(train) + len(test) == 13 and not {p.depth for p in train} & {p.depth for p in test}
    with pytest.raises(InputError):
        split_by_frames([], 1.0)


@pytest.mark.skipif(not RGBD.is_dir(), reason="shared datasets not available")
def test_shared_rgbd_datasets():
    assert len(find_rgbd_pairs(RGBD / "rgbdd")) == 325
    assert len(find_rgbd_pairs(RGBD / "redkitchen")) == 175
    units = {p.name: p.unit for p in find_rgbd_pairs(RGBD / "samples")}
    assert units == {"NYU": "raw", "SUN": "sun", "TUM": "tum"}
