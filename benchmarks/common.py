"""Shared helpers of the benchmarks: dataset location, machine description, result files."""
from __future__ import annotations

import json
import os
import platform
from pathlib import Path

from mmcodec.train.losses import MSE_DISTORTION_SCALE

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks"


def datasets_dir() -> Path:
    """``$MMCODEC_DATASETS`` or ``../shared/datasets`` next to the repository."""
    return Path(os.environ.get("MMCODEC_DATASETS", ROOT.parent / "shared" / "datasets"))


def machine() -> dict:
    import torch

    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "torch": torch.__version__, "torch_threads": torch.get_num_threads()}


def write_results(name: str, results: dict, table: list[str], command: str) -> None:
    """``docs/benchmarks/<name>.json`` and ``<name>.md`` (the markdown table + how to rerun)."""
    DOCS.mkdir(parents=True, exist_ok=True)
    results = {"command": command, "machine": machine(), **results}
    (DOCS / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    m = results["machine"]
    header = [f"# {name}", "", f"Measured with `{command}` on {m['platform']}, {m['cpu_count']} CPU cores, "
              f"torch {m['torch']} ({m['torch_threads']} threads).", ""]
    (DOCS / f"{name}.md").write_text("\n".join(header + table) + "\n")


def mean_rd_objective(rates: list[float], psnrs: list[float], lmbda: float) -> float:
    """Mean over items of the training objective J = R + λ·255²·MSE (Ballé et al., arXiv
    1802.01436 eq. 2, with D = 255²·MSE on [0, 1] as in ``mmcodec.train.losses``), the MSE of each
    item recovered from its PSNR (its peak maps to 1: 255 for images, 65535 for depth)."""
    costs = [rate + lmbda * MSE_DISTORTION_SCALE * 10 ** (-psnr / 10) for rate, psnr in zip(rates, psnrs, strict=True)]
    return sum(costs) / len(costs)
