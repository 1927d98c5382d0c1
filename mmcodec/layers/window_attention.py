"""Window multi-head self-attention (W-MSA) and its shifted-window form (SW-MSA).

The attention of the SwinT branch of the TCM block of LIC-TCM: Liu, Sun, Katto, "Learned Image
Compression with Mixed Transformer-CNN Architectures", arXiv 2303.14978, sec. 3.2 and fig. 2
(right: "W-MSA" in stage I, "SW-MSA" in stage II), which takes it from Swin Transformer (Liu et
al., arXiv 2103.14030, sec. 3.2, eq. 4):

    Attention(Q, K, V) = SoftMax(Q Kᵀ / √d + B) V

evaluated independently inside non-overlapping M × M windows, with B an M² × M² relative
position bias gathered from a learned (2M − 1) × (2M − 1) table per head. The shifted form rolls
the map by ⌊M/2⌋ pixels up and left before partitioning (and back afterwards), and masks the
query/key pairs of a window that come from different regions of the unrolled map, so that no
token attends across the wrap-around (arXiv 2103.14030, fig. 4).

Parameter names follow the official LIC-TCM code (``WMSA``: ``embedding_layer``, ``linear``,
``relative_position_params`` of shape (heads, 2M − 1, 2M − 1)), so its weights map one to one.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def window_partition(x: torch.Tensor, window: int) -> torch.Tensor:
    """(B, H, W, C) → (B, windows, window², C), windows in raster order, tokens in raster order."""
    b, h, w, c = x.shape
    x = x.view(b, h // window, window, w // window, window, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(b, (h // window) * (w // window), window * window, c)


def window_merge(x: torch.Tensor, window: int, height: int, width: int) -> torch.Tensor:
    """Inverse of :func:`window_partition`: (B, windows, window², C) → (B, H, W, C)."""
    b, _, _, c = x.shape
    x = x.view(b, height // window, width // window, window, window, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(b, height, width, c)


def relative_position_index(window: int) -> torch.Tensor:
    """(window², window², 2) offsets (Δrow, Δcol) + window − 1 into the (2M−1)² bias table."""
    rows, cols = torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")
    coords = torch.stack([rows.flatten(), cols.flatten()], dim=-1)  # token p → (row, col)
    return coords[:, None, :] - coords[None, :, :] + window - 1


def shifted_window_mask(row_windows: int, col_windows: int, window: int, shift: int,
                        device: torch.device | None = None) -> torch.Tensor:
    """(windows, window², window²) boolean mask, True where a query may NOT see a key.

    After rolling by ``shift``, only the last row and the last column of windows hold pixels
    from two regions: the first ``window − shift`` rows (columns) of such a window come from the
    bottom (right) of the map and the others from its top (left) (as the official code).
    """
    mask = torch.zeros(row_windows, col_windows, window, window, window, window, dtype=torch.bool,
                       device=device)
    s = window - shift
    mask[-1, :, :s, :, s:, :] = True
    mask[-1, :, s:, :, :s, :] = True
    mask[:, -1, :, :s, :, s:] = True
    mask[:, -1, :, s:, :, :s] = True
    return mask.reshape(row_windows * col_windows, window * window, window * window)


class WindowAttention(nn.Module):
    """W-MSA (``shifted=False``) or SW-MSA (``shifted=True``) on a (B, H, W, C) map.

    ``dim // head_dim`` heads of width ``head_dim``; H and W must be multiples of ``window``.
    """

    def __init__(self, dim: int, head_dim: int, window: int, shifted: bool = False,
                 out_dim: int | None = None) -> None:
        super().__init__()
        if dim % head_dim:
            raise ValueError(f"attention width {dim} is not a multiple of the head width {head_dim}")
        self.dim, self.head_dim, self.window, self.shifted = dim, head_dim, window, shifted
        self.heads = dim // head_dim
        self.scale = head_dim ** -0.5
        self.embedding_layer = nn.Linear(dim, 3 * dim)
        self.linear = nn.Linear(dim, out_dim or dim)
        table = torch.zeros(self.heads, 2 * window - 1, 2 * window - 1)
        nn.init.trunc_normal_(table, std=0.02)
        self.relative_position_params = nn.Parameter(table)
        self.register_buffer("position_index", relative_position_index(window), persistent=False)

    def relative_bias(self) -> torch.Tensor:
        """B for every head: (heads, window², window²)."""
        index = self.position_index
        return self.relative_position_params[:, index[..., 0], index[..., 1]]

    def check_windows(self, height: int, width: int) -> None:
        if height % self.window or width % self.window:
            m = self.window
            raise ValueError(f"a {height}×{width} map is not a whole number of {m}×{m} windows")

    # The steps around the attention itself, shared with its fixed-point form
    # (:mod:`mmcodec.layers.fixed_point_modules`).
    def windows(self, x: torch.Tensor) -> torch.Tensor:
        """(B, H, W, C) → the tokens of its windows, (B, nW, P, C), rolled first for SW-MSA."""
        self.check_windows(x.shape[1], x.shape[2])
        if self.shifted:
            x = torch.roll(x, shifts=(-(self.window // 2), -(self.window // 2)), dims=(1, 2))
        return window_partition(x, self.window)

    def unwindows(self, tokens: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """Inverse of :meth:`windows`: (B, nW, P, C) → (B, H, W, C), rolled back for SW-MSA."""
        out = window_merge(tokens, self.window, height, width)
        if self.shifted:
            out = torch.roll(out, shifts=(self.window // 2, self.window // 2), dims=(1, 2))
        return out

    def window_mask(self, height: int, width: int, device: torch.device) -> torch.Tensor | None:
        """SW-MSA's mask of the query/key pairs that the roll brought together (None for W-MSA)."""
        if not self.shifted:
            return None
        m = self.window
        return shifted_window_mask(height // m, width // m, m, m // 2, device)

    def split_heads(self, projected: torch.Tensor, parts: int) -> tuple[torch.Tensor, ...]:
        """(B, nW, P, parts·C) projections → ``parts`` tensors (heads, B, nW, P, d): q, k, v or k, v."""
        b, nw, p = projected.shape[:3]
        return projected.view(b, nw, p, parts * self.heads, self.head_dim).permute(3, 0, 1, 2, 4).chunk(parts, dim=0)

    def join_heads(self, out: torch.Tensor) -> torch.Tensor:
        """(heads, B, nW, P, d) → (B, nW, P, heads·d)."""
        _, b, nw, p, _ = out.shape
        return out.permute(1, 2, 3, 0, 4).reshape(b, nw, p, self.heads * self.head_dim)

    def forward(self, x: torch.Tensor, prefix: torch.Tensor | None = None) -> torch.Tensor:
        """Attention within each (shifted) window of ``x``.

        ``prefix`` (B, windows, Q, C), optional: tokens that every window's queries also attend
        to, prepended to its keys and values through the same projection, with no position bias
        and never masked (the prompt tokens of
        :class:`~mmcodec.layers.prompted_tcm.PromptedWindowAttention`); the output keeps the
        image token count.
        """
        _, h, w, _ = x.shape
        q, k, v = self.split_heads(self.embedding_layer(self.windows(x)), 3)   # (heads, B, nW, P, d) each
        bias = self.relative_bias()
        mask = self.window_mask(h, w, x.device)
        if prefix is not None:
            n = prefix.shape[2]
            # the prefix's keys and values: the same projection, without the (unused) query rows
            kv = F.linear(prefix, self.embedding_layer.weight[self.dim:], self.embedding_layer.bias[self.dim:])
            prefix_k, prefix_v = self.split_heads(kv, 2)
            k, v = torch.cat([prefix_k, k], dim=-2), torch.cat([prefix_v, v], dim=-2)
            bias = F.pad(bias, (n, 0))                                    # no bias on prefix keys
            mask = None if mask is None else F.pad(mask, (n, 0), value=False)   # prefix keys never masked
        bias = bias[:, None, None]                                        # (heads, 1, 1, P, keys)
        if mask is not None:
            bias = bias.masked_fill(mask, float("-inf"))
        if self.training:   # the same function through torch's fused kernel, faster to train
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, scale=self.scale)
        else:               # coding: the explicit form, whose results the decoder reproduces
            sim = torch.matmul(q, k.transpose(-1, -2)) * self.scale + bias
            out = torch.matmul(sim.softmax(dim=-1), v)                     # (heads, B, nW, P, d)
        return self.unwindows(self.linear(self.join_heads(out)), h, w)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, heads={self.heads}, window={self.window}, shifted={self.shifted}"
