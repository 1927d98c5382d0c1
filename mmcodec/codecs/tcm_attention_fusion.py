"""Attention MM-LIC-TCM: LIC-TCM whose encoder is prompted by the depth map and a λ map.

Thesis ../shared/papers/multimodal-lic-tcm-rgbd-thesis.txt, sec. 3.1.3 (figs. 22-23), after
Kao et al., arXiv 2305.10807 (prompt generation networks conditioning a Swin-transformer codec)
and Gnutti et al., arXiv 2401.06517 (a LiDAR depth map as a second prompt source; thesis
sec. 2.4.3): LIC-TCM (Liu, Sun, Katto, arXiv 2303.14978; :class:`~mmcodec.codecs.tcm.TCMCodec`)
with two prompt generation networks attached to the encoder g_a,

- p_a, fed the λ map M_λ and, as Kao et al., the image x;
- l_a, fed the depth map M_D,

whose feature maps condition g_a's TCM blocks, made Prompted TCM blocks
(:class:`~mmcodec.layers.prompted_tcm.PromptedTCMBlock`; W-MSA in stage I, SW-MSA in stage II).
The decoder-side networks p_s and l_s are omitted by design (thesis sec. 3.1.3), so the fusion is
encoder-side only: h_a, h_s, the entropy model and g_s are TCMCodec's, and decoding needs the
streams alone. The target is RGB (thesis table 4: λ ∈ {0.0025, 0.013, 0.05}, MSE).

Input, as every multimodal codec here: one tensor ``[rgb (3), depth (1)]``, target first, depth
in millimetres / 65535 (multiplied by ``depth_gain`` inside, as :mod:`.conditional_depth`);
``x_hat`` is the RGB alone (``out_channels`` = 3). M_λ is a constant map holding a trade-off
normalised to [0, 1] (:func:`prompt_lambda_for` maps the thesis's λ range 0.0025–0.05 onto it).

Rate control, both ways the papers use:

- one model per λ (the thesis, table 4): the configuration's ``prompt_lambda`` is the model's λ;
- variable rate (Kao et al., sec. 3.2; the issue's "variable rate through the λ map"): training
  with ``variable_rate: [low, high]`` (:mod:`mmcodec.train.trainer`) draws λ per image and
  passes it as ``forward(x, lmbda=...)``, each image's M_λ holding its own λ, and the loss
  weighs each image by its λ (:func:`~mmcodec.train.losses.rate_distortion_loss`). One model
  then codes at any λ in the range: :meth:`TCMAttentionFusionCodec.set_rate` picks the λ the
  encoder uses. Only the encoder sees M_λ, so the decoder needs no rate information: every
  rate decodes with the same weights, from the streams alone.

Choices the text leaves open (the figures are not in it):

- p_a and l_a (:class:`PromptGenerator`) mirror g_a's three downsamplings: per stage conv3×3/2 →
  leaky ReLU → conv3×3 (and a leaky ReLU between stages), N channels, giving a
  prompt map at the resolution and width of each stage's transformer branch (1/2, 1/4, 1/8);
- the two prompts are summed per stage (one set of prompt tokens; attention then weighs the
  depth- and λ/image-derived evidence through the shared key projection), and both TCM blocks
  of a stage take that stage's map (each block has its own prompt LayerNorm);
- prompt tokens: (window/2)² per window (``prompt_pool`` = 2), no position bias, never masked
  (see :mod:`mmcodec.layers.prompted_tcm`).

Parameters at N = 64 (``n=64``): 45,553,808, the RGB baseline's 45,180,752 plus 187,008 (p_a),
185,280 (l_a) and 768 (the six prompt LayerNorms): +0.8 %. The thesis reports 53.53 M (table
14, +8.35 M, +18 %) without describing its prompt networks; the difference is more than four
times LIC-TCM's whole g_a (2.14 M), so its prompt networks (or additions the text does not
mention) must be far larger than this reading of the text, which has not been tuned to match.
"""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..layers.prompted_tcm import PromptedTCMBlock
from ..layers.residual import ResidualBlockWithStride, conv3x3
from ..layers.tcm_block import TCMBlock
from .registry import register
from .tcm import TCMCodec
from .warm_start import grown_state

RGB_CHANNELS, DEPTH_CHANNELS = 3, 1


