"""Trainer: R + λ·D (arXiv 1802.01436 eq. 2) with Adam, a separate Adam for the factorized
quantiles (the auxiliary loss of 1802.01436 appendix 6.1), MultiStepLR milestones, gradient
clipping, checkpoints every N steps / on interrupt / at a wall-time limit with exact resume,
a progress bar, a CSV log (TensorBoard too if installed), held-out validation, and DDP.
With ``variable_rate`` the λ of every image is drawn from a range and given to the model as its
rate input (Kao et al., arXiv 2305.10807; see :mod:`.losses`)."""
from __future__ import annotations

import csv
import math
import signal
import sys
import time
from pathlib import Path

import torch

from ..codecs import create
from ..errors import ModelError
from . import distributed
from .checkpoint import load_checkpoint, read_model_weights, save_checkpoint
from .config import TrainConfig
from .context_lr import ContextStepBoost
from .data import RandomCropImages, list_images
from .frozen import freeze_parameters
from .losses import rate_distortion_loss, sample_lambdas
from .prior_fit import fit_priors_at_start
from .rgbd_data import rgbd_training_data
from .starts import START_KEYS, check_context_unchanged, record_starts
from .validation import centre_crops, split_paths, validate

LOG_COLUMNS = ["step", "loss", "bpp", "psnr", "aux", "lr", "wall_seconds", "val_loss", "val_bpp", "val_psnr"]


def learning_rate(config: TrainConfig, step: int) -> float:
    """MultiStepLR as a pure function of the step (so resuming needs no scheduler state)."""
    return config.learning_rate * 0.1 ** sum(step >= m for m in config.milestones)


class _Log:
    """CSV log (appended across resumes) and, if available, TensorBoard."""

    def __init__(self, run: Path, enabled: bool) -> None:
        self.enabled = enabled
        if not enabled:
            return
        path = run / "log.csv"
        new = not path.exists()
        self.file = open(path, "a", newline="")
        self.writer = csv.writer(self.file)
        if new:
            self.writer.writerow(LOG_COLUMNS)
        try:
            from torch.utils.tensorboard import SummaryWriter
            self.board = SummaryWriter(str(run / "tensorboard"))
        except Exception:  # tensorboard is optional
            self.board = None

    def write(self, row: dict) -> None:
        if not self.enabled:
            return
        self.writer.writerow([row.get(c, "") for c in LOG_COLUMNS])
        self.file.flush()
        if self.board is not None:
            for key, value in row.items():
                if key != "step" and value != "":
                    self.board.add_scalar(key, float(value), int(row["step"]))

    def close(self) -> None:
        if self.enabled:
            self.file.close()
            if self.board is not None:
                self.board.close()


def train(config: TrainConfig, command: str | None = None) -> Path:
    """Train (or resume) the run in ``config.run_dir``; returns the path of the last checkpoint.
    ``command``, the command line that asked for it, is recorded when the run starts (``starts.py``)."""
    context = distributed.start()
    try:
        return train_process(config, context, command)[0]
    finally:
        distributed.stop(context)


