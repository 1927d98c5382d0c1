"""Export of a run: weights with settled quantiles, and an image model card that records the
training (steps, hardware, the run it was fine-tuned or started from) and the measured results, or the
training record alone for a model measured elsewhere (``--measured-in``)."""
from mmcodec.cli import main
from mmcodec.evaluate.evaluate import evaluate_folder
from mmcodec.train.config import TrainConfig
from mmcodec.train.export import export_run, write_card
from mmcodec.train.trainer import train
from mmcodec.zoo import file_digest

from .test_checkpoint import make_data


def config(tmp_path, name: str, **extra) -> TrainConfig:
    settings = {"crop": 64, "batch_size": 2, "steps": 2, "validation_fraction": 0.0, "progress": False, **extra}
    return TrainConfig(architecture="mean-scale", model_config={"n": 8, "m": 12}, data=str(tmp_path / "data"),
                       run_dir=str(tmp_path / name), **settings)


def test_card_of_a_fine_tuned_run(tmp_path) -> None:
    make_data(tmp_path / "data")
    first = train(config(tmp_path, "first"))
    train(config(tmp_path, "second", lmbda=0.05, init_from=str(first), frozen=["g_s."]))
    entry = export_run(tmp_path / "second", "tiny-0.05", 6, tmp_path / "weights")
    assert (entry.quality, entry.lmbda) == (6, 0.05)
    results = evaluate_folder(entry, tmp_path / "data")
    assert results["digest"] == file_digest(entry.path)          # which weights were measured
    card = write_card(entry, tmp_path / "second", results, "a test machine", tmp_path / "cards")
    text = card.read_text()
    assert text.startswith("# tiny-0.05\n") and "- objective: R + λ·255²·MSE, λ = 0.05\n" in text
    assert (f"- steps: 2; wall time 0 min on a test machine; fine-tuned from `{first}` "
            f"(digest `{file_digest(first)}`) (init_from)") in text
    assert "gradient clip 1.0; held fixed: `g_s.` (frozen)\n" in text
    bpp = results["results"]["bpp"][0]
    assert f"| {bpp:.4f} |" in text and "Training curve" not in text      # 2 steps: nothing logged
    card = write_card(export_run(tmp_path / "first", "tiny", 3, tmp_path / "weights"), tmp_path / "first",
                      results, "a test machine", tmp_path / "cards")
    assert "fine-tuned" not in card.read_text() and "held fixed" not in card.read_text()


def test_card_of_a_factorized_run_given_a_mean_scale_codecs_transforms(tmp_path) -> None:
    make_data(tmp_path / "data")
    first = train(config(tmp_path, "mean-scale"))
    run = tmp_path / "factorized"
    train(TrainConfig(architecture="bmshj2018-factorized", model_config={"n": 8, "m": 12}, data=str(tmp_path / "data"),
                      run_dir=str(run), crop=64, batch_size=2, steps=2, validation_fraction=0.0, progress=False,
                      init_from=str(first), fit_prior_crops=4))
    entry = export_run(run, "tiny-factorized", 3, tmp_path / "weights")
    text = write_card(entry, run, evaluate_folder(entry, tmp_path / "data"), "a test machine",
                      tmp_path / "cards").read_text()
    assert (f"; started from `{first}` (digest `{file_digest(first)}`) (init_from: the weights its architecture "
            "shares, e.g. g_a and g_s), its factorized priors fitted to 4 training crops before the first step "
            "(fit_prior_crops)\n") in text
    assert "fine-tuned" not in text


def test_training_card_from_the_command_line(tmp_path, capsys) -> None:
    make_data(tmp_path / "data")
    first = train(config(tmp_path, "first"))
    train(config(tmp_path, "second", lmbda=0.05, init_from=str(first), steps=3, log_every=1, threads=1))
    assert main(["export", str(tmp_path / "second"), "--model-id", "tiny-0.05", "--quality", "2", "--hardware",
                 "a test machine", "-o", str(tmp_path / "models" / "weights"),
                 "--measured-in", "docs/results/elsewhere.md"]) == 0
    card = tmp_path / "models" / "cards" / "tiny-0.05.md"
    assert f"model card: {card}" in capsys.readouterr().out
    text = card.read_text()
    assert text.startswith("# tiny-0.05\n") and "- objective: R + λ·255²·MSE, λ = 0.05\n" in text
    assert "- steps: 3 of 3; wall time 0 min on a test machine, 1 thread\n" in text
    assert f"started from `{first}` (digest `{file_digest(first)}`)" in text
    assert "- measured: docs/results/elsewhere.md" in text
    assert (f"- trained by: `mmcodec export {tmp_path / 'second'} --model-id tiny-0.05 --quality 2 --hardware "
            f"'a test machine'") in text                      # started through train(), not the command line
    assert "Training curve" in text and "| 3 |" in text                  # logged every step
    log = (tmp_path / "models" / "cards" / "tiny-0.05.log.csv").read_text().splitlines()
    assert log[0].startswith("step,") and len(log) == 4                  # the run's log, copied beside the card
    assert (tmp_path / "models" / "weights" / "tiny-0.05.safetensors").is_file()
    main(["export", str(tmp_path / "first"), "--model-id", "tiny", "--quality", "1", "-o", str(tmp_path / "w2")])
    assert not (tmp_path / "cards").exists()                             # no card unless asked
