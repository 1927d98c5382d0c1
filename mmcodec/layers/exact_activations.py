"""GELU and the logistic sigmoid from the four IEEE 754 operations only (the same bits everywhere).

LIC-TCM (Liu, Sun, Katto, arXiv 2303.14978) sets its entropy parameters with networks that use
GELU (the slice transforms, sec. 3.3, and the MLPs of its Swin blocks) and a sigmoid (the gate of
SWAtten, fig. 4). Their library versions (``erf``, ``exp``) may differ in the last bit between math
libraries, and a fixed-point copy of those networks (:mod:`mmcodec.layers.fixed_point_modules`)
must give the same bits on every platform, so it computes them here, as
:mod:`mmcodec.layers.exact_tanh` does tanh: every step one elementwise torch operation on float64,
each correctly rounded by IEEE 754, in a fixed order.

- erf(u) = 2/√π · Σ_n (−1)^n u^(2n+1) / (n!·(2n+1)), the Maclaurin series in Horner form, for
  |u| ≤ 4.25: ``ERF_TERMS[0]`` terms for |u| ≤ 2 (the last below 10^-17 there), ``ERF_TERMS[1]``
  beyond (the same at |u| = 4.25, where the largest term is about 2.7·10^7, so the sum is within
  about 10^-8 of erf); erf(±u) = ±1 beyond 4.25. Which polynomial an element gets depends on its
  own value only.
- GELU(x) = x·Φ(x), Φ(x) = (1 + erf(x/√2)) / 2 (Hendrycks & Gimpel, arXiv 1606.08415, eq. 1, the
  exact form that ``torch.nn.GELU()`` computes), within about 10^-7 of it for |x| ≤ 6; x beyond 6
  and 0 below −6 (where Φ(−6) ≈ 10^-9).
- sigmoid(x) = 1 / (1 + e^(−x)) with :func:`~mmcodec.layers.exact_tanh.exact_exp`, |x| clamped to 40.
"""
from __future__ import annotations

import math

import torch

from .exact_tanh import exact_exp

ERF_TERMS = (32, 80)
_ERF_SPLIT = 2.0
_ERF_RANGE = 4.25
_GELU_RANGE = 6.0
_SIGMOID_RANGE = 40.0
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_INV_SQRT2 = 1.0 / math.sqrt(2.0)


def _erf_coefficients(terms: int) -> list[float]:
    """2/√π · (−1)^n / (n!·(2n+1)) for n = terms − 1 … 0 (highest first, for Horner)."""
    return [_TWO_OVER_SQRT_PI * (-1) ** n / (math.factorial(n) * (2 * n + 1)) for n in range(terms - 1, -1, -1)]


_ERF_COEFFICIENTS = tuple(_erf_coefficients(terms) for terms in ERF_TERMS)


def _erf_series(u: torch.Tensor, coefficients: list[float]) -> torch.Tensor:
    square = u * u
    total = torch.full_like(u, coefficients[0])
    for coefficient in coefficients[1:]:
        total = total * square + coefficient
    return total * u


def exact_erf(u: torch.Tensor) -> torch.Tensor:
    """erf of ``u`` in float64, the same bits on every platform (module docstring)."""
    u = u.double()
    magnitude = u.abs()
    value = _erf_series(u, _ERF_COEFFICIENTS[0])
    far = (magnitude > _ERF_SPLIT) & (magnitude <= _ERF_RANGE)
    if bool(far.any()):
        value[far] = _erf_series(u[far], _ERF_COEFFICIENTS[1])
    return torch.where(magnitude > _ERF_RANGE, torch.sign(u), value)


def exact_gelu(x: torch.Tensor) -> torch.Tensor:
    """x·Φ(x) in float64, the same bits on every platform (module docstring)."""
    x = x.double()
    value = x * (1.0 + exact_erf(x * _INV_SQRT2)) * 0.5
    return torch.where(x > _GELU_RANGE, x, torch.where(x < -_GELU_RANGE, torch.zeros_like(x), value))


def exact_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """1 / (1 + e^(−x)) in float64, the same bits on every platform (module docstring)."""
    x = x.double().clamp(-_SIGMOID_RANGE, _SIGMOID_RANGE)
    return 1.0 / (1.0 + exact_exp(-x))
