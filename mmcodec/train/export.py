"""Turn a finished training run into a zoo entry: weights (safetensors, coding tables built)
and a model card with the training record and measured results."""
from __future__ import annotations

import json
from pathlib import Path

import torch

from ..codecs import create
from ..entropy.factorized import FactorizedEntropyModel
from ..zoo import CARDS_DIR, WEIGHTS_DIR, ZooEntry, export_model
from .checkpoint import load_checkpoint
from .config import TrainConfig
from .starts import context_model_digest, described_start, start_command


def settle_quantiles(module: torch.nn.Module, max_steps: int = 20_000, tolerance: float = 0.05) -> float:
    """Fit the quantiles of the factorized priors in ``module`` (a codec, or one prior) to their
    current densities (aux loss → 0).

    Training moves the quantiles slowly (they chase a moving density); before the tables are
    built, a few thousand cheap steps on the quantiles alone make the table ranges exact.
    Returns the final aux loss.
    """
    priors = [m for m in module.modules() if isinstance(m, FactorizedEntropyModel)]
    if not priors:
        return 0.0

    def aux_loss() -> torch.Tensor:
        return torch.stack([prior.aux_loss() for prior in priors]).sum()

    optimizer = torch.optim.Adam([prior.quantiles for prior in priors], lr=0.05)
    for step in range(max_steps):
        loss = aux_loss()
        if loss.item() < tolerance:
            break
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return float(aux_loss().detach())


def export_run(run_dir: Path, model_id: str, quality: int, weights_dir: Path = WEIGHTS_DIR,
               checkpoint: Path | None = None, fit_crops: int = 0) -> ZooEntry:
    """The run's latest checkpoint (or ``checkpoint``, e.g. one of its snapshots) as a zoo entry.

    ``fit_crops`` > 0 fits the factorized priors to the symbols of that many random training
    crops of the run first (:mod:`.prior_fit`; the weights record the bits per symbol before
    and after as ``prior_fit``)."""
    config = json.loads((run_dir / "config.json").read_text())
    codec = create(config["architecture"], **config["model_config"])
    load_checkpoint(checkpoint or run_dir / "checkpoint.safetensors", codec, {})
    settle_quantiles(codec)
    prior_fit = None
    if fit_crops > 0:
        from .prior_fit import fit_priors, training_crops

        fits = fit_priors(codec, training_crops(TrainConfig(**config), fit_crops))
        prior_fit = {"crops": fit_crops, **{name: {"bits_before": round(before, 5), "bits_after": round(after, 5)}
                                            for name, (before, after) in fits.items()}}
    context_model = config.get("context_model") if config.get("context") == "decoded-rgb" else None
    return export_model(codec, weights_dir / f"{model_id}.safetensors", model_id, quality,
                        config["lmbda"], config.get("metric", "mse"), context_model=context_model,
                        prior_fit=prior_fit,
                        context_model_digest=context_model_digest(run_dir, context_model) if context_model else None)


def prior_fit_lines(entry: ZooEntry) -> list[str]:
    """The card line on the fit of the factorized priors after training (none without one)."""
    if not entry.prior_fit:
        return []
    fits = "; ".join(f"{name} {fit['bits_before']:.4f} → {fit['bits_after']:.4f} bits per element"
                     for name, fit in entry.prior_fit.items() if name != "crops")
    return [f"- prior fit after training (transforms frozen, `mmcodec export --fit-prior "
            f"{entry.prior_fit['crops']}`): {fits} on {entry.prior_fit['crops']} training crops"]


