"""Training configuration: a dataclass, read from YAML or JSON, saved with every run."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from ..errors import InputError


@dataclass
class TrainConfig:
    """Everything a run needs; unknown keys in a config file are refused."""

    architecture: str = "mbt2018-mean"
    model_config: dict = field(default_factory=lambda: {"n": 128, "m": 192})
    data: str = "../shared/datasets/images/train"
    validation_fraction: float = 0.05    # every 1/f-th image (sorted by path) is held out
    run_dir: str = "runs/default"
    lmbda: float = 0.0067
    metric: str = "mse"                  # "mse", "ms-ssim" or "comprehensive-similarity" (depth)
    crop: int = 256
    batch_size: int = 8
    workers: int = 0                     # DataLoader worker processes
    steps: int = 100_000
    learning_rate: float = 1e-4
    milestones: list[int] = field(default_factory=lambda: [80_000])   # ×0.1 at each (MultiStepLR)
    aux_learning_rate: float = 1e-3
    clip_norm: float = 1.0
    checkpoint_every: int = 500
    snapshot_every: int = 0              # also keep the weights every N steps: <run>/snapshots/step-N.safetensors
                                         # (RD over training: benchmarks/training_trend.py); 0 = never
    validate_every: int = 1000
    log_every: int = 50
    max_minutes: float | None = None     # stop (with a checkpoint) after this much wall time
    threads: int | None = None
    seed: int = 0
    progress: bool = True
    init_from: str | None = None         # start from these model weights (a checkpoint or zoo file)
    fit_prior_crops: int = 0             # a new run started from init_from first fits its factorized priors to
                                         # this many training crops (train/prior_fit.py), e.g. a factorized
                                         # codec given a mean-scale codec's transforms
    frozen: list[str] = field(default_factory=list)  # parameter-name prefixes held fixed, e.g. [g_a., g_s.]
                                         # (train an entropy model for trained transforms: train/frozen.py)
    context_lr_factor: float = 1.0       # a conditioned model's colour-reading weights learn this many times
                                         # faster (warm start from depth-only: train/context_lr.py)
    variable_rate: list[float] | None = None  # [low, high]: one model for every λ in the range, λ drawn
                                         # per image (models with a λ input: mm-tcm-attention); λ above
                                         # is then the one validation uses
    # RGB-D data (dataset "rgbd"; see train/rgbd_data.py): frames from colour + depth pairs under
    # ``data``; the last ``test_fraction`` of every sequence is never trained on
    dataset: str = "images"              # "images" or "rgbd"
    target: str = "depth"                # "depth" or "rgb"
    context: str = "none"                # "none", "rgb", "decoded-rgb" or "depth"
    context_model: str | None = None     # shipped RGB model that makes the decoded-rgb context
    depth_unit: str = "auto"
    test_fraction: float = 0.0
    depth_baseline: str | None = None    # mm-tcm-conv: start its depth path from this trained 1-channel
                                         # tcm and freeze it (the thesis's recipe)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def apply_settings(values: dict, settings: list[str]) -> dict:
    """``values`` with each ``KEY=VALUE`` of ``settings`` set (VALUE read as YAML; ``a.b=VALUE``
    sets key ``b`` of the mapping ``a``, e.g. ``model_config.prompt_lambda=0``)."""
    import copy

    import yaml

    values = copy.deepcopy(values)
    for setting in settings:
        key, equals, text = setting.partition("=")
        if not equals or not key:
            raise InputError(f"--set takes KEY=VALUE, not {setting!r}")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            raise InputError(f"--set {key}: {text!r} is not a YAML value") from None
        *parents, leaf = key.split(".")
        target = values
        for parent in parents:
            target = target.setdefault(parent, {})
            if not isinstance(target, dict):
                raise InputError(f"--set {key}: {parent} is not a mapping")
        target[leaf] = value
    return values


def _numbers_checked(values: dict, path: Path) -> dict:
    """``values`` with each setting that takes a number (its default is an int or a float) made one.
    YAML 1.1 reads an exponent without a decimal point (``2e-5``) as a string: such a value is
    converted; a value that is no number is refused with an :class:`InputError` naming the setting."""
    defaults = {f.name: f.default for f in fields(TrainConfig)}
    checked = dict(values)
    for key, value in values.items():
        default = defaults.get(key)
        if isinstance(default, bool) or not isinstance(default, (int, float)):
            continue
        integer = isinstance(default, int)
        number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                pass
        if number is None or not math.isfinite(number) or (integer and number != int(number)):
            raise InputError(f"{path}: {key} must be {'an integer' if integer else 'a number'}, not {value!r}")
        checked[key] = int(number) if integer else float(number)
    return checked


def load_config(path: str | Path, settings: list[str] | None = None, **overrides) -> TrainConfig:
    """Read a YAML (.yaml/.yml) or JSON config; ``settings`` (``KEY=VALUE``, see
    :func:`apply_settings`) and then ``overrides`` replace its values."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such config file")
    text = path.read_text()
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml
        values = yaml.safe_load(text) or {}
    else:
        values = json.loads(text)
    if not isinstance(values, dict):
        raise InputError(f"{path}: a config must be a mapping of settings")
    values = apply_settings(values, settings or [])
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise InputError(f"{path}: unknown settings {', '.join(unknown)}")
    values.update({k: v for k, v in overrides.items() if v is not None})
    config = TrainConfig(**_numbers_checked(values, path))
    if config.variable_rate is not None:
        bounds = config.variable_rate
        if len(bounds) != 2 or not 0 < bounds[0] < bounds[1]:
            raise InputError(f"{path}: variable_rate is [low, high] with 0 < low < high, not {bounds}")
    if config.fit_prior_crops and (config.fit_prior_crops < 0 or not config.init_from):
        raise InputError(f"{path}: fit_prior_crops is a number of crops (≥ 0) for a run started from init_from")
    return config
