"""BD-rate / BD-PSNR: exact on constructed curves, sane on the published Kodak curves."""
import json
import math
from pathlib import Path

import numpy as np
import pytest

from mmcodec.evaluate.bd_rate import (
    _pchip_integral,
    _pchip_slopes,
    bd_psnr,
    bd_rate,
    quality_at_equal_rate,
    rate_at_equal_quality,
)

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference-results" / "kodak"


@pytest.mark.parametrize("method", ["pchip", "polynomial"])
def test_scaled_rate_gives_exact_bd_rate(method) -> None:
    rate = np.array([0.1, 0.2, 0.4, 0.8, 1.6])
    psnr = 30 + 4 * np.log2(rate / 0.1) + np.array([0, 0.3, 0.1, -0.2, 0])
    assert bd_rate(rate, psnr, 0.8 * rate, psnr, method) == pytest.approx(-20.0, abs=1e-9)
    assert bd_rate(rate, psnr, rate, psnr, method) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("method", ["pchip", "polynomial"])
def test_shifted_quality_gives_exact_bd_psnr(method) -> None:
    rate = np.array([0.1, 0.25, 0.5, 1.0])
    psnr = np.array([28.0, 31.0, 33.5, 36.0])
    assert bd_psnr(rate, psnr, rate, psnr + 0.7, method) == pytest.approx(0.7, abs=1e-9)


