"""Base class of entropy models whose coding uses integer tables kept in the state dict."""
from __future__ import annotations

import torch
from torch import nn

from .tables import PmfTables

_BUFFERS = ("table_pmfs", "table_starts", "table_lengths", "table_offsets")
_DTYPES = (torch.int32, torch.int64, torch.int32, torch.int32)


class TabledEntropyModel(nn.Module):
    """Holds a :class:`PmfTables` as buffers (saved with the weights, any size on load).

    Subclasses implement ``update()`` (build the tables, then :meth:`_store_tables`) and
    ``_table_count()`` (how many tables a complete set has).
    """

    def __init__(self) -> None:
        super().__init__()
        for name, dtype in zip(_BUFFERS, _DTYPES):
            self.register_buffer(name, torch.zeros(0, dtype=dtype))

    def update(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _table_count(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def _store_tables(self, tables: PmfTables) -> None:
        for name, array in zip(_BUFFERS, (tables.pmfs, tables.starts, tables.lengths, tables.offsets)):
            setattr(self, name, torch.from_numpy(array.copy()))

    def tables(self) -> PmfTables:
        """The coding tables; built on first use if the weights carried none."""
        if self.table_lengths.numel() != self._table_count():
            self.update()
        return PmfTables(self.table_pmfs.numpy(), self.table_starts.numpy(),
                         self.table_lengths.numpy(), self.table_offsets.numpy())

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):  # type: ignore[override]
        # tables (and any other buffer of data-dependent size) take the saved size
        for name, buffer in list(self._buffers.items()):
            key = prefix + name
            if buffer is not None and key in state_dict and state_dict[key].shape != buffer.shape:
                setattr(self, name, torch.empty_like(state_dict[key]))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
