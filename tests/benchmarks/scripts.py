"""Loading a script of ``benchmarks/`` as a module, to test its functions."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load_benchmark(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` as a module (it puts ``benchmarks/`` on the path for its own imports)."""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module      # registered first, as an import would (dataclasses look it up)
    spec.loader.exec_module(module)
    return module