def training_trace(log_csv: Path, points: int = 8) -> list[str]:
    """Markdown table of the training curve (means over windows of the CSV log, on crops)."""
    import csv

    rows = list(csv.DictReader(log_csv.open()))
    if not rows:
        return []
    window = max(1, len(rows) // points)
    lines = ["Training curve (mean over each window of logged steps, on training crops; "
             "bpp estimated, not coded):", "", "| up to step | loss | bpp | PSNR dB |", "|---|---|---|---|"]
    for start in range(0, len(rows), window):
        chunk = rows[start:start + window]
        mean = lambda key: sum(float(r[key]) for r in chunk) / len(chunk)  # noqa: E731
        lines.append(f"| {chunk[-1]['step']} | {mean('loss'):.3f} | {mean('bpp'):.3f} | {mean('psnr'):.2f} |")
    return lines + [""]


def _save_card(entry: ZooEntry, lines: list[str], cards_dir: Path) -> Path:
    cards_dir.mkdir(parents=True, exist_ok=True)
    path = cards_dir / f"{entry.model_id}.md"
    path.write_text("\n".join(lines))
    return path


OBJECTIVE_TERMS = {"mse": "λ·255²·MSE", "ms-ssim": "λ·(1 − MS-SSIM)",
                   "comprehensive-similarity": "λ·255²·comprehensive similarity (thesis eq. 24, γ = 0.1)"}
"""The distortion term of each training metric, as :func:`mmcodec.train.losses.rate_distortion_loss` weighs it."""


def _objective_line(entry: ZooEntry, samples: str = "") -> str:
    """The card line on the training objective, as the loss weighs it (``samples``: what D is measured on)."""
    term = OBJECTIVE_TERMS.get(entry.metric, "λ·D, D = " + entry.metric)
    return f"- objective: R + {term}{' on ' + samples if samples else ''}, λ = {entry.lmbda}"


def write_card(entry: ZooEntry, run_dir: Path, results: dict, hardware: str, cards_dir: Path = CARDS_DIR) -> Path:
    """Model card: architecture, objective, data, steps, hardware, wall time, measured RD."""
    config = json.loads((run_dir / "config.json").read_text())
    meta = json.loads((run_dir / "checkpoint.json").read_text())
    means = {k: v[0] for k, v in results["results"].items()}
    lines = [
        f"# {entry.model_id}",
        "",
        f"- architecture: `{entry.architecture}` {json.dumps(entry.config)}",
        _objective_line(entry),
        f"- training data: `{config['data']}` (BSDS500 train+test, Sun-Hays 80, Urban100 ×0.5; "
        f"never Kodak), random {config['crop']}² crops with flips, batch {config['batch_size']}",
        f"- optimiser: Adam lr {config['learning_rate']} (×0.1 at steps {config['milestones']}), "
        f"aux Adam lr {config['aux_learning_rate']}, gradient clip {config['clip_norm']}"
        + (f"; held fixed: {', '.join(f'`{p}`' for p in config['frozen'])} (frozen)" if config.get("frozen") else ""),
        f"- steps: {meta['step']}; wall time {meta['extra'].get('wall_seconds', 0) / 60:.0f} min on {hardware}"
        + (f"; {_start_clause(run_dir, config)}" if config.get("init_from") else ""),
        *prior_fit_lines(entry),
        f"- weights: fp16 storage, restored to fp32; digest `{entry.digest}`",
        "",
        f"Measured on Kodak (24 images, real bitstreams, `{results.get('command', '')}`, CPU):",
        "",
        "| bpp (file) | bpp (model estimate) | PSNR-RGB dB | MS-SSIM | encode s | decode s |",
        "|---|---|---|---|---|---|",
        f"| {means['bpp']:.4f} | {means['estimated_bpp']:.4f} | {means['psnr-rgb']:.2f} | "
        f"{means.get('ms-ssim-rgb', float('nan')):.4f} | {means['encoding_time']:.2f} | {means['decoding_time']:.2f} |",
        "",
    ]
    return _save_card(entry, lines + training_trace(run_dir / "log.csv"), cards_dir)


def _start_clause(run_dir: Path, config: dict) -> str:
    """How a card says where a run started (``init_from``): fine-tuned from weights of its own
    architecture, or given another codec's transforms, its priors fitted first if so."""
    source = described_start(run_dir, "init_from", config["init_from"])
    if not config.get("fit_prior_crops"):
        return f"fine-tuned from {source} (init_from)"
    return (f"started from {source} (init_from: the weights its architecture shares, e.g. g_a and g_s), its "
            f"factorized priors fitted to {config['fit_prior_crops']} training crops before the first step "
            f"(fit_prior_crops)")


def _data_folders(config: dict) -> str:
    """A run's data folders from its saved config (``data``: one folder or a list of them), for a card."""
    folders = config["data"] if isinstance(config["data"], list) else [config["data"]]
    return ", ".join(f"`{d}`" for d in folders)


def write_depth_card(entry: ZooEntry, run_dir: Path, measured: dict, command: str, hardware: str,
                     cards_dir: Path = CARDS_DIR) -> Path:
    """Model card of a depth model: objective, RGB-D data and split, steps, hardware, wall time,
    and its measured depth RD on held-out frames (``measured``: ``evaluate_depth_model``'s dict)."""
    config = json.loads((run_dir / "config.json").read_text())
    meta = json.loads((run_dir / "checkpoint.json").read_text())
    m = measured["mean"]
    weights = f", weights `{entry.context_model_digest}`" if entry.context_model_digest else ""
    context = (f"decoded colour from `{entry.context_model}`{weights} (as the decoder sees it)" if entry.context_model
               else "none (depth alone)")
    lines = [
        f"# {entry.model_id}",
        "",
        f"- architecture: `{entry.architecture}` {json.dumps(entry.config)}",
        _objective_line(entry, "depth / 65535"),
        f"- context: {context}",
        f"- training data: {_data_folders(config)}, the last {config.get('test_fraction', 0):.0%} of "
        f"each sequence held out; holes filled before coding; random {config['crop']}² crops with flips, "
        f"batch {config['batch_size']}",
        f"- optimiser: Adam lr {config['learning_rate']} (×0.1 at steps {config['milestones']}), "
        f"gradient clip {config['clip_norm']}"
        + (f"; started from {described_start(run_dir, 'init_from', config['init_from'])}" if config.get("init_from")
           else ""),
        f"- steps: {meta['step']}; wall time {meta['extra'].get('wall_seconds', 0) / 60:.0f} min on {hardware}",
        *prior_fit_lines(entry),
        f"- weights: fp16 storage, restored to fp32; digest `{entry.digest}`",
        "",
        f"Measured on {m.get('frames', len(measured['frames']))} held-out RGB-D frames (real files, `{command}`, "
        "CPU; depth metrics over valid pixels, PSNR peak 65535"
        + ("; decoded with the median post-filter each file's encoder chose" if measured.get("median_filter") else "")
        + "):",
        "",
        "| depth bpp | PSNR dB | RMSE mm | MAE mm | flying px % | holes exact | encode s | decode s |",
        "|---|---|---|---|---|---|---|---|",
        f"| {m['depth_bpp']:.4f} | {m['psnr']:.2f} | {m['rmse_mm']:.1f} | {m['mae_mm']:.1f} | "
        f"{m['flying_pixels_percent']:.2f} | {'yes' if m['holes_kept'] else 'no'} | {m['encoding_time']:.2f} | "
        f"{m['decoding_time']:.2f} |",
        "",
    ]
    return _save_card(entry, lines + training_trace(run_dir / "log.csv"), cards_dir)


def _run_data_line(config: dict) -> str:
    """The card line on a run's data: image folders, or RGB-D sequences with their held-out split."""
    folders = _data_folders(config)
    if config.get("dataset") != "rgbd":
        return f"- training data: {folders}, random {config['crop']}² crops with flips, batch {config['batch_size']}"
    context = config.get("context", "none")
    return (f"- training data: RGB-D frames of {folders}, the last {config.get('test_fraction', 0):.0%} of each "
            f"sequence held out; target {config.get('target')}, context {context}; random joint "
            f"{config['crop']}² crops with flips, batch {config['batch_size']}")


def trained_by_lines(run_dir: Path, export_command: str | None) -> list[str]:
    """The card's "trained by" line: the command that started the run (if recorded) and the one that
    exported it."""
    parts = [f"`{command}`" for command in (start_command(run_dir), export_command) if command]
    return ["- trained by: " + ", then ".join(parts)] if parts else []


def write_training_card(entry: ZooEntry, run_dir: Path, hardware: str, measured_in: str,
                        cards_dir: Path = CARDS_DIR, export_command: str | None = None) -> Path:
    """Model card with the training record alone (no measurement here): architecture, objective,
    data, optimiser, where it started, steps, hardware, wall time and the training curve, beside
    the run's CSV log (``<model id>.log.csv``). ``measured_in`` says where its results are (e.g.
    the thesis tables, ``benchmarks/thesis_tables.py``); ``export_command`` the command that exported
    it, quoted with the recorded command that started the run (``starts.py``)."""
    config = json.loads((run_dir / "config.json").read_text())
    meta = json.loads((run_dir / "checkpoint.json").read_text())
    starts = []
    if config.get("init_from"):
        starts.append(f"started from {described_start(run_dir, 'init_from', config['init_from'])}")
    if config.get("depth_baseline"):
        starts.append(f"depth path from {described_start(run_dir, 'depth_baseline', config['depth_baseline'])}, frozen")
    if config.get("variable_rate"):
        starts.append(f"variable rate, λ drawn in {config['variable_rate']}")
    lines = [
        f"# {entry.model_id}",
        "",
        f"- architecture: `{entry.architecture}` {json.dumps(entry.config)}",
        _objective_line(entry),
        _run_data_line(config),
        f"- optimiser: Adam lr {config['learning_rate']} (×0.1 at steps {config['milestones']}), "
        f"gradient clip {config['clip_norm']}, seed {config.get('seed', 0)}"
        + (f"; {'; '.join(starts)}" if starts else ""),
        f"- steps: {meta['step']} of {config['steps']}; wall time "
        f"{meta['extra'].get('wall_seconds', 0) / 60:.0f} min on {hardware}"
        + (f", {config['threads']} thread{'s' if config['threads'] > 1 else ''}" if config.get("threads") else ""),
        *prior_fit_lines(entry),
        f"- weights: fp16 storage, restored to fp32; digest `{entry.digest}`",
        f"- measured: {measured_in}",
        *trained_by_lines(run_dir, export_command),
        "",
    ]
    card = _save_card(entry, lines + training_trace(run_dir / "log.csv"), cards_dir)
    if (run_dir / "log.csv").is_file():
        (cards_dir / f"{entry.model_id}.log.csv").write_bytes((run_dir / "log.csv").read_bytes())
    return card
