"""Adaptive context coding of binary images (JBIG three-line template, wavefront decoding)."""
import numpy as np
import pytest

from mmcodec.modalities import bilevel_coder
from mmcodec.modalities.bilevel_coder import CONTEXTS, SKEW, TEMPLATE, decode_bilevel, encode_bilevel


@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (1, 50), (50, 1), (3, 1000), (1000, 3), (61, 97)])
@pytest.mark.parametrize("density", [0.0, 0.05, 0.5, 1.0])
def test_round_trip(shape, density):
    image = np.random.default_rng(1).random(shape) < density
    words = encode_bilevel(image)
    assert words.dtype == np.uint32
    assert np.array_equal(decode_bilevel(words, *shape), image)


def test_the_template_is_causal_for_the_wavefront_order():
    assert CONTEXTS == 1 << len(TEMPLATE)
    for dy, dx in TEMPLATE:          # every neighbour lies on an earlier wavefront c + SKEW·r
        assert dy <= 0 and dx + SKEW * dy < 0


def test_structure_is_cheap_and_noise_is_not():
    blocks = np.zeros((200, 300), bool)
    blocks[50:120, 30:200] = True
    blocks[:, 250:260] = True
    noise = np.random.default_rng(2).random((200, 300)) < 0.5
    assert 32 * encode_bilevel(blocks).size < 400                    # bits for 60,000 pixels
    assert 32 * encode_bilevel(noise).size > 0.98 * noise.size       # about one bit a pixel


def test_deterministic():
    image = np.random.default_rng(3).random((40, 50)) < 0.2
    assert np.array_equal(encode_bilevel(image), encode_bilevel(image.copy()))


@pytest.mark.parametrize("chunk_pixels", [1, 7, 100])
def test_the_encoders_chunks_do_not_change_the_words(monkeypatch, chunk_pixels):
    image = np.random.default_rng(4).random((37, 53)) < 0.3
    whole = encode_bilevel(image)
    monkeypatch.setattr(bilevel_coder, "CHUNK_PIXELS", chunk_pixels)
    chunked = encode_bilevel(image)
    assert np.array_equal(chunked, whole)
    assert np.array_equal(decode_bilevel(chunked, *image.shape), image)
