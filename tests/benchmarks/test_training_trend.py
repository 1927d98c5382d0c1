"""benchmarks/training_trend.py: rows kept from an earlier record name the command that measured them."""
from __future__ import annotations

from .scripts import load_benchmark


def test_rows_of_runs_not_given_are_kept_with_the_command_that_measured_them() -> None:
    record = {"command": "python benchmarks/training_trend.py runs/new",
              "rows": [{"run": "old", "step": 1000, "measured_by": "python benchmarks/training_trend.py runs/old"},
                       {"run": "new", "step": 1000}]}
    kept = load_benchmark("training_trend").kept_rows(record, {"new"})
    assert kept == [{"run": "old", "step": 1000, "measured_by": "python benchmarks/training_trend.py runs/old",
                     "kept": True}]


def test_rows_of_a_record_written_before_rows_named_their_command_take_the_records() -> None:
    record = {"command": "python benchmarks/training_trend.py runs/a", "rows": [{"run": "a", "step": 500}]}
    rows = load_benchmark("training_trend").recorded_rows(record)
    assert rows == [{"measured_by": "python benchmarks/training_trend.py runs/a", "run": "a", "step": 500}]
