"""The thesis's depth distortion ("comprehensive similarity"): γ·L1 + L_grad + (1 − MS-SSIM).

Multimodal LIC-TCM RGB-D thesis, section 3.4.4, eqs. 21–24, after Alhashim & Wonka, "High
Quality Monocular Depth Estimation via Transfer Learning" (arXiv 1812.11941, eq. 1–4), with
the SSIM term replaced by MS-SSIM (Wang et al. 2003) as the thesis does (eq. 24); γ = 0.1
(thesis Table 3).

Depth holes (reference value 0, no measurement) are excluded: the L1 and gradient terms are
averaged over valid pixels only. One implementation serves as the training loss and as the
evaluation metric (``mmcodec.evaluate.depth_metrics``).
"""
from __future__ import annotations

import torch
from pytorch_msssim import ms_ssim
from pytorch_msssim.ssim import _fspecial_gauss_1d, _ssim

MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)   # Wang et al. 2003, five scales
SSIM_WINDOW = 11


def ms_ssim_scales(short_side: int) -> int:
    """How many MS-SSIM scales fit: scale k needs side > 10·2^(k−1) (an 11-px window at the
    coarsest scale); five (the standard) from 161 px up, 0 below 11 px."""
    scales = 0
    while scales < len(MS_SSIM_WEIGHTS) and short_side > (SSIM_WINDOW - 1) * 2 ** scales:
        scales += 1
    return scales


def multiscale_ssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """MS-SSIM with ``data_range=1`` averaged over the batch, differentiable.

    At ≥ 161 px on the short side this is ``pytorch_msssim.ms_ssim`` (five scales). Smaller
    inputs use the first k scales that fit (``ms_ssim_scales``) with the first k standard
    weights renormalised to sum to 1, following the same recipe (pytorch_msssim's own
    ``ms_ssim`` refuses them outright).
    """
    short_side = min(x.shape[-2:])
    scales = ms_ssim_scales(short_side)
    if scales == len(MS_SSIM_WEIGHTS):
        return ms_ssim(x, y, data_range=1.0)
    if scales == 0:
        raise ValueError(f"MS-SSIM needs at least {SSIM_WINDOW} px on the short side, got {short_side}")
    total = sum(MS_SSIM_WEIGHTS[:scales])
    weights = x.new_tensor([w / total for w in MS_SSIM_WEIGHTS[:scales]])
    window = _fspecial_gauss_1d(SSIM_WINDOW, 1.5).repeat([x.shape[1], 1, 1, 1])
    factors = []
    for scale in range(scales):
        ssim_per_channel, cs = _ssim(x, y, data_range=1.0, win=window, size_average=False)
        if scale < scales - 1:
            factors.append(torch.relu(cs))
            padding = [s % 2 for s in x.shape[2:]]
            x = torch.nn.functional.avg_pool2d(x, kernel_size=2, padding=padding)
            y = torch.nn.functional.avg_pool2d(y, kernel_size=2, padding=padding)
    factors.append(torch.relu(ssim_per_channel))
    return torch.prod(torch.stack(factors) ** weights.view(-1, 1, 1), dim=0).mean()


def _masked_mean(values: torch.Tensor, mask: torch.Tensor, count: torch.Tensor) -> torch.Tensor:
    return (values * mask).sum() / count.clamp(min=1)


def comprehensive_similarity_loss(x: torch.Tensor, x_hat: torch.Tensor, valid: torch.Tensor | None = None,
                                  gamma: float = 0.1) -> torch.Tensor:
    """Eq. 24 of the thesis: γ·L_depth + L_grad + (1 − MS-SSIM), on N×C×H×W maps in [0, 1].

    - L_depth (eq. 22): mean |x − x̂| over valid pixels.
    - L_grad (eq. 23): g_x, g_y are the differences between the two maps' horizontal and
      vertical forward differences; a difference counts only where both of its pixels are
      valid. (Σ|g_x| + Σ|g_y|) is divided by the number of valid pixels, which with no holes
      is exactly Alhashim & Wonka's mean of |g_x| + |g_y| (zero-padded image gradients).
    - MS-SSIM: windows cannot skip holes, so it compares x with x̂·valid + x·(1 − valid),
      i.e. x̂ with its hole pixels replaced by x's values (holes then agree exactly).

    ``valid`` (bool, the shape of x) defaults to every pixel. Holes are excluded from every
    term. Returns a differentiable scalar; 0 for identical maps.
    """
    if x.shape != x_hat.shape:
        raise ValueError(f"shape mismatch {tuple(x.shape)} vs {tuple(x_hat.shape)}")
    mask = torch.ones_like(x) if valid is None else valid.to(x.dtype)
    l1 = _masked_mean((x - x_hat).abs(), mask, mask.sum())

    diff = x - x_hat
    g_x = diff[..., :, 1:] - diff[..., :, :-1]        # = (x_{p+1} − x_p) − (x̂_{p+1} − x̂_p)
    g_y = diff[..., 1:, :] - diff[..., :-1, :]
    mask_x = mask[..., :, 1:] * mask[..., :, :-1]
    mask_y = mask[..., 1:, :] * mask[..., :-1, :]
    gradient = ((g_x.abs() * mask_x).sum() + (g_y.abs() * mask_y).sum()) / mask.sum().clamp(min=1)

    filled = x_hat * mask + x * (1 - mask)
    structure = 1.0 - multiscale_ssim(x, filled)
    return gamma * l1 + gradient + structure
