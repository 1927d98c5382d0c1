"""Prompted window attention and the Prompted TCM block.

The thesis ../shared/papers/multimodal-lic-tcm-rgbd-thesis.txt, sec. 3.1.3 (fig. 22),
augments the TCM block of LIC-TCM (Liu, Sun, Katto, arXiv 2303.14978, sec. 3.2;
:class:`~mmcodec.layers.tcm_block.TCMBlock`) to accept *prompt tokens* besides the image tokens,
after the prompted Swin transformer block (P-STB) of Kao et al., "Transformer-based
variable-rate image compression with region-of-interest control", arXiv 2305.10807 (reproduced
as the thesis's fig. 18), which Gnutti et al., arXiv 2401.06517, reuse for LiDAR depth prompts,
and which follows Visual Prompt Tuning (Jia et al., arXiv 2203.12119):

- image tokens and prompt tokens go through their own LayerNorms (``ln1`` and ``ln_prompt``);
- in every attention window, the window's prompt tokens are *prepended* to its image tokens
  as keys and values; the queries are the image tokens only, so the output keeps the image
  token count (the prompt tokens condition the block and are not updated, as in the P-STB,
  where the prompts of each layer come from the prompt network, not from the previous layer);
- stage I of a TCM pair uses W-MSA, stage II SW-MSA (thesis sec. 3.1.3).

Choices the papers leave open, made here:

- **prompt token count**: a prompt map at the block's resolution is average-pooled by
  ``prompt_pool`` (2) before tokenising, so a window of M × M image tokens has (M/2)² prompt
  tokens (16 for LIC-TCM's M = 8), fewer prompt tokens than image tokens as Kao et al. (their
  prompt windows are smaller than the image windows, to save computation); the pooled map is
  partitioned into (M/2) × (M/2) windows that cover the same pixels as the image windows;
- **projections**: the prompt tokens share the block's key / value projection
  (``embedding_layer``), as prompts prepended to a standard attention layer (VPT, P-STB); the
  only new parameters of a Prompted TCM block are ``ln_prompt``'s;
- **position bias**: the relative position bias B applies to image–image pairs only; image–
  prompt pairs get no bias (no learned table for them), so positional information of the
  prompts comes from the prompt network's convolutions;
- **shifted windows**: the prompt map is rolled with the image (by ⌊M/2⌋ / ``prompt_pool``),
  so each shifted window holds the prompts of its own pixels; the shifted-window mask applies to
  image–image pairs only and never blocks a prompt token: in a wrap-around window every image
  token sees all the window's prompts, also those of the pixels rolled in from the opposite
  border (prompts condition the attention; they are not neighbours whose mixing the mask is
  there to prevent).

With no prompt (``prompt=None``) both modules compute exactly what their unprompted
counterparts compute with the same weights (``PromptedTCMBlock.from_tcm_block``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .swin import DropPath
from .tcm_block import TCMBlock
from .window_attention import WindowAttention, window_partition


class PromptedWindowAttention(WindowAttention):
    """W-MSA / SW-MSA on a (B, H, W, C) map whose keys and values also hold prompt tokens.

    ``prompt`` is a (B, H/r, W/r, C) map, r dividing the window (and, shifted, the shift ⌊M/2⌋):
    window k of the image sees the (M/r)² prompt tokens covering the same pixels, prepended.
    Parameters are :class:`~mmcodec.layers.window_attention.WindowAttention`'s, unchanged.
    """

    def prompt_ratio(self, height: int, width: int, prompt: torch.Tensor) -> int:
        """r, the factor by which ``prompt`` is smaller than the image map (checked)."""
        ph, pw = prompt.shape[1:3]
        r = height // ph if ph else 0
        if r < 1 or ph * r != height or pw * r != width or prompt.shape[-1] != self.dim:
            raise ValueError(f"a prompt of shape {tuple(prompt.shape)} does not fit a {height}×{width}×{self.dim} map")
        if self.window % r or (self.shifted and (self.window // 2) % r):
            raise ValueError(f"a prompt at 1/{r} of the map does not tile {self.window}-pixel windows "
                             f"{'shifted by ' + str(self.window // 2) if self.shifted else ''}")
        return r

    def forward(self, x: torch.Tensor, prompt: torch.Tensor | None = None) -> torch.Tensor:
        if prompt is None:                                                # no prompt: plain (S)W-MSA
            return super().forward(x)
        h, w = x.shape[1:3]
        self.check_windows(h, w)
        r = self.prompt_ratio(h, w, prompt)
        if self.shifted:
            shift = self.window // 2
            prompt = torch.roll(prompt, shifts=(-(shift // r), -(shift // r)), dims=(1, 2))
        return super().forward(x, prefix=window_partition(prompt, self.window // r))   # (B, nW, Q, C)


class PromptedSwinTransformerBlock(nn.Module):
    """A Swin block (pre-norm MSA and MLP, as :class:`~mmcodec.layers.swin.SwinTransformerBlock`,
    same parameter names) whose attention also sees prompt tokens, normalised by ``ln_prompt``."""

    def __init__(self, dim: int, head_dim: int, window: int, shifted: bool = False, drop_path: float = 0.0) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.msa = PromptedWindowAttention(dim, head_dim, window, shifted)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
        self.ln_prompt = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, prompt: torch.Tensor | None = None) -> torch.Tensor:
        """``x``: (B, H, W, C); ``prompt``: (B, H/r, W/r, C) or None."""
        tokens = self.ln_prompt(prompt) if prompt is not None else None
        x = x + self.drop_path(self.msa(self.ln1(x), tokens))
        return x + self.drop_path(self.mlp(self.ln2(x)))


class PromptedTCMBlock(TCMBlock):
    """Prompted TCM (thesis fig. 22): a TCM block whose SwinT branch takes prompt tokens.

    ``forward(x, prompt)``: ``x`` (B, conv_dim + trans_dim, H, W); ``prompt`` (B, trans_dim, H, W)
    at the block's resolution (or None), average-pooled by ``prompt_pool`` into
    (window / prompt_pool)² tokens per window. The CNN branch is the TCM block's, unchanged.
    """

    def __init__(self, conv_dim: int, trans_dim: int, head_dim: int, window: int, drop_path: float = 0.0,
                 shifted: bool = False, prompt_pool: int = 2) -> None:
        if prompt_pool < 1 or window % prompt_pool or (shifted and (window // 2) % prompt_pool):
            raise ValueError(f"prompt_pool {prompt_pool} must divide the window {window}"
                             f"{' and its shift ' + str(window // 2) if shifted else ''}")
        super().__init__(conv_dim, trans_dim, head_dim, window, drop_path, shifted)
        self.prompt_pool = prompt_pool
        self.trans_block = PromptedSwinTransformerBlock(trans_dim, head_dim, window, shifted, drop_path)

    @classmethod
    def from_tcm_block(cls, block: TCMBlock, prompt_pool: int = 2) -> PromptedTCMBlock:
        """The prompted form of ``block``: same hyperparameters, its weights copied (``ln_prompt`` new)."""
        msa = block.trans_block.msa
        drop = block.trans_block.drop_path
        prompted = cls(block.conv_dim, block.trans_dim, msa.head_dim, msa.window,
                       drop.p if isinstance(drop, DropPath) else 0.0, msa.shifted, prompt_pool)
        missing, unexpected = prompted.load_state_dict(block.state_dict(), strict=False)
        assert not unexpected and all(".ln_prompt." in key for key in missing), (missing, unexpected)
        return prompted

    def forward(self, x: torch.Tensor, prompt: torch.Tensor | None = None) -> torch.Tensor:
        conv_x, trans_x = torch.split(self.conv1_1(x), (self.conv_dim, self.trans_dim), dim=1)
        conv_x = self.conv_block(conv_x) + conv_x
        tokens = None
        if prompt is not None:
            if prompt.shape[1] != self.trans_dim or prompt.shape[-2:] != x.shape[-2:]:
                raise ValueError(f"a prompt of shape {tuple(prompt.shape)} does not fit a block input "
                                 f"{tuple(x.shape)} with a {self.trans_dim}-channel transformer branch")
            if self.prompt_pool > 1:
                prompt = F.avg_pool2d(prompt, self.prompt_pool)
            tokens = prompt.permute(0, 2, 3, 1)
        trans_x = self.trans_block(trans_x.permute(0, 2, 3, 1), tokens).permute(0, 3, 1, 2)
        return x + self.conv1_2(torch.cat((conv_x, trans_x), dim=1))