LAMBDA_RANGE = (0.0025, 0.05)          # the thesis's MSE λ range (table 4), M_λ = 0 … 1


def prompt_lambda_for(lmbda: float, low: float = LAMBDA_RANGE[0], high: float = LAMBDA_RANGE[1]) -> float:
    """λ normalised to [0, 1] on a log scale between ``low`` and ``high`` (the thesis's λ range,
    table 4): 0.0025 → 0, 0.013 → 0.55, 0.05 → 1; clipped outside."""
    if lmbda <= 0 or not 0 < low < high:
        raise ValueError(f"need 0 < λ and 0 < low < high, not λ={lmbda}, low={low}, high={high}")
    return min(1.0, max(0.0, math.log(lmbda / low) / math.log(high / low)))


def prompt_lambdas_for(lmbdas: torch.Tensor, low: float = LAMBDA_RANGE[0],
                       high: float = LAMBDA_RANGE[1]) -> torch.Tensor:
    """:func:`prompt_lambda_for` of every element of a tensor of λ > 0."""
    if not bool((lmbdas > 0).all()):
        raise ValueError("every λ must be > 0")
    return (torch.log(lmbdas / low) / math.log(high / low)).clamp(0.0, 1.0)


class PromptGenerator(nn.Module):
    """p_a / l_a: ``stages`` stride-2 stages (conv3×3/2 → leaky ReLU → conv3×3), one prompt map
    of ``width`` channels per stage, at 1/2, 1/4, … of the input (Kao et al., arXiv 2305.10807:
    "convolutional layers that match those of the encoder g_a")."""

    def __init__(self, in_channels: int, width: int, stages: int = 3) -> None:
        super().__init__()
        self.stages = nn.ModuleList([
            nn.Sequential(conv3x3(in_channels if k == 0 else width, width, stride=2), nn.LeakyReLU(),
                          conv3x3(width, width)) for k in range(stages)])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        prompts = []
        for k, stage in enumerate(self.stages):
            x = stage(x if k == 0 else F.leaky_relu(x))
            prompts.append(x)
        return prompts


