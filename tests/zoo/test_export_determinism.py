"""The same weights and metadata give the same weights file, byte for byte, in any process."""
import subprocess
import sys

import torch

from mmcodec.codecs import create
from mmcodec.zoo import export_model, load_model

EXPORT = """
import sys, torch
from pathlib import Path
from mmcodec.codecs import create
from mmcodec.zoo import export_model
torch.manual_seed(0)
export_model(create("mean-scale", n=8, m=12), Path(sys.argv[1]), "same", 2, 0.01, metric="mse",
             context_model="other", prior_fit={"crops": 4, "z": {"bits_before": 2.0, "bits_after": 1.0}})
"""


def test_an_export_is_byte_identical_across_processes(tmp_path) -> None:
    paths = [tmp_path / f"{i}.safetensors" for i in range(3)]
    for path in paths[:2]:                              # two fresh processes
        subprocess.run([sys.executable, "-c", EXPORT, str(path)], check=True)
    torch.manual_seed(0)
    entry = export_model(create("mean-scale", n=8, m=12), paths[2], "same", 2, 0.01, metric="mse",
                         context_model="other", prior_fit={"crops": 4, "z": {"bits_before": 2.0, "bits_after": 1.0}})
    assert paths[0].read_bytes() == paths[1].read_bytes() == paths[2].read_bytes()
    assert (entry.quality, entry.context_model, entry.prior_fit["crops"]) == (2, "other", 4)
    reference = create("mean-scale", n=8, m=12)
    loaded = load_model(entry)
    assert set(loaded.state_dict()) == set(reference.state_dict())
