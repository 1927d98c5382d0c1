"""The factorized codec started from another codec's trained analysis and synthesis transforms."""
import pytest
import torch

from mmcodec.codecs import create
from mmcodec.errors import ModelError

from .coding_checks import assert_started_from_transforms


@pytest.mark.parametrize("source_name", ["mbt2018-mean", "bmshj2018-hyperprior"])
def test_starts_from_a_hyperprior_codecs_transforms(source_name: str) -> None:
    """g_a and g_s are the source's (the same latents, the same reconstruction of given latents);
    the prior of y keeps its initialisation."""
    torch.manual_seed(3)
    assert_started_from_transforms(create("bmshj2018-factorized", n=16, m=24), create(source_name, n=16, m=24),
                                   torch.rand(1, 3, 64, 48))


def test_its_own_weights_load_whole() -> None:
    torch.manual_seed(4)
    trained = create("bmshj2018-factorized", n=16, m=24)
    model = create("bmshj2018-factorized", n=16, m=24)
    model.load_initial_weights(trained.state_dict())
    assert all(torch.equal(model.state_dict()[k], v) for k, v in trained.state_dict().items())


def test_refuses_weights_without_matching_transforms() -> None:
    model = create("bmshj2018-factorized", n=16, m=24)
    with pytest.raises(ModelError, match="same g_a and g_s"):
        model.load_initial_weights({"h_s.0.weight": torch.zeros(1)})
    with pytest.raises(ModelError, match="same g_a and g_s.*g_a"):      # a mean-scale codec of another M
        model.load_initial_weights(create("mbt2018-mean", n=16, m=32).state_dict())
