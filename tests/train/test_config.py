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
