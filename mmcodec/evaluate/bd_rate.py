"""Bjøntegaard delta rate and delta PSNR.

Two fits of log-rate against quality (and of quality against log-rate for BD-PSNR):

- ``"pchip"``: piecewise cubic Hermite interpolation (Fritsch–Carlson slopes), integrated
  exactly over the overlapping interval, as in the JVET common test conditions' BD-rate
  (JVET-K0491 / the AOM/JVET reference spreadsheets use the same interpolation);
- ``"polynomial"``: the original cubic least-squares fit of VCEG-M33 (Bjøntegaard 2001).

BD-rate is the mean relative rate difference of ``test`` against ``anchor`` at equal quality,
in percent (negative = fewer bits); BD-PSNR the mean quality difference at equal rate, in dB.
"""
from __future__ import annotations

from typing import Literal, Sequence

import numpy as np

Method = Literal["pchip", "polynomial"]


def _pchip_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Shape-preserving derivatives at the knots (Fritsch & Carlson 1980; end rule of Moler)."""
    h = np.diff(x)
    delta = np.diff(y) / h
    n = x.size
    d = np.zeros(n)
    if n == 2:
        return np.full(2, delta[0])
    for k in range(1, n - 1):
        if delta[k - 1] * delta[k] > 0:
            w1, w2 = 2 * h[k] + h[k - 1], h[k] + 2 * h[k - 1]
            d[k] = (w1 + w2) / (w1 / delta[k - 1] + w2 / delta[k])

    def end(h0: float, h1: float, d0: float, d1: float) -> float:
        slope = ((2 * h0 + h1) * d0 - h0 * d1) / (h0 + h1)
        if np.sign(slope) != np.sign(d0):
            return 0.0
        if np.sign(d0) != np.sign(d1) and abs(slope) > abs(3 * d0):
            return 3 * d0
        return slope

    d[0] = end(h[0], h[1], delta[0], delta[1])
    d[-1] = end(h[-1], h[-2], delta[-1], delta[-2])
    return d


def _segment(x: np.ndarray, y: np.ndarray, d: np.ndarray, k: int) -> tuple[float, float, float, float]:
    """Coefficients (c0, c1, c2, c3) of segment k as a cubic in t = x - x_k."""
    h = x[k + 1] - x[k]
    delta = (y[k + 1] - y[k]) / h
    return y[k], d[k], (3 * delta - 2 * d[k] - d[k + 1]) / h, (d[k] + d[k + 1] - 2 * delta) / h ** 2


def _pchip_integral(x: np.ndarray, y: np.ndarray, lo: float, hi: float) -> float:
    """∫_lo^hi of the pchip interpolant through (x, y), x increasing, lo/hi within [x0, xn]."""
    d = _pchip_slopes(x, y)
    total = 0.0
    for k in range(x.size - 1):
        a, b = max(lo, x[k]), min(hi, x[k + 1])
        if a >= b:
            continue
        c0, c1, c2, c3 = _segment(x, y, d, k)

        def primitive(t: float) -> float:
            return c0 * t + c1 * t ** 2 / 2 + c2 * t ** 3 / 3 + c3 * t ** 4 / 4

        total += primitive(b - x[k]) - primitive(a - x[k])
    return total


def _pchip_evaluate(x: np.ndarray, y: np.ndarray, at: float) -> float:
    """The pchip interpolant through (x, y), x increasing, at a point inside [x0, xn]."""
    k = int(np.clip(np.searchsorted(x, at, side="right") - 1, 0, x.size - 2))
    c0, c1, c2, c3 = _segment(x, y, _pchip_slopes(x, y), k)
    t = at - x[k]
    return float(c0 + c1 * t + c2 * t ** 2 + c3 * t ** 3)


def quality_at_equal_rate(anchor_rate: Sequence[float], anchor_quality: Sequence[float], rate: float,
                          quality: float) -> float:
    """Quality gain of one (rate, quality) point over the anchor's pchip-interpolated curve at the
    point's rate (dB, or the metric's unit). Raises ValueError where the rate lies outside the
    anchor's rate range."""
    log_r, q = _prepare(anchor_rate, anchor_quality)
    order = np.argsort(log_r)
    lr = float(np.log10(rate))
    if not log_r.min() <= lr <= log_r.max():
        raise ValueError("the point's rate lies outside the anchor's curve")
    return quality - _pchip_evaluate(log_r[order], q[order], lr)


