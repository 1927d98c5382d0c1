"""grown_state: a smaller model's weights written into a larger model's state, zeros where it grew."""
import pytest
import torch

from mmcodec.codecs.warm_start import grown_state
from mmcodec.errors import ModelError


def test_equal_entries_are_copied_grown_ones_padded_with_zeros_and_new_ones_kept() -> None:
    own = {"first": torch.ones(4, 3, 3, 3), "same": torch.ones(2), "new.w": torch.full((2,), 7.0),
           "table": torch.empty(0)}
    source = {"first": torch.full((4, 1, 3, 3), 2.0), "same": torch.full((2,), 3.0), "table": torch.arange(5.0)}
    state = grown_state(own, source, is_new=lambda key: key.startswith("new."))
    assert torch.equal(state["first"][:, :1], source["first"]) and state["first"][:, 1:].abs().sum() == 0
    assert torch.equal(state["same"], source["same"]) and torch.equal(state["new.w"], own["new.w"])
    assert torch.equal(state["table"], source["table"])


@pytest.mark.parametrize(("source", "message"), [
    ({"a": torch.ones(2, 2)}, "lack b"),                                     # an entry missing
    ({"a": torch.ones(2, 2), "b": torch.ones(3), "c": torch.ones(1)}, "hold c"),   # a foreign entry
    ({"a": torch.ones(2, 3), "b": torch.ones(3)}, "shape"),                   # larger than ours
    ({"a": torch.ones(1, 1), "b": torch.ones(3)}, "shape"),                   # grown in two dimensions
    ({"a": torch.ones(2, 2, 1), "b": torch.ones(3)}, "shape"),                # another rank
])
def test_entries_that_do_not_fit_are_refused(source: dict, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        grown_state({"a": torch.ones(2, 2), "b": torch.ones(3)}, source)


def test_only_the_entries_allowed_to_grow_do() -> None:
    own, source = {"a": torch.ones(2, 2), "b": torch.ones(3)}, {"a": torch.ones(2, 1), "b": torch.ones(2)}
    with pytest.raises(ModelError, match="initial weights for b"):
        grown_state(own, source, may_grow=lambda key: key == "a")
    assert grown_state(own, source)["b"].tolist() == [1.0, 1.0, 0.0]
