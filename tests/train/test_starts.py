"""A run records the digest of the weights it started from, so its card still names them after the
file at that path is replaced; a missing or foreign source file is a one-line error before the run
folder exists."""
import json

import pytest

from mmcodec.errors import ModelError
from mmcodec.train.config import TrainConfig
from mmcodec.train.export import write_training_card
from mmcodec.train.starts import STARTS_FILE, described_start, start_command, start_digest
from mmcodec.train.trainer import train
from mmcodec.zoo import file_digest, read_entry

from .test_checkpoint import make_data


def config(tmp_path, name: str, **extra) -> TrainConfig:
    settings = {"crop": 64, "batch_size": 2, "steps": 1, "checkpoint_every": 1, "validation_fraction": 0.0,
                "progress": False, "threads": 1, **extra}
    return TrainConfig(architecture="mean-scale", model_config={"n": 8, "m": 12}, data=str(tmp_path / "data"),
                       run_dir=str(tmp_path / name), **settings)


def test_the_source_digest_outlives_the_source_file(tmp_path) -> None:
    make_data(tmp_path / "data")
    source = train(config(tmp_path, "source"))
    digest = file_digest(source)
    second = tmp_path / "second"
    train(config(tmp_path, "second", init_from=str(source)))
    assert json.loads((second / STARTS_FILE).read_text()) == {"init_from": {"path": str(source), "digest": digest}}
    train(config(tmp_path, "source", steps=2))            # the source trains on: another file at the same path
    assert file_digest(source) != digest
    train(config(tmp_path, "second", init_from=str(source), steps=2))     # resuming does not record again
    assert start_digest(second, "init_from", str(source)) == digest
    assert described_start(second, "init_from", str(source)) == f"`{source}` (digest `{digest}`)"
    assert described_start(second, "init_from", "elsewhere.safetensors") == "`elsewhere.safetensors`"
    assert described_start(tmp_path / "source", "init_from", str(source)) == f"`{source}`"   # no record

    from mmcodec.train.export import export_run
    entry = export_run(second, "tiny", 1, tmp_path / "models" / "weights")
    card = write_training_card(read_entry(entry.path), second, "a test machine", "nowhere", tmp_path / "cards")
    assert f"started from `{source}` (digest `{digest}`)" in card.read_text()


@pytest.mark.parametrize("key", ["init_from", "depth_baseline"])
def test_a_missing_source_stops_the_run_before_it_exists(tmp_path, key) -> None:
    make_data(tmp_path / "data")
    with pytest.raises(ModelError, match=f"{key}: no weights file at "):
        train(config(tmp_path, "run", **{key: str(tmp_path / "absent.safetensors")}))
    assert not (tmp_path / "run").exists()


def test_a_foreign_source_file_is_a_model_error(tmp_path) -> None:
    make_data(tmp_path / "data")
    (tmp_path / "foreign.safetensors").write_bytes(b"not safetensors at all")
    with pytest.raises(ModelError, match="not a safetensors weights file"):
        train(config(tmp_path, "run", init_from=str(tmp_path / "foreign.safetensors")))
    assert not (tmp_path / "run").exists()                    # read before the run folder is made


def test_the_card_quotes_the_commands_that_started_and_exported_the_run(tmp_path) -> None:
    make_data(tmp_path / "data")
    run = tmp_path / "run"
    train(config(tmp_path, "run"), command="mmcodec train --config c.yaml --steps 1")
    assert start_command(run) == "mmcodec train --config c.yaml --steps 1"
    train(config(tmp_path, "run", steps=2), command="mmcodec train --config c.yaml --steps 2")
    assert start_command(run) == "mmcodec train --config c.yaml --steps 1"      # recorded when it started
    assert start_command(tmp_path / "elsewhere") is None

    from mmcodec.train.export import export_run
    entry = read_entry(export_run(run, "tiny", 1, tmp_path / "models" / "weights").path)
    card = write_training_card(entry, run, "a test machine", "nowhere", tmp_path / "cards",
                               export_command="mmcodec export run").read_text()
    assert "- trained by: `mmcodec train --config c.yaml --steps 1`, then `mmcodec export run`" in card
    (run / STARTS_FILE).unlink()                                  # a run from before the record
    card = write_training_card(entry, run, "a test machine", "nowhere", tmp_path / "cards").read_text()
    assert "trained by" not in card


def test_mmcodec_train_records_its_command_line(tmp_path) -> None:
    from mmcodec.cli import main

    make_data(tmp_path / "data")
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(config(tmp_path, "unused").to_json())          # JSON is YAML
    argv = ["train", "--config", str(recipe), "--run-dir", str(tmp_path / "cli run"), "--steps", "1"]
    assert main(argv) == 0
    assert start_command(tmp_path / "cli run") == (f"mmcodec train --config {recipe} --run-dir "
                                                   f"'{tmp_path / 'cli run'}' --steps 1")


def test_a_run_records_its_colour_model_and_will_not_resume_on_other_colour(tmp_path) -> None:
    from mmcodec.train.starts import check_context_unchanged, context_model_digest, record_starts
    from mmcodec.zoo import DEFAULT_MODEL, find_entry

    run = tmp_path / "run"
    run.mkdir()
    record_starts(run, {}, "mmcodec train ...", context_model=DEFAULT_MODEL)
    current = find_entry(DEFAULT_MODEL).digest
    assert context_model_digest(run, DEFAULT_MODEL) == current and context_model_digest(run, "other") is None
    check_context_unchanged(run, DEFAULT_MODEL)                        # same weights: resumes
    starts = json.loads((run / STARTS_FILE).read_text())
    starts["context_model"]["digest"] = "0123456789abcdef"             # as if the colour model changed since
    (run / STARTS_FILE).write_text(json.dumps(starts))
    with pytest.raises(ModelError, match=f"weights 0123456789abcdef, which are now {current}: start a new run"):
        check_context_unchanged(run, DEFAULT_MODEL)
    check_context_unchanged(tmp_path / "no-record", DEFAULT_MODEL)     # older runs: no record, no check
