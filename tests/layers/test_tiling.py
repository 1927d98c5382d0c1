"""Row-band evaluation equals whole-image evaluation of the transforms."""
import torch

from mmcodec.codecs import create
from mmcodec.layers.tiling import apply_in_bands


def test_bands_match_the_whole_image() -> None:
    torch.manual_seed(0)
    codec = create("mean-scale", n=16, m=24).eval()
    x = torch.rand(1, 3, 320, 64)
    with torch.no_grad():
        whole_y = codec.g_a(x)
        banded_y = apply_in_bands(codec.g_a, x, 1 / 16, band_rows=64, halo_rows=64, align=16)
        torch.testing.assert_close(banded_y, whole_y, atol=1e-5, rtol=1e-5)
        whole_x = codec.g_s(whole_y)
        banded_x = apply_in_bands(codec.g_s, whole_y, 16, band_rows=4, halo_rows=4, align=1)
        torch.testing.assert_close(banded_x, whole_x, atol=1e-5, rtol=1e-5)


def test_small_inputs_are_one_band() -> None:
    calls = []

    def transform(t: torch.Tensor) -> torch.Tensor:
        calls.append(t.shape[-2])
        return t

    apply_in_bands(transform, torch.zeros(1, 1, 100, 8), 1, band_rows=64, halo_rows=32, align=1)
    assert calls == [100]


def test_codec_in_small_bands_round_trips_like_the_whole_image() -> None:
    torch.manual_seed(0)
    codec = create("mean-scale", n=16, m=24)
    codec.update()
    codec.eval()
    x = codec.pad(torch.rand(1, 3, 300, 64))
    whole_coded = codec.compress(x)
    whole, _ = codec.decompress(whole_coded)
    codec.band_pixels = 64 * 64  # force several bands in both transforms
    coded = codec.compress(x)
    banded, digest = codec.decompress(coded)
    assert digest == coded.digest
    torch.testing.assert_close(banded, whole, atol=1e-3, rtol=0)
