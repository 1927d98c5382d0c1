"""Training: rate–distortion losses, data, checkpoints and the trainer."""
