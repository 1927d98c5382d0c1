"""tanh from the four IEEE 754 operations only, so that every platform computes the same bits.

IEEE 754 rounds +, −, ×, ÷ and the square root correctly, so a computation made of them alone, in
a fixed order, gives the same result on every machine. ``exp`` and ``tanh`` are not among them:
their last bit depends on the math library (glibc, SLEEF's vectorised kernels, Apple's libm), and
latent residual prediction (Minnen & Singh, arXiv 2007.08739, sec. 4: ŷ + 0.5·tanh(·)) feeds its
result into the entropy parameters of the next slices, where one different bit can move a scale
to another table entry and break the decoding (``benchmarks/entropy_parameter_agreement.py``).

Here tanh(x) = sign(x)·(1 − 2 / (e^{2|x|} + 1)) with e^t computed by Cody–Waite range reduction,
t = k·ln 2 + r with |r| ≤ ln 2 / 2 (ln 2 split in a high part with trailing zero bits, so k·ln2_hi
is exact, and a low part), a degree-13 Taylor polynomial of e^r in Horner form (truncation below
2^-52 relative for |r| ≤ 0.35) and an exact scaling by 2^k, built from its bits. Every step is an elementwise torch
operation on float64, each one IEEE operation (torch does not fuse separate calls into FMAs).
|x| is clamped to 20, beyond which tanh is 1 in float64.
"""
from __future__ import annotations

import math

import torch

_LN2_HI = 6.93147180369123816490e-01   # ln 2's leading 32 bits (fdlibm's ln2_hi): k·_LN2_HI is exact here
_LN2_LO = 1.90821492927058770002e-10   # ln 2 − _LN2_HI
_INV_LN2 = 1.0 / math.log(2.0)
_TAYLOR = [1.0 / math.factorial(n) for n in range(13, -1, -1)]   # highest degree first, for Horner
_LARGEST = 20.0


def exact_exp(t: torch.Tensor) -> torch.Tensor:
    """e^t (float64) for 0 ≤ t ≤ 2·_LARGEST from +, −, ×, ÷ only (module docstring)."""
    k = torch.floor(t * _INV_LN2 + 0.5)
    r = (t - k * _LN2_HI) - k * _LN2_LO
    p = torch.full_like(r, _TAYLOR[0])
    for coefficient in _TAYLOR[1:]:
        p = p * r + coefficient
    power = torch.bitwise_left_shift(k.to(torch.int64) + 1023, 52).view(torch.float64)   # 2^k, exactly
    return p * power


def exact_tanh(x: torch.Tensor) -> torch.Tensor:
    """tanh of ``x`` in float64, the same bits on every platform; within 2^-50 of the true value
    (absolute error)."""
    x = x.double()
    magnitude = x.abs().clamp(max=_LARGEST)
    value = 1.0 - 2.0 / (exact_exp(2.0 * magnitude) + 1.0)
    return torch.where(x < 0, -value, value)
