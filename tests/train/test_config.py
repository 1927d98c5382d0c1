"""Training configs: YAML and JSON, overrides, unknown keys refused, shipped configs valid."""
from pathlib import Path

import pytest

from mmcodec.errors import InputError
from mmcodec.train.config import TrainConfig, load_config
from mmcodec.train.trainer import learning_rate

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_load(path: Path) -> None:
    config = load_config(path)
    assert config.lmbda > 0 and config.crop % 64 == 0


def test_overrides_and_json(tmp_path) -> None:
    (tmp_path / "c.json").write_text('{"lmbda": 0.013, "steps": 10}')
    config = load_config(tmp_path / "c.json", steps=20, run_dir=None)
    assert (config.lmbda, config.steps, config.run_dir) == (0.013, 20, TrainConfig().run_dir)


def test_unknown_settings_are_refused(tmp_path) -> None:
    (tmp_path / "c.yaml").write_text("lmbda: 0.01\nlambda_typo: 3\n")
    with pytest.raises(InputError, match="lambda_typo"):
        load_config(tmp_path / "c.yaml")


def test_multistep_learning_rate() -> None:
    config = TrainConfig(learning_rate=1e-4, milestones=[10, 20])
    assert [learning_rate(config, s) for s in (0, 9, 10, 19, 20)] == pytest.approx([1e-4, 1e-4, 1e-5, 1e-5, 1e-6])


def test_settings_reach_any_key_and_the_model_config(tmp_path) -> None:
    path = CONFIGS / "thesis" / "mm-tcm-attention.yaml"
    config = load_config(path, ["lmbda=0.0025", "model_config.prompt_lambda=0", "milestones=[5, 8]",
                                "depth_baseline=runs/a b/checkpoint.safetensors"], steps=9)
    assert (config.lmbda, config.milestones, config.steps) == (0.0025, [5, 8], 9)
    assert config.model_config == {**load_config(path).model_config, "prompt_lambda": 0}
    assert config.depth_baseline == "runs/a b/checkpoint.safetensors"
    assert load_config(path, ["lmbda=0.0025"], lmbda=0.05).lmbda == 0.05     # named overrides come last


@pytest.mark.parametrize("setting, message", [("lmbda", "KEY=VALUE"), ("=3", "KEY=VALUE"),
                                              ("lmbda_typo=3", "lmbda_typo"), ("lmbda.x=3", "not a mapping"),
                                              ("steps=[1", "not a YAML value"),
                                              ("steps=1.5", "steps must be an integer, not 1.5"),
                                              ("learning_rate=fast", "learning_rate must be a number, not 'fast'"),
                                              ("lmbda=.inf", "lmbda must be a number"),
                                              ("crop=true", "crop must be an integer, not True"),
                                              ("fit_prior_crops=8", "for a run started from init_from")])
def test_bad_settings_are_refused(setting: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_config(CONFIGS / "thesis" / "depth-baseline.yaml", [setting])


def test_an_exponent_without_a_decimal_point_is_a_number() -> None:
    """YAML 1.1 reads 2e-5 as a string; the config makes it the number it means."""
    config = load_config(CONFIGS / "thesis" / "depth-baseline.yaml", ["learning_rate=2e-5", "steps=3e2"])
    assert config.learning_rate == 2e-5 and isinstance(config.learning_rate, float)
    assert config.steps == 300 and isinstance(config.steps, int)


def test_the_cli_refuses_a_bad_setting_in_one_line(capsys) -> None:
    from mmcodec.cli import main

    assert main(["train", "--config", str(CONFIGS / "thesis" / "depth-baseline.yaml"), "--set", "steps"]) == 2
    assert capsys.readouterr().err.strip() == "mmcodec: error: --set takes KEY=VALUE, not 'steps'"


def test_a_prior_fit_at_start_takes_a_number_of_crops() -> None:
    path = CONFIGS / "cpu-factorized-from-mean-scale.yaml"
    assert load_config(path).fit_prior_crops == 64
    with pytest.raises(InputError, match="fit_prior_crops is a number of crops"):
        load_config(path, ["fit_prior_crops=-1"])