def rate_at_equal_quality(anchor_rate: Sequence[float], anchor_quality: Sequence[float], rate: float,
                          quality: float) -> float:
    """Rate difference of one (rate, quality) point against the anchor's pchip-interpolated curve at
    the point's quality, in percent. Raises ValueError where the quality lies outside the anchor's
    quality range."""
    log_r, q = _prepare(anchor_rate, anchor_quality)
    order = np.argsort(q)
    if not q.min() <= quality <= q.max():
        raise ValueError("the point's quality lies outside the anchor's curve")
    return (rate / 10 ** _pchip_evaluate(q[order], log_r[order], quality) - 1) * 100


def _integral(x: np.ndarray, y: np.ndarray, lo: float, hi: float, method: Method) -> float:
    order = np.argsort(x)
    x, y = x[order], y[order]
    if method == "pchip":
        return _pchip_integral(x, y, lo, hi)
    if method == "polynomial":
        p = np.polyint(np.polyfit(x, y, 3))
        return float(np.polyval(p, hi) - np.polyval(p, lo))
    raise ValueError(f"unknown BD method '{method}'")


def _prepare(rate: Sequence[float], quality: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    r, q = np.asarray(rate, np.float64), np.asarray(quality, np.float64)
    keep = np.isfinite(r) & np.isfinite(q) & (r > 0)
    r, q = r[keep], q[keep]
    if r.size < 4 or np.unique(q).size != q.size or np.unique(r).size != r.size:
        raise ValueError("BD metrics need at least 4 distinct (rate, quality) points per curve")
    if np.any(np.diff(q[np.argsort(r)]) <= 0):
        # rate as a function of quality (BD-rate) is undefined on such a curve: pchip would
        # integrate a rate that goes back and forth and give numbers of either sign
        raise ValueError("the quality of a curve does not rise with its rate")
    return np.log10(r), q


def _mean_gap(x_anchor: np.ndarray, y_anchor: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
              method: Method, axis: str) -> float:
    """Mean of y_test - y_anchor over the x range both curves cover."""
    lo, hi = max(x_anchor.min(), x_test.min()), min(x_anchor.max(), x_test.max())
    if lo >= hi:
        raise ValueError(f"the two curves do not overlap in {axis}")
    return (_integral(x_test, y_test, lo, hi, method) - _integral(x_anchor, y_anchor, lo, hi, method)) / (hi - lo)


def bd_rate(anchor_rate: Sequence[float], anchor_quality: Sequence[float], test_rate: Sequence[float],
            test_quality: Sequence[float], method: Method = "pchip") -> float:
    """Average rate difference of test vs anchor at equal quality, in percent."""
    log_ra, qa = _prepare(anchor_rate, anchor_quality)
    log_rt, qt = _prepare(test_rate, test_quality)
    return float((10 ** _mean_gap(qa, log_ra, qt, log_rt, method, "quality") - 1) * 100)


def bd_psnr(anchor_rate: Sequence[float], anchor_quality: Sequence[float], test_rate: Sequence[float],
            test_quality: Sequence[float], method: Method = "pchip") -> float:
    """Average quality difference of test vs anchor at equal rate, in dB (or the metric's unit)."""
    log_ra, qa = _prepare(anchor_rate, anchor_quality)
    log_rt, qt = _prepare(test_rate, test_quality)
    return float(_mean_gap(log_ra, qa, log_rt, qt, method, "rate"))
