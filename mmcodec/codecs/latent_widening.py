"""Starting a mean-scale hyperprior with a wider latent (more channels M) from a trained narrower one.

Why: a latent of M channels at 1/16 resolution carries M / 256 values per pixel. The depth models
were trained with M = 48 (0.19 values per pixel). Even without rounding y, their transforms miss
held-out depth by about 21 mm RMS, two thirds of it in errors over 100 mm at depth edges, so no λ
can take their quality past ~70 dB (``benchmarks/quantisation_step.py``), while classical codecs
reach 75–80 dB at 0.1–0.3 bpp. Image codecs widen the latent for high rates for the same reason
(M = 192 → 320 in Ballé et al., arXiv 1802.01436, and Minnen et al., arXiv 1809.02736, sec. 4).
Measured so far, it did not pay: at λ = 2048 the depth model widened to M = 192 and trained 4,000
steps reached the quality of the M = 48 model trained the same steps with 12% more bits
(``docs/design.md``, "A wider latent did not help"), and the image model of λ = 0.05 widened from
M = 128 to 192 left its 64 new channels idle through a 6,000-step CPU stage (``docs/design.md``, "A
wider latent at the high rates"). It stays as the way to start wider models from trained ones (e.g.
for longer GPU runs).

How: the widened model first computes the narrow model *exactly* (like the zero-initialised
branches of :mod:`.warm_start`), so training begins from the narrow model's quality:

- the analysis's last layer keeps the narrow rows and gets **zero** rows for the new channels, so
  the new latent channels are 0;
- the hyper-synthesis's last layer gets zero rows for the new channels' scales and means, so
  their mean is 0 and their scale is the lower bound, and ŷ = round(0 − 0) + 0 = 0 costs ≈ 0 bits;
- the hidden channels that the hyper-synthesis gains are fed by the narrow part but read by
  the narrow outputs through **zero** weights, so the old scales and means are unchanged;
- the layers that read the latent (synthesis, hyper-analysis) keep their fresh random weights for
  the new channels: those channels are 0 at first, so they change nothing, yet training can
  move them (had both sides started at 0, neither would ever receive a gradient).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch

from ..errors import ModelError


@dataclass(frozen=True)
class HyperpriorLayout:
    """State-dict prefixes of the layers that see the latent's width M.

    ``analysis_out``: the conv that emits y (out = M); ``synthesis_in``: the transposed conv that
    reads ŷ (in = M); ``hyper_in``: the conv of h_a that reads y (in = M); ``hyper_synthesis``: h_s's
    three layers, emitting M, 3M/2 and 2M (scales then means) channels."""

    analysis_out: str = "g_a.6"
    synthesis_in: str = "g_s.ups.0"
    hyper_in: str = "h_a.0"
    hyper_synthesis: tuple[str, str, str] = ("h_s.0", "h_s.2", "h_s.4")


def widened_latent_state(own: Mapping[str, torch.Tensor], source: Mapping[str, torch.Tensor],
                         layout: HyperpriorLayout = HyperpriorLayout()) -> dict[str, torch.Tensor]:
    """``own`` (the wide model's state dict, freshly initialised) with the narrow ``source`` written
    into it so that the result computes ``source``'s model exactly (see the module docstring).

    Raises :class:`ModelError` if the two differ in anything but M, or if ``source`` is not narrower."""
    if set(own) != set(source):
        differing = sorted(set(own) ^ set(source))[0]
        raise ModelError(f"initial weights differ from this model in more than the latent width ({differing})")
    widened = {f"{prefix}.{kind}" for prefix in (layout.analysis_out, layout.synthesis_in, layout.hyper_in,
                                                 *layout.hyper_synthesis) for kind in ("weight", "bias")}
    for key, value in source.items():
        if key in widened:
            continue
        if value.shape != own[key].shape and own[key].numel() != 0:
            raise ModelError(f"initial weights for {key} have shape {list(value.shape)}, not {list(own[key].shape)}")
    old_m, new_m = source[f"{layout.analysis_out}.weight"].shape[0], own[f"{layout.analysis_out}.weight"].shape[0]
    if old_m >= new_m:
        raise ModelError(f"initial weights have a latent of {old_m} channels, not fewer than this model's {new_m}")
    state = {key: value.clone() for key, value in own.items()}
    for key, value in source.items():
        if key not in widened:
            state[key] = value.clone()

    def put(key: str, value: torch.Tensor, *index: slice) -> None:
        if state[key][index].shape != value.shape:
            raise ModelError(f"initial weights for {key} have shape {list(value.shape)}, which does not fit "
                             f"a model {new_m / old_m:g}× as wide in its latent")
        state[key][index] = value

    narrow = slice(0, old_m)
    # analysis: y_old as before, y_new = 0
    out = layout.analysis_out
    state[f"{out}.weight"].zero_()
    state[f"{out}.bias"].zero_()
    put(f"{out}.weight", source[f"{out}.weight"], narrow)
    put(f"{out}.bias", source[f"{out}.bias"], narrow)
    # readers of ŷ / y: narrow input channels from the source, the new ones keep their random init
    put(f"{layout.synthesis_in}.weight", source[f"{layout.synthesis_in}.weight"], narrow)   # ConvTranspose: [in, out]
    state[f"{layout.synthesis_in}.bias"] = source[f"{layout.synthesis_in}.bias"].clone()
    put(f"{layout.hyper_in}.weight", source[f"{layout.hyper_in}.weight"], slice(None), narrow)
    state[f"{layout.hyper_in}.bias"] = source[f"{layout.hyper_in}.bias"].clone()
    # h_s: first layer (ConvTranspose [in = N, out = M]) gains output channels, fed as initialised
    first, middle, last = layout.hyper_synthesis
    put(f"{first}.weight", source[f"{first}.weight"], slice(None), narrow)
    put(f"{first}.bias", source[f"{first}.bias"], narrow)
    # middle (ConvTranspose [in = M, out = 3M/2]): the old outputs must not read the new inputs
    old_hidden = source[f"{middle}.weight"].shape[1]
    state[f"{middle}.weight"][:, :old_hidden] = 0
    put(f"{middle}.weight", source[f"{middle}.weight"], narrow, slice(0, old_hidden))
    put(f"{middle}.bias", source[f"{middle}.bias"], slice(0, old_hidden))
    # last (Conv [out = 2M (scales, means), in = 3M/2]): old rows from the source reading only the old
    # hidden channels; every new row zero (scale at its lower bound, mean 0)
    state[f"{last}.weight"].zero_()
    state[f"{last}.bias"].zero_()
    for source_rows, target_start in ((slice(0, old_m), 0), (slice(old_m, 2 * old_m), new_m)):
        rows = slice(target_start, target_start + old_m)
        put(f"{last}.weight", source[f"{last}.weight"][source_rows], rows, slice(0, old_hidden))
        put(f"{last}.bias", source[f"{last}.bias"][source_rows], rows)
    return state
