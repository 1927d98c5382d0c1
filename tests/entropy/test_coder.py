"""Entropy coder: encode → decode is the identity for any tables and symbols, escapes included."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmcodec.entropy.coder import GroupDecoder, decode_with_tables, encode_groups, encode_with_tables
from mmcodec.entropy.tables import PRECISION, PmfTables, quantise_pmf
from mmcodec.errors import ContainerError


def random_tables(rng: np.random.Generator, count: int) -> PmfTables:
    pmfs = [rng.random(int(rng.integers(1, 60))) ** 3 for _ in range(count)]
    tails = list(rng.random(count) * 1e-3)
    return PmfTables.from_float_pmfs(pmfs, tails, rng.integers(-40, 10, count))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 20), size=st.integers(0, 3000),
       spread=st.sampled_from([5, 50, 2**20, 2**31 - 1]))
def test_round_trip_is_identity(seed: int, count: int, size: int, spread: int) -> None:
    rng = np.random.default_rng(seed)
    tables = random_tables(rng, count)
    index = rng.integers(0, count, size).astype(np.int32)
    values = rng.integers(-spread, spread, size, endpoint=False).astype(np.int32)
    data = encode_with_tables(values, index, tables)
    np.testing.assert_array_equal(decode_with_tables(data, index, tables), values)


def test_extreme_int32_values_survive() -> None:
    tables = random_tables(np.random.default_rng(1), 3)
    values = np.array([2**31 - 1, -2**31, 0, 1, -1], dtype=np.int32)
    index = np.array([0, 1, 2, 0, 1], dtype=np.int32)
    np.testing.assert_array_equal(decode_with_tables(encode_with_tables(values, index, tables), index, tables), values)


def test_quantised_pmf_is_exact_and_positive() -> None:
    counts = quantise_pmf(np.array([0.0, 1e-12, 0.5, 0.5, 0.0]))
    assert counts.sum() == 1 << PRECISION and counts.min() >= 1


def test_rate_is_close_to_the_table_entropy() -> None:
    rng = np.random.default_rng(3)
    p = np.exp(-0.5 * (np.arange(-20, 21) / 4.0) ** 2)
    tables = PmfTables.from_float_pmfs([p], [1e-6], np.array([-20]))
    q = tables.table(0)[:-1] / (1 << PRECISION)
    values = rng.choice(np.arange(-20, 21), size=200_000, p=q / q.sum()).astype(np.int32)
    index = np.zeros_like(values)
    bits = 8 * len(encode_with_tables(values, index, tables))
    ideal = -np.log2(tables.table(0)[values + 20] / (1 << PRECISION)).sum()
    assert ideal <= bits <= ideal * 1.001 + 64


def test_corrupt_stream_length_is_reported() -> None:
    tables = random_tables(np.random.default_rng(2), 2)
    with pytest.raises(ContainerError):
        decode_with_tables(b"\x01\x02\x03", np.zeros(10, np.int32), tables)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 12),
       sizes=st.lists(st.integers(0, 800), min_size=1, max_size=5), spread=st.sampled_from([5, 50, 2**31 - 1]))
def test_groups_in_one_stream_decode_in_their_order(seed: int, count: int, sizes: list[int], spread: int) -> None:
    rng = np.random.default_rng(seed)
    tables = random_tables(rng, count)
    groups = [(rng.integers(-spread, spread, size).astype(np.int32), rng.integers(0, count, size).astype(np.int32))
              for size in sizes]
    decoder = GroupDecoder(encode_groups(groups, tables))
    for values, index in groups:
        np.testing.assert_array_equal(decoder.decode(index, tables), values)
    decoder.finish()


def test_one_group_is_the_plain_stream_and_the_stream_is_shorter_than_the_groups_apart() -> None:
    """Values inside the tables (escapes are rare in latents; each costs 32 bits either way, except
    that an empty coder takes zero-valued symbols for free, which only a stream's first group has)."""
    rng = np.random.default_rng(3)
    tables = random_tables(rng, 6)

    def group(size: int) -> tuple[np.ndarray, np.ndarray]:
        index = rng.integers(0, 6, size).astype(np.int32)
        return (tables.offsets[index] + rng.integers(0, tables.lengths[index])).astype(np.int32), index

    groups = [group(500) for _ in range(4)]
    assert encode_groups(groups[:1], tables) == encode_with_tables(*groups[0], tables)
    apart = sum(len(encode_with_tables(values, index, tables)) for values, index in groups)
    assert len(encode_groups(groups, tables)) < apart      # one flush instead of four


def test_a_group_stream_refuses_leftovers_and_corruption_in_one_line() -> None:
    rng = np.random.default_rng(4)
    tables = random_tables(rng, 4)
    groups = [(rng.integers(-9, 9, 300).astype(np.int32), rng.integers(0, 4, 300).astype(np.int32)) for _ in range(2)]
    decoder = GroupDecoder(encode_groups(groups, tables))
    decoder.decode(groups[0][1], tables)
    with pytest.raises(ContainerError, match="more data"):
        decoder.finish()                                     # the second group was never decoded
    with pytest.raises(ContainerError, match="multiple of 4"):
        GroupDecoder(b"\x01\x02\x03")
