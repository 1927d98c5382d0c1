"""The joint file's depth mode decision: its cost function and the depth-only twin of a model."""
import numpy as np
import pytest

from mmcodec.depth_mode import depth_alone_twin, depth_rd_cost
from mmcodec.modalities.depth import DepthMap
from mmcodec.zoo import find_entry, list_models


def test_rd_cost_is_bits_per_pixel_plus_lambda_times_scaled_mse_over_valid_pixels():
    reference = np.array([[1000, 2000], [0, 4000]], dtype=np.uint16)   # one hole
    decoded = np.array([[1010, 1990], [0, 4000]], dtype=np.uint16)
    depth = DepthMap(reference)
    mse = (10 ** 2 + 10 ** 2 + 0) / 3 / 65535.0 ** 2
    assert depth_rd_cost(3, decoded, depth, 100.0) == pytest.approx(8 * 3 / 4 + 100.0 * 255.0 ** 2 * mse, rel=1e-9)
    assert depth_rd_cost(3, reference.copy(), depth, 100.0) == pytest.approx(6.0)
    hole_differs = decoded.copy()
    hole_differs[1, 0] = 500   # a hole's value is not an error (the decoder restores holes exactly)
    assert depth_rd_cost(3, hole_differs, depth, 100.0) == depth_rd_cost(3, decoded, depth, 100.0)


def test_rd_cost_counts_errors_in_millimetres_whatever_the_unit():
    tum = DepthMap(np.array([[5000, 10000]], dtype=np.uint16), "tum")   # 1 m and 2 m
    decoded = np.array([[5050, 10000]], dtype=np.uint16)                # 10 mm off at 1 m
    assert depth_rd_cost(0, decoded, tum, 1.0) == pytest.approx(255.0 ** 2 * (10.0 ** 2 / 2) / 65535.0 ** 2)
    with pytest.raises(ValueError, match="differ in shape"):
        depth_rd_cost(0, decoded[:, :1], tum, 1.0)


def test_every_shipped_conditioned_depth_model_has_its_depth_only_twin():
    conditioned = [e for e in list_models() if e.modality == "depth" and e.context_model]
    assert conditioned
    for entry in conditioned:
        twin = depth_alone_twin(entry)
        assert twin is not None and twin.context_model is None
        assert (twin.lmbda, twin.metric, twin.config["n"], twin.config["m"]) == (
            entry.lmbda, entry.metric, entry.config["n"], entry.config["m"])
    assert depth_alone_twin(find_entry("rgb-conditional-depth-n32-mse-128")).model_id == "depth-mean-scale-n32-mse-128"
