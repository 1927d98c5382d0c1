"""ms2020's scale index in fixed point (arXiv 2007.08739): its table entry, found without exp."""
import torch

from mmcodec.entropy.channel_context import ScaleFromIndex, index_thresholds
from mmcodec.entropy.conditional import GaussianConditional

GRID_BITS = 14


def test_every_index_on_the_grid_lands_on_the_entry_of_its_float64_scale() -> None:
    """All 63·2^14 + 1 indices a fixed-point network can output in [0, 63]: the integer thresholds
    put each on the entry that float64 exp and ``exact_scale_indexes`` pick (no grid point lies
    within float64's error of a threshold), and that entry snaps back to itself."""
    function, conditional = ScaleFromIndex(), GaussianConditional()
    index = torch.arange(0, 63 * 2 ** GRID_BITS + 1, dtype=torch.float64) / 2 ** GRID_BITS
    exact = function.exact_table_scales(index, conditional.scale_table, GRID_BITS)
    through_exp = torch.exp(function.offset + function.factor * index)
    entries = conditional.exact_scale_indexes(exact)
    assert (entries == conditional.exact_scale_indexes(through_exp)).all()
    assert torch.equal(exact, conditional.scale_table.double()[torch.from_numpy(entries).long()])
    assert entries[0] == 0 and entries[-1] == conditional.scale_table.numel() - 1


def test_indices_outside_the_levels_are_clipped_as_in_the_float_function() -> None:
    function, conditional = ScaleFromIndex(), GaussianConditional()
    table = conditional.scale_table.double()
    index = torch.tensor([-7.5, -2.0 ** -14, 63.0 + 2.0 ** -14, 1e6], dtype=torch.float64)
    assert torch.equal(function.exact_table_scales(index, conditional.scale_table, GRID_BITS),
                       table[[0, 0, -1, -1]])


def test_thresholds_rise_with_the_table_and_follow_its_levels() -> None:
    function, conditional = ScaleFromIndex(), GaussianConditional()
    table = tuple(conditional.scale_table.double().tolist())
    thresholds = index_thresholds(table, function.scale_min, function.scale_max, function.levels, GRID_BITS)
    assert len(thresholds) == len(table) - 1
    assert all(low < high for low, high in zip(thresholds, thresholds[1:]))
    # 160 entries over the 64 levels' range: neighbouring thresholds ≈ 63/159 index units apart
    steps = [(high - low) / 2 ** GRID_BITS for low, high in zip(thresholds, thresholds[1:])]
    assert all(abs(step - 63 / 159) < 1e-3 for step in steps)
