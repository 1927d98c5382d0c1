"""Entropy coding of integer arrays with ``constriction``'s ANS coder.

No per-symbol Python: symbols are grouped by the table that codes them and each group is one
vectorised ``encode_reverse`` call. Values outside a table's range are coded as the table's
escape symbol followed by the value itself (zig-zag, two 16-bit uniform halves), so any int32
survives losslessly. The ANS coder is a stack: what is pushed last is popped first, so the
encoder pushes escapes, then the groups in reverse order; the decoder pops the groups in order,
then the escapes. :func:`encode_groups` puts several such arrays in one stream, for latents whose
later parts are coded with tables that the decoder learns from the earlier ones.
"""
from __future__ import annotations

import constriction
import numpy as np

from ..errors import ContainerError
from .tables import PmfTables

_Categorical = constriction.stream.model.Categorical
_HALF = constriction.stream.model.Uniform(1 << 16)


def _zigzag(values: np.ndarray) -> np.ndarray:
    v = values.astype(np.int64)
    return np.where(v >= 0, 2 * v, -2 * v - 1).astype(np.uint32)


def _unzigzag(values: np.ndarray) -> np.ndarray:
    v = values.astype(np.int64)
    return np.where(v % 2 == 0, v // 2, -(v + 1) // 2).astype(np.int32)


def _model(tables: PmfTables, index: int):
    return _Categorical(tables.table(index).astype(np.float64), perfect=False)


def _push(coder: "constriction.stream.stack.AnsCoder", values: np.ndarray, table_index: np.ndarray,
          tables: PmfTables) -> None:
    """Push int ``values`` (``values[i]`` with table ``table_index[i]``) onto ``coder``: the escapes
    first, then the symbols grouped by table, last table first, so that :func:`_pop` gets them back."""
    values = np.ascontiguousarray(values, dtype=np.int32).ravel()
    table_index = np.ascontiguousarray(table_index, dtype=np.int32).ravel()
    if values.shape != table_index.shape:
        raise ValueError("values and table_index must have the same size")
    symbols = values.astype(np.int64) - tables.offsets[table_index]
    lengths = tables.lengths[table_index]
    escaped = (symbols < 0) | (symbols >= lengths)
    symbols = np.where(escaped, lengths, symbols).astype(np.int32)
    escape_values = _zigzag(values[escaped])
    if escape_values.size:
        coder.encode_reverse((escape_values >> 16).astype(np.int32), _HALF)
        coder.encode_reverse((escape_values & 0xFFFF).astype(np.int32), _HALF)
    order = np.argsort(table_index, kind="stable")
    used, first = np.unique(table_index[order], return_index=True)
    bounds = np.append(first, order.size)
    for k in range(used.size - 1, -1, -1):
        members = order[bounds[k]:bounds[k + 1]]
        coder.encode_reverse(symbols[members], _model(tables, int(used[k])))


def _pop(coder: "constriction.stream.stack.AnsCoder", table_index: np.ndarray, tables: PmfTables) -> np.ndarray:
    """Inverse of :func:`_push`; ``table_index`` must be the encoder's. Raises ContainerError."""
    table_index = np.ascontiguousarray(table_index, dtype=np.int32).ravel()
    symbols = np.empty(table_index.size, dtype=np.int32)
    order = np.argsort(table_index, kind="stable")
    used, first = np.unique(table_index[order], return_index=True)
    bounds = np.append(first, order.size)
    try:
        for k in range(used.size):
            members = order[bounds[k]:bounds[k + 1]]
            symbols[members] = coder.decode(_model(tables, int(used[k])), members.size)
        lengths = tables.lengths[table_index]
        escaped = symbols == lengths
        values = symbols.astype(np.int64) + tables.offsets[table_index]
        n_escaped = int(escaped.sum())
        if n_escaped:
            low = coder.decode(_HALF, n_escaped).astype(np.uint32)
            high = coder.decode(_HALF, n_escaped).astype(np.uint32)
            values[escaped] = _unzigzag((high << 16) | low)
    except ContainerError:
        raise
    except Exception as exc:
        raise ContainerError(f"entropy-coded stream is corrupt ({exc})") from None
    return values.astype(np.int32)


def _stream_coder(data: bytes) -> "constriction.stream.stack.AnsCoder":
    if len(data) % 4:
        raise ContainerError("entropy-coded stream length is not a multiple of 4 bytes")
    words = np.frombuffer(data, dtype="<u4").astype(np.uint32)
    try:
        return constriction.stream.stack.AnsCoder(words)
    except Exception as exc:  # constriction rejects some corrupt words outright
        raise ContainerError(f"entropy-coded stream is corrupt ({exc})") from None


def encode_with_tables(values: np.ndarray, table_index: np.ndarray, tables: PmfTables) -> bytes:
    """Encode int ``values`` where ``values[i]`` is coded with table ``table_index[i]``."""
    coder = constriction.stream.stack.AnsCoder()
    _push(coder, values, table_index, tables)
    return coder.get_compressed().astype("<u4").tobytes()


def decode_with_tables(data: bytes, table_index: np.ndarray, tables: PmfTables) -> np.ndarray:
    """Inverse of :func:`encode_with_tables`; ``table_index`` must be the encoder's."""
    return _pop(_stream_coder(data), table_index, tables)


def encode_groups(groups: list[tuple[np.ndarray, np.ndarray]], tables: PmfTables) -> bytes:
    """One stream for several groups of ``(values, table_index)``, decoded in their order by
    :class:`GroupDecoder`: the groups are pushed last first, so group 0 is on top of the stack.

    For latents whose later parts are coded with tables that depend on the earlier ones once
    decoded (the slices of a channel-wise model, arXiv 2007.08739 sec. 3): the encoder knows every
    group's tables, the decoder learns group k's only after decoding groups 0 … k−1, and one stream
    costs one coder flush and one container entry instead of one per group."""
    coder = constriction.stream.stack.AnsCoder()
    for values, table_index in reversed(groups):
        _push(coder, values, table_index, tables)
    return coder.get_compressed().astype("<u4").tobytes()


class GroupDecoder:
    """Decodes a stream of :func:`encode_groups` one group at a time (each ``decode`` with the
    table indices of the next group, as the encoder had them); :meth:`finish` checks that nothing
    is left."""

    def __init__(self, data: bytes) -> None:
        self._coder = _stream_coder(data)

    def decode(self, table_index: np.ndarray, tables: PmfTables) -> np.ndarray:
        return _pop(self._coder, table_index, tables)

    def finish(self) -> None:
        """Raises ContainerError if the stream holds more than the groups decoded."""
        if not self._coder.is_empty():
            raise ContainerError("entropy-coded stream holds more data than its latents")
