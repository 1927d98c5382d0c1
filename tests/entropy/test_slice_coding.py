"""The slice loop of the channel-wise models: one stream for all slices, or the older one per slice."""
import numpy as np
import pytest
import torch

from mmcodec.entropy.coder import encode_groups, encode_with_tables
from mmcodec.entropy.conditional import GaussianConditional
from mmcodec.entropy.slice_coding import decode_slices, encode_slices, slice_symbols
from mmcodec.errors import ContainerError

SLICES = 3


@pytest.fixture(scope="module")
def conditional() -> GaussianConditional:
    model = GaussianConditional()
    model.update()
    return model


def parameters(index: int, decoded: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """μ and σ of slice ``index`` from the slices before it, as a channel-wise model's would be."""
    support = torch.cat([torch.zeros(1, 2, 4, 5), *decoded], dim=1)
    mu = 0.3 * support.sum(dim=1, keepdim=True).expand(1, 2, 4, 5) + 0.1 * index
    scale = 0.5 + support.abs().mean(dim=1, keepdim=True).expand(1, 2, 4, 5)
    return mu, scale, support


def predict(index: int, support: torch.Tensor, y_hat: torch.Tensor) -> torch.Tensor:
    return y_hat + 0.25 * torch.tanh(y_hat - support[:, :2])


def latents(seed: int = 0) -> list[torch.Tensor]:
    torch.manual_seed(seed)
    return list((torch.randn(1, 2 * SLICES, 4, 5) * 4).chunk(SLICES, dim=1))


def test_one_stream_decodes_slice_by_slice_to_the_encoders_latents(conditional) -> None:
    data, y_hat, residuals = encode_slices(latents(), parameters, predict, conditional, exact_scales=False)
    decoded, decoded_residuals = decode_slices(data, SLICES, parameters, predict, conditional, exact_scales=False)
    assert torch.equal(decoded, y_hat) and torch.equal(decoded_residuals, residuals)
    assert torch.equal(residuals, torch.round(residuals)) and residuals.abs().max() > 1


def test_the_decoder_needs_each_slices_context(conditional) -> None:
    """μ and σ of a slice depend on the slices decoded before it; a decoder given other
    parameters for the later slices gets other latents (or a corrupt stream), not the encoder's."""
    data, y_hat, _ = encode_slices(latents(), parameters, predict, conditional, exact_scales=False)

    def shifted(index, decoded):
        mu, scale, support = parameters(index, decoded)
        return (mu + 0.5 * (index > 0), scale, support)
    try:
        other, _ = decode_slices(data, SLICES, shifted, predict, conditional, exact_scales=False)
    except ContainerError:
        return
    assert torch.equal(other[:, :2], y_hat[:, :2]) and not torch.equal(other, y_hat)


def test_the_older_layout_of_one_stream_per_slice_decodes_alike(conditional) -> None:
    symbols, y_hat, residuals = slice_symbols(latents(1), parameters, predict, conditional, exact_scales=False)
    tables = conditional.tables()
    apart = [encode_with_tables(values, table_index, tables) for values, table_index in symbols]
    decoded, decoded_residuals = decode_slices(apart, SLICES, parameters, predict, conditional, exact_scales=False)
    assert torch.equal(decoded, y_hat) and torch.equal(decoded_residuals, residuals)
    one = encode_groups(symbols, tables)
    assert decode_slices(one, SLICES, parameters, predict, conditional, exact_scales=False)[0].equal(y_hat)


def test_wrong_counts_extra_data_and_truncation_are_refused(conditional) -> None:
    symbols, _, _ = slice_symbols(latents(2), parameters, predict, conditional, exact_scales=False)
    tables = conditional.tables()
    apart = [encode_with_tables(values, table_index, tables) for values, table_index in symbols]
    with pytest.raises(ContainerError, match="expected 3 slice streams, got 2"):
        decode_slices(apart[:2], SLICES, parameters, predict, conditional, exact_scales=False)
    extra = encode_groups(symbols + [(np.arange(40, dtype=np.int32), np.full(40, 50, np.int32))], tables)
    with pytest.raises(ContainerError, match="more data"):
        decode_slices(extra, SLICES, parameters, predict, conditional, exact_scales=False)
    with pytest.raises(ContainerError):
        decode_slices(encode_groups(symbols, tables)[:-2], SLICES, parameters, predict, conditional,
                      exact_scales=False)