class PromptedAnalysis(nn.Module):
    """g_a with p_a and l_a attached: ``[rgb, depth]`` → y.

    ``layers`` is LIC-TCM's g_a (RBS, TCM blocks, …, conv to M) with every TCM block made a
    :class:`PromptedTCMBlock`; a block after the k-th RBS takes prompt map k, p_a's plus l_a's.
    """

    def __init__(self, g_a: nn.Sequential, n: int, prompt_lambda: float, depth_gain: float,
                 prompt_pool: int = 2) -> None:
        super().__init__()
        self.prompt_lambda, self.depth_gain = prompt_lambda, depth_gain
        layers, stages, stage = [], [], -1
        for layer in g_a:
            if isinstance(layer, ResidualBlockWithStride):
                stage += 1
            prompted = isinstance(layer, TCMBlock)
            layers.append(PromptedTCMBlock.from_tcm_block(layer, prompt_pool) if prompted else layer)
            stages.append(stage if prompted else None)
        self.layers = nn.Sequential(*layers)
        self.stage_of = stages                       # prompt map of each layer (None: unprompted)
        self.p_a = PromptGenerator(1 + RGB_CHANNELS, n, stage + 1)
        self.l_a = PromptGenerator(DEPTH_CHANNELS, n, stage + 1)

    def prompts(self, rgb: torch.Tensor, depth: torch.Tensor) -> list[torch.Tensor]:
        """The summed prompt maps of p_a([M_λ, x]) and l_a(M_D), one per g_a stage.

        M_λ holds ``prompt_lambda``: one number for the batch, or a (B,) tensor, one per image."""
        batch, _, height, width = rgb.shape
        if isinstance(self.prompt_lambda, torch.Tensor):
            lambda_map = self.prompt_lambda.to(rgb).view(batch, 1, 1, 1).expand(batch, 1, height, width)
        else:
            lambda_map = rgb.new_full((batch, 1, height, width), self.prompt_lambda)
        image_prompts = self.p_a(torch.cat([lambda_map, rgb], dim=1))
        depth_prompts = self.l_a(depth * self.depth_gain)
        return [a + b for a, b in zip(image_prompts, depth_prompts)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != RGB_CHANNELS + DEPTH_CHANNELS:
            raise ValueError(f"expected [rgb, depth] ({RGB_CHANNELS + DEPTH_CHANNELS} channels), got {x.shape[1]}")
        rgb, depth = x[:, :RGB_CHANNELS], x[:, RGB_CHANNELS:]
        prompts = self.prompts(rgb, depth)
        h = rgb
        for layer, stage in zip(self.layers, self.stage_of):
            h = layer(h) if stage is None else layer(h, prompts[stage])
        return h


@register("mm-tcm-attention", "attention-mm-lic-tcm")
class TCMAttentionFusionCodec(TCMCodec):
    """Attention MM-LIC-TCM (RGB target): ``[rgb, depth]`` in, RGB out; depth prompts g_a only."""

    modality = "rgbd"          # input: an RGB-D stack, RGB first; output: the RGB alone
    variable_rate = True       # forward takes one λ per image (variable-rate training)

    def __init__(self, prompt_lambda: float = 0.5, depth_gain: float = 8.0, prompt_pool: int = 2,
                 **tcm_config: Any) -> None:
        fixed = {"in_channels", "out_channels"} & tcm_config.keys()
        if fixed:
            raise ValueError(f"{sorted(fixed)} are fixed (input [rgb, depth], output rgb); do not pass them")
        if not 0.0 <= prompt_lambda <= 1.0:
            raise ValueError(f"prompt_lambda is a normalised trade-off in [0, 1], not {prompt_lambda}")
        super().__init__(in_channels=RGB_CHANNELS, **tcm_config)      # g_a and g_s on RGB
        self.in_channels, self.out_channels = RGB_CHANNELS + DEPTH_CHANNELS, RGB_CHANNELS
        self.prompt_lambda, self.depth_gain, self.prompt_pool = prompt_lambda, depth_gain, prompt_pool
        self.g_a = PromptedAnalysis(self.g_a, self.n, prompt_lambda, depth_gain, prompt_pool)

    def forward(self, x: torch.Tensor, lmbda: torch.Tensor | None = None) -> dict:
        """TCMCodec's forward; ``lmbda`` (B,), if given, is each image's λ for its M_λ (in the
        λ range, see :func:`prompt_lambdas_for`), in place of the model's ``prompt_lambda``."""
        if lmbda is None:
            return super().forward(x)
        if lmbda.shape != (x.shape[0],):
            raise ValueError(f"need one λ per image: shape ({x.shape[0]},), not {tuple(lmbda.shape)}")
        self.g_a.prompt_lambda = prompt_lambdas_for(lmbda)
        try:
            return super().forward(x)
        finally:
            self.g_a.prompt_lambda = self.prompt_lambda

    def set_rate(self, lmbda: float) -> None:
        """Code at trade-off λ from now on (a model trained with ``variable_rate``: one set of
        weights, any λ in its range; the decoder needs no λ)."""
        self.prompt_lambda = self.g_a.prompt_lambda = prompt_lambda_for(lmbda)

    def load_initial_weights(self, state: dict[str, torch.Tensor]) -> None:
        """Start training from ``state``: this model's own weights, or an RGB LIC-TCM's of the same
        configuration (the thesis's RGB baseline, which it trains from scratch instead). Its g_a
        layers become the prompted blocks' (``g_a.K`` → ``g_a.layers.K``); p_a, l_a and the prompt
        LayerNorms keep their initialisation. Unlike the early-fusion model (:mod:`.warm_start`) the
        result does not compute the baseline exactly: the prompt tokens take part in every window's
        attention from the first step."""
        def renamed(key: str) -> str:   # the RGB model's g_a.K → g_a.layers.K (own keys stay)
            return "g_a.layers." + key[len("g_a."):] if key.startswith("g_a.") and key.split(".")[1].isdigit() else key

        def is_new(key: str) -> bool:
            return key.startswith(("g_a.p_a.", "g_a.l_a.")) or ".ln_prompt." in key

        state = {renamed(key): value for key, value in state.items()}
        self.load_state_dict(grown_state(self.state_dict(), state, is_new, may_grow=lambda key: False))

    def config(self) -> dict:
        config = super().config()
        config.pop("in_channels")
        config.pop("out_channels", None)
        return {"prompt_lambda": self.prompt_lambda, "depth_gain": self.depth_gain,
                "prompt_pool": self.prompt_pool, **config}