def hermite(x: np.ndarray, y: np.ndarray, slopes: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Cubic Hermite interpolant in its textbook basis-function form."""
    k = np.clip(np.searchsorted(x, t, side="right") - 1, 0, x.size - 2)
    h = x[k + 1] - x[k]
    s = (t - x[k]) / h
    h00, h10, h01, h11 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s, -2 * s**3 + 3 * s**2, s**3 - s**2
    return h00 * y[k] + h10 * h * slopes[k] + h01 * y[k + 1] + h11 * h * slopes[k + 1]


def test_pchip_integral_matches_numerical_quadrature() -> None:
    x = np.array([0.0, 1.0, 2.5, 3.0, 5.0])
    y = np.array([1.0, 3.0, 3.2, 4.5, 7.0])  # monotone: the interpolant must be monotone too
    grid = np.linspace(0.3, 4.2, 200_001)
    values = hermite(x, y, _pchip_slopes(x, y), grid)
    assert bool(np.all(np.diff(values) >= -1e-12))
    trapezoid = float(np.sum((values[1:] + values[:-1]) / 2 * np.diff(grid)))
    assert _pchip_integral(x, y, 0.3, 4.2) == pytest.approx(trapezoid, rel=1e-8)
    np.testing.assert_allclose(hermite(x, y, _pchip_slopes(x, y), x), y)


def test_unordered_points_are_accepted() -> None:
    rate = [0.8, 0.1, 0.4, 0.2]
    psnr = [36.0, 28.0, 33.0, 30.5]
    assert bd_rate(rate, psnr, [r * 1.1 for r in rate], psnr) == pytest.approx(10.0, abs=1e-9)


def test_too_few_points_or_no_overlap() -> None:
    with pytest.raises(ValueError):
        bd_rate([0.1, 0.2, 0.3], [30, 31, 32], [0.1, 0.2, 0.3], [30, 31, 32])
    with pytest.raises(ValueError):
        bd_rate([0.1, 0.2, 0.3, 0.4], [20, 21, 22, 23], [0.1, 0.2, 0.3, 0.4], [30, 31, 32, 33])


def load(name: str) -> dict:
    return json.loads((REFERENCE / name).read_text())["results"]


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="needs ../shared/reference-results")
def test_published_kodak_curves_rank_as_published() -> None:
    """BPG (HEVC 4:4:4) beats JPEG by far; VTM beats BPG; mbt2018 beats the hyperprior."""
    jpeg, bpg, vtm = load("jpeg.json"), load("bpg_444_x265_ycbcr.json"), load("vtm.json")
    hyper, mbt = load("compressai-bmshj2018-hyperprior_mse_cpu.json"), load("compressai-mbt2018_mse_cpu.json")
    bpg_vs_jpeg = bd_rate(jpeg["bpp"], jpeg["psnr-rgb"], bpg["bpp"], bpg["psnr-rgb"])
    vtm_vs_bpg = bd_rate(bpg["bpp"], bpg["psnr-rgb"], vtm["bpp"], vtm["psnr-rgb"])
    mbt_vs_hyper = bd_rate(hyper["bpp"], hyper["psnr-rgb"], mbt["bpp"], mbt["psnr-rgb"])
    assert -60 < bpg_vs_jpeg < -30
    assert -35 < vtm_vs_bpg < -10
    assert -25 < mbt_vs_hyper < -5
    for method in ("pchip", "polynomial"):  # the two fits agree closely on dense, smooth curves
        a = bd_rate(bpg["bpp"], bpg["psnr-rgb"], vtm["bpp"], vtm["psnr-rgb"], method)
        assert math.isclose(a, vtm_vs_bpg, abs_tol=1.5)


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="needs ../shared/reference-results")
@pytest.mark.parametrize("name,expected", [
    ("compressai-bmshj2018-hyperprior_mse_cpu.json", 30.486254472736917),
    ("compressai-mbt2018_mse_cpu.json", 11.020308775602295),
    ("bpg_444_x265_ycbcr.json", 21.987213227382284),
    ("jpeg2000.json", 97.97386792243981),
])
def test_published_curves_against_an_independent_implementation(name, expected) -> None:
    """Expected values: BD-rate vs VTM computed once with SciPy's PchipInterpolator.integrate
    (log10 rate as a function of PSNR over the common PSNR range), the usual reference code."""
    vtm, other = load("vtm.json"), load(name)
    assert bd_rate(vtm["bpp"], vtm["psnr-rgb"], other["bpp"], other["psnr-rgb"]) == pytest.approx(expected, abs=1e-9)


def test_one_point_against_a_curve() -> None:
    rate = [0.1, 0.2, 0.4, 0.8]
    psnr = [28.0, 30.0, 32.0, 34.0]  # 2 dB per doubling: linear in log-rate
    assert quality_at_equal_rate(rate, psnr, 0.2, 31.0) == pytest.approx(1.0, abs=1e-9)
    assert rate_at_equal_quality(rate, psnr, 0.2, 31.0) == pytest.approx((0.2 / (0.2 * 2 ** 0.5) - 1) * 100, abs=1e-6)
    with pytest.raises(ValueError):
        quality_at_equal_rate(rate, psnr, 5.0, 31.0)


def test_a_curve_whose_quality_falls_with_rate_is_refused() -> None:
    rising = ([0.1, 0.2, 0.3, 0.4], [30.0, 32.0, 33.0, 34.0])
    dipping = ([0.13, 0.15, 0.16, 0.165], [68.9, 69.61, 69.65, 69.60])   # more bits, lower PSNR at the end
    for a, b in ((rising, dipping), (dipping, rising)):
        with pytest.raises(ValueError, match="does not rise"):
            bd_rate(*a, *b)
        with pytest.raises(ValueError, match="does not rise"):
            bd_psnr(*a, *b)
    for one_point in (quality_at_equal_rate, rate_at_equal_quality):
        with pytest.raises(ValueError, match="does not rise"):
            one_point(*dipping, 0.15, 69.0)


def test_each_point_measure_needs_only_its_own_axis_in_range() -> None:
    rate = [0.1, 0.2, 0.4, 0.8]
    psnr = [28.0, 30.0, 32.0, 34.0]  # 2 dB per doubling: linear in log-rate
    # below the anchor's lowest rate but at a PSNR it reaches: bits at equal PSNR still exist
    assert rate_at_equal_quality(rate, psnr, 0.05, 30.0) == pytest.approx(-75.0, abs=1e-6)
    with pytest.raises(ValueError, match="rate lies outside"):
        quality_at_equal_rate(rate, psnr, 0.05, 30.0)
    # inside the rate range but above the anchor's best PSNR: only the gain at equal rate exists
    assert quality_at_equal_rate(rate, psnr, 0.4, 35.0) == pytest.approx(3.0, abs=1e-9)
    with pytest.raises(ValueError, match="quality lies outside"):
        rate_at_equal_quality(rate, psnr, 0.4, 35.0)