def train_process(config: TrainConfig, context: distributed.Distributed,
                  command: str | None = None) -> tuple[Path, torch.nn.Module]:
    """The training loop of one process; returns the checkpoint path and the trained model."""
    if config.threads:
        torch.set_num_threads(config.threads)
    device = context.device()
    run = Path(config.run_dir)
    checkpoint = run / "checkpoint.safetensors"
    new_run = not checkpoint.exists()
    sources = {key: getattr(config, key) for key in START_KEYS}   # the weights it starts from, if any
    for key, path in sources.items():
        if path and not Path(path).is_file():
            raise ModelError(f"{key}: no weights file at {path}")
    colour_model = config.context_model if config.context == "decoded-rgb" else None  # makes its context
    if not new_run and colour_model:
        check_context_unchanged(run, colour_model)
    # the model and the weights it starts from before the run folder exists: a missing or foreign source,
    # or one that does not fit, leaves nothing behind
    torch.manual_seed(config.seed)
    model = create(config.architecture, **config.model_config)
    if config.crop % model.padding_multiple:
        raise ValueError(f"crop {config.crop} must be a multiple of {model.padding_multiple} for {model.name}")
    if context.is_main and config.crop < 2 * model.padding_multiple:
        print(f"warning: {config.crop}² crops are one unit of {model.name}'s coarsest level (padding multiple "
              f"{model.padding_multiple}): models trained so code whole images far worse than such crops "
              f"(docs/design.md); crops of {2 * model.padding_multiple}² or more avoid it", file=sys.stderr)
    if config.variable_rate and not getattr(model, "variable_rate", False):
        raise ValueError(f"variable_rate needs a model with a λ input (mm-tcm-attention), not {model.name}")
    if new_run and config.init_from:
        model.load_initial_weights(read_model_weights(Path(config.init_from)))
        if config.fit_prior_crops > 0:
            fit_priors_at_start(model, config, context.is_main)
    if config.depth_baseline:   # after init_from: a run started from another λ's weights keeps its own baseline
        if not hasattr(model, "load_depth_baseline"):
            raise ValueError(f"depth_baseline is for models with a depth path (mm-tcm-conv), not {model.name}")
        model.load_depth_baseline(read_model_weights(Path(config.depth_baseline)))
        model.freeze_depth_path()
    if config.frozen:
        freeze_parameters(model, config.frozen)
    if context.is_main:
        run.mkdir(parents=True, exist_ok=True)
        (run / "config.json").write_text(config.to_json())
        if new_run:   # which weights it starts from, by digest, and the command that started it
            record_starts(run, sources, command, colour_model)
    model.to(device)
    aux_params = [p for n, p in model.named_parameters() if n.endswith("quantiles")]
    main_params = [p for n, p in model.named_parameters() if not n.endswith("quantiles")]
    optimizers = {"main": torch.optim.Adam(main_params, lr=config.learning_rate),
                  "aux": torch.optim.Adam(aux_params, lr=config.aux_learning_rate)}
    if config.dataset == "rgbd":
        data, val_crops = rgbd_training_data(config, context.is_main)
    else:
        train_paths, val_paths = split_paths(list_images(config.data), config.validation_fraction)
        data = RandomCropImages(train_paths, crop=config.crop, length=1 << 30, channels=model.in_channels)
        val_crops = centre_crops(val_paths, config.crop, model.in_channels) if context.is_main else []
    loader = iter(torch.utils.data.DataLoader(data, batch_size=config.batch_size, num_workers=config.workers,
                                              persistent_workers=config.workers > 0))
    # restored after the loader exists: creating its iterator draws from the RNG
    step, wall = 0, 0.0
    if checkpoint.exists():
        meta = load_checkpoint(checkpoint, model, optimizers)
        step, wall = meta["step"], meta["extra"].get("wall_seconds", 0.0)
        if context.is_main:
            print(f"resumed {run} at step {step}")
    boost = ContextStepBoost(model, config.context_lr_factor) if config.context_lr_factor != 1.0 else None
    if context.enabled:
        torch.manual_seed(config.seed * 1000 + context.rank + step)  # other crops per rank
        trained = torch.nn.parallel.DistributedDataParallel(model, find_unused_parameters=True)
    else:
        trained = model
    log = _Log(run, context.is_main)
    bar = None
    if context.is_main and config.progress:
        from tqdm import tqdm
        bar = tqdm(total=config.steps, initial=step, desc=run.name, unit="step", dynamic_ncols=True)
    previous_handler = _catch_sigterm() if context.is_main else None
    start = time.time()

    def save() -> None:
        if context.is_main:
            save_checkpoint(checkpoint, model, optimizers, step, {"wall_seconds": wall + time.time() - start})

    model.train()
    try:
        while step < config.steps:
            lr = learning_rate(config, step)
            for group in optimizers["main"].param_groups:
                group["lr"] = lr
            x = next(loader).to(device, non_blocking=True)
            if config.variable_rate:
                lmbdas = sample_lambdas(*config.variable_rate, x.shape[0],
                                        seed=(config.seed * 1000 + context.rank) * 10_000_000 + step).to(device)
                result = rate_distortion_loss(trained(x, lmbda=lmbdas), x, lmbdas, config.metric)
            else:
                result = rate_distortion_loss(trained(x), x, config.lmbda, config.metric)
            optimizers["main"].zero_grad()
            result["loss"].backward()
            if config.clip_norm:
                torch.nn.utils.clip_grad_norm_(main_params, config.clip_norm)
            if boost is not None:
                boost.before_step()
            optimizers["main"].step()
            if boost is not None:
                boost.after_step()
            aux = model.aux_loss()  # same on every rank: it depends on synchronised parameters only
            optimizers["aux"].zero_grad()
            aux.backward()
            optimizers["aux"].step()
            step += 1
            psnr = -10 * math.log10(max(result["mse"].item(), 1e-10))
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{result['loss'].item():.3f}", bpp=f"{result['bpp'].item():.3f}",
                                psnr=f"{psnr:.2f}", refresh=False)
            row: dict = {}
            if step % config.log_every == 0:
                row = {"step": step, "loss": f"{result['loss'].item():.5f}", "bpp": f"{result['bpp'].item():.5f}",
                       "psnr": f"{psnr:.3f}", "aux": f"{aux.item():.3f}", "lr": lr,
                       "wall_seconds": f"{wall + time.time() - start:.1f}"}
            if val_crops and step % config.validate_every == 0:
                scores = validate(model, val_crops, config.lmbda, config.metric, device,
                                  per_image_lambda=bool(config.variable_rate))
                row = row or {"step": step}
                row.update({f"val_{k}": f"{v:.5f}" for k, v in scores.items()})
            if row:
                log.write(row)
            out_of_time = config.max_minutes is not None and (time.time() - start) > 60 * config.max_minutes
            if step % config.checkpoint_every == 0 or step == config.steps or out_of_time:
                save()
            if config.snapshot_every and step % config.snapshot_every == 0 and context.is_main:
                save_checkpoint(snapshot_path(run, step), model, {}, step, {"wall_seconds": wall + time.time() - start})
            if out_of_time:
                break
    except KeyboardInterrupt:
        save()
        raise
    finally:
        log.close()
        if bar is not None:
            bar.close()
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)
    return checkpoint, model


def snapshot_path(run: Path, step: int) -> Path:
    """Where ``snapshot_every`` keeps the weights of ``step`` (model only, no optimiser state)."""
    return Path(run) / "snapshots" / f"step-{step:07d}.safetensors"


def _raise_interrupt(signum, frame) -> None:  # SIGTERM → the same clean stop as Ctrl-C
    raise KeyboardInterrupt


def _catch_sigterm():
    try:
        return signal.signal(signal.SIGTERM, _raise_interrupt)
    except ValueError:  # not the main thread: leave signals alone
        return None
