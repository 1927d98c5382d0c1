"""Single-process trainer: R + λ·D with Adam, a separate Adam for the factorized quantiles
(the auxiliary loss of arXiv 1802.01436 appendix 6.1), step-wise learning-rate milestones,
gradient clipping, periodic checkpoints with exact resume and a CSV log."""
from __future__ import annotations

import csv
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from ..codecs import create
from .checkpoint import load_checkpoint, save_checkpoint
from .data import RandomCropImages, list_images
from .losses import rate_distortion_loss


@dataclass
class TrainConfig:
    architecture: str = "mbt2018-mean"
    model_config: dict = field(default_factory=lambda: {"n": 128, "m": 192})
    data: str = "../shared/datasets/images/train"
    run_dir: str = "runs/default"
    lmbda: float = 0.0067
    metric: str = "mse"
    crop: int = 256
    batch_size: int = 8
    steps: int = 100_000
    learning_rate: float = 1e-4
    milestones: list[int] = field(default_factory=lambda: [80_000])
    aux_learning_rate: float = 1e-3
    clip_norm: float = 1.0
    checkpoint_every: int = 500
    max_minutes: float | None = None
    threads: int | None = None
    seed: int = 0


def _learning_rate(config: TrainConfig, step: int) -> float:
    return config.learning_rate * 0.1 ** sum(step >= m for m in config.milestones)


def train(config: TrainConfig) -> Path:
    """Train (or resume) the run in ``config.run_dir``; returns the path of the last checkpoint."""
    if config.threads:
        torch.set_num_threads(config.threads)
    run = Path(config.run_dir)
    run.mkdir(parents=True, exist_ok=True)
    (run / "config.json").write_text(json.dumps(asdict(config), indent=2))
    torch.manual_seed(config.seed)
    model = create(config.architecture, **config.model_config)
    if config.crop % model.padding_multiple:
        raise ValueError(f"crop {config.crop} must be a multiple of {model.padding_multiple} for {model.name}")
    aux_params = [p for n, p in model.named_parameters() if n.endswith("quantiles")]
    main_params = [p for n, p in model.named_parameters() if not n.endswith("quantiles")]
    optimizers = {"main": torch.optim.Adam(main_params, lr=config.learning_rate),
                  "aux": torch.optim.Adam(aux_params, lr=config.aux_learning_rate)}
    data = RandomCropImages(list_images(config.data), crop=config.crop, length=1 << 30)
    loader = iter(torch.utils.data.DataLoader(data, batch_size=config.batch_size, num_workers=0))
    # restored after the loader exists: creating its iterator draws from the RNG
    checkpoint = run / "checkpoint.safetensors"
    step, wall = 0, 0.0
    if checkpoint.exists():
        meta = load_checkpoint(checkpoint, model, optimizers)
        step, wall = meta["step"], meta["extra"].get("wall_seconds", 0.0)
        print(f"resumed {run} at step {step}")
    log_path = run / "log.csv"
    new_log = not log_path.exists()
    log = open(log_path, "a", newline="")
    writer = csv.writer(log)
    if new_log:
        writer.writerow(["step", "loss", "bpp", "psnr", "aux", "lr", "wall_seconds"])
    start = time.time()
    model.train()
    try:
        while step < config.steps:
            lr = _learning_rate(config, step)
            for group in optimizers["main"].param_groups:
                group["lr"] = lr
            x = next(loader)
            result = rate_distortion_loss(model(x), x, config.lmbda, config.metric)
            optimizers["main"].zero_grad()
            result["loss"].backward()
            if config.clip_norm:
                torch.nn.utils.clip_grad_norm_(main_params, config.clip_norm)
            optimizers["main"].step()
            aux = model.aux_loss()
            optimizers["aux"].zero_grad()
            aux.backward()
            optimizers["aux"].step()
            step += 1
            elapsed = wall + time.time() - start
            if step % 50 == 0:
                psnr = -10 * math.log10(max(result["mse"].item(), 1e-10))
                writer.writerow([step, f"{result['loss'].item():.5f}", f"{result['bpp'].item():.5f}",
                                 f"{psnr:.3f}", f"{aux.item():.3f}", lr, f"{elapsed:.1f}"])
                log.flush()
            out_of_time = config.max_minutes is not None and (time.time() - start) > 60 * config.max_minutes
            if step % config.checkpoint_every == 0 or step == config.steps or out_of_time:
                save_checkpoint(checkpoint, model, optimizers, step, {"wall_seconds": elapsed})
            if out_of_time:
                break
    except KeyboardInterrupt:
        save_checkpoint(checkpoint, model, optimizers, step, {"wall_seconds": wall + time.time() - start})
        raise
    finally:
        log.close()
    return checkpoint
