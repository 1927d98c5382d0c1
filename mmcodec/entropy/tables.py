"""Integer probability tables shared by encoder and decoder.

A :class:`PmfTables` holds ``T`` discrete distributions over consecutive integers. Table ``t``
covers the values ``offset[t] .. offset[t] + length[t] - 1`` and has one extra bin, the
*escape* bin, for every value outside that range (its probability is the tail mass). All
probabilities are integers that sum to ``2**precision`` per table, so the tables computed on
one machine and stored with the weights give bit-identical coding everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PRECISION = 16


@dataclass(frozen=True)
class PmfTables:
    """Concatenated integer PMFs. ``pmfs[starts[t] : starts[t] + lengths[t] + 1]`` is table t."""

    pmfs: np.ndarray      # int32, all tables back to back, each ending with its escape bin
    starts: np.ndarray    # int64, start of each table in ``pmfs``
    lengths: np.ndarray   # int32, number of regular (non-escape) symbols per table
    offsets: np.ndarray   # int32, value coded by the first regular symbol of each table

    @property
    def count(self) -> int:
        return int(self.lengths.shape[0])

    def table(self, index: int) -> np.ndarray:
        start = int(self.starts[index])
        return self.pmfs[start:start + int(self.lengths[index]) + 1]

    @staticmethod
    def from_float_pmfs(pmfs: list[np.ndarray], tail_masses: list[float],
                        offsets: np.ndarray) -> "PmfTables":
        """Quantise float PMFs (+ their tail mass) to integers summing to 2**PRECISION."""
        quantised = [quantise_pmf(np.append(np.asarray(p, np.float64), t))
                     for p, t in zip(pmfs, tail_masses)]
        lengths = np.array([len(q) - 1 for q in quantised], dtype=np.int32)
        starts = np.concatenate([[0], np.cumsum([len(q) for q in quantised])[:-1]]).astype(np.int64)
        return PmfTables(np.concatenate(quantised).astype(np.int32), starts, lengths,
                         np.asarray(offsets, dtype=np.int32))


def quantise_pmf(pmf: np.ndarray, precision: int = PRECISION) -> np.ndarray:
    """Integer PMF with every bin >= 1 and an exact total of ``2**precision``.

    Largest-remainder rounding of the scaled float PMF, then every empty bin borrows one
    unit from the largest bin, so each symbol (the escape bin included) stays codable.
    """
    pmf = np.clip(np.nan_to_num(pmf.astype(np.float64), nan=0.0), 0.0, None)
    total = 1 << precision
    if pmf.size > total // 2:
        raise ValueError(f"a table of {pmf.size} symbols does not fit {precision}-bit precision")
    if pmf.sum() <= 0:
        pmf = np.ones_like(pmf)
    scaled = pmf / pmf.sum() * (total - pmf.size)
    counts = np.floor(scaled).astype(np.int64)
    remainder = total - pmf.size - int(counts.sum())
    if remainder > 0:
        order = np.argsort(-(scaled - counts), kind="stable")[:remainder]
        counts[order] += 1
    counts += 1  # every bin at least 1
    assert int(counts.sum()) == total
    return counts
