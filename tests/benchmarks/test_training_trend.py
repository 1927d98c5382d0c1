"""benchmarks/training_trend.py: which run folders a recorded command measured."""
from __future__ import annotations

from .scripts import load_benchmark


def test_a_recorded_command_names_its_run_folders_not_its_flags() -> None:
    command = "python benchmarks/training_trend.py --keep runs/a-from-100 runs/sub/b"
    assert load_benchmark("training_trend").runs_of(command) == {"a-from-100", "b"}


def test_a_command_without_runs_names_none() -> None:
    assert load_benchmark("training_trend").runs_of("python benchmarks/training_trend.py") == set()
