"""Commands for training: train, export."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def cmd_train(args: argparse.Namespace) -> None:
    from ..train.config import load_config
    from ..train.trainer import train

    milestones = [int(m) for m in args.milestones.split(",") if m] if args.milestones is not None else None
    config = load_config(args.config, args.settings, run_dir=args.run_dir, steps=args.steps,
                         max_minutes=args.max_minutes, lmbda=args.lmbda, init_from=args.init_from,
                         milestones=milestones, threads=args.threads)
    try:
        print(f"checkpoint: {train(config, args.command_line)}")
    except KeyboardInterrupt:
        print(f"interrupted; checkpoint saved in {config.run_dir}", file=sys.stderr)
        raise


def cmd_export(args: argparse.Namespace) -> None:
    from ..errors import ModelError
    from ..train.export import export_run, write_card
    from ..zoo import CARDS_DIR, WEIGHTS_DIR

    run = Path(args.run_dir)
    if not (run / "checkpoint.safetensors").is_file():
        raise ModelError(f"{run}: no checkpoint.safetensors (not a training run folder)")
    weights_dir = Path(args.output) if args.output else WEIGHTS_DIR
    entry = export_run(run, args.model_id, args.quality, weights_dir, fit_crops=args.fit_prior)
    print(f"weights: {entry.path} (digest {entry.digest})")
    for name, fit in (entry.prior_fit or {}).items():
        if name != "crops":
            print(f"prior of {name} fitted on {entry.prior_fit['crops']} training crops: "
                  f"{fit['bits_before']:.4f} -> {fit['bits_after']:.4f} bits per element")
    card_dir = weights_dir.parent / "cards" if args.output else CARDS_DIR
    if args.measured_in:
        from ..train.export import write_training_card

        card = write_training_card(entry, run, args.hardware, args.measured_in, card_dir,
                                   export_command=args.command_line)
        print(f"model card: {card}")
    if args.kodak:
        import json

        from ..evaluate.evaluate import evaluate_folder

        results = evaluate_folder(entry, Path(args.kodak), progress=True)
        results["command"] = f"mmcodec eval --model {entry.model_id} --data {args.kodak}"
        (run / "kodak.json").write_text(json.dumps(results, indent=2) + "\n")
        card = write_card(entry, run, results, args.hardware, card_dir)
        print(f"model card: {card}")
    if args.rgbd:
        import json

        from ..evaluate.rgbd_evaluate import evaluate_depth_model, rgbd_test_frames
        from ..train.export import write_depth_card

        measured = evaluate_depth_model(entry, rgbd_test_frames(Path(args.rgbd)))
        (run / "rgbd.json").write_text(json.dumps(measured, indent=2) + "\n")
        card = write_depth_card(entry, run, measured, args.command_line, args.hardware, card_dir)
        print(f"model card: {card} (depth {measured['mean']['depth_bpp']:.4f} bpp, {measured['mean']['psnr']:.2f} dB)")
