"""Lossless coding of a binary image by adaptive context modelling and range coding.

Each pixel is coded with the probability that it is 1 given its *context*: the ten causal
neighbours of JBIG's three-line template (ITU-T T.82, sec. 6.7: two pixels to the left in the
same row, five in the row above, three two rows above), a 10-bit index into 1,024 adaptive
estimates. Each estimate is the Krichevsky–Trofimov estimator (IEEE Trans. Inf. Theory 27(2),
1981) of the pixels seen so far in that context, p(1) = (ones + ½) / (count + 1), so no table is
sent. The bits go through ``constriction``'s range coder (Bernoulli models).

Decoding order. The template reaches two columns ahead in the row above, so pixel (r, c) only
depends on pixels with a smaller ``c + 3·r``: all pixels of one anti-diagonal *wavefront*
t = c + 3·r are decoded together, with the estimates as they stand after wavefront t − 1, in
W + 3·(H − 1) vectorised steps instead of H·W sequential ones. The encoder knows the whole
image, so it computes the estimates of many wavefronts at once (counts of the same context in
earlier wavefronts), a chunk of about a quarter-million pixels at a time so that its memory stays
bounded (a peak of 84 MB for a 19.7-megapixel mask).

On the hole masks of the held-out RGB-D frames (7-Scenes, ICL-NUIM, TUM, SUN RGB-D) this takes
27.5% fewer bytes than a 1-bit lossless JPEG XL codestream at effort 7 and 15.6% fewer than at
effort 9; it encodes a 640×480 mask in 0.05 s (libjxl 0.07 s) and decodes it in 0.05 s (libjxl
0.01 s) (``docs/benchmarks/hole_mask.md``).
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

TEMPLATE = ((0, -1), (0, -2), (-1, -2), (-1, -1), (-1, 0), (-1, 1), (-1, 2), (-2, -1), (-2, 0), (-2, 1))
CONTEXTS = 1 << len(TEMPLATE)
SKEW = 3              # wavefront t = c + SKEW·r: the template reaches SKEW − 1 columns ahead one row up
PRIOR = 0.5           # Krichevsky–Trofimov
_ABOVE, _SIDE = 2, 2  # padding: rows above, columns either side


def _model():
    import constriction

    return constriction.stream.model.Bernoulli(perfect=False)


def _padded(height: int, width: int) -> np.ndarray:
    return np.zeros((height + _ABOVE, width + 2 * _SIDE), dtype=np.uint8)


_WEIGHTS = 1 << np.arange(len(TEMPLATE), dtype=np.int64)


def _offsets(padded: np.ndarray) -> np.ndarray:
    """The template's neighbours as offsets in the flattened ``padded``."""
    return np.array([dy * padded.shape[1] + dx for dy, dx in TEMPLATE], dtype=np.int64)


def _flat_index(padded: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    return (rows + _ABOVE) * padded.shape[1] + cols + _SIDE


def _contexts(flat: np.ndarray, index: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The context indices of the pixels at ``index`` of the flattened padded image ``flat``."""
    return flat[index[:, None] + offsets].astype(np.int64) @ _WEIGHTS


def _probabilities(ones: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """KT estimates of p(1) from ``ones`` among ``counts`` earlier pixels of the same context."""
    return (ones + PRIOR) / (counts + 2 * PRIOR)


def _wavefront(t: int, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    rows = np.arange(max(0, -(-(t - width + 1) // SKEW)), min(height - 1, t // SKEW) + 1)
    return rows, t - SKEW * rows


CHUNK_PIXELS = 1 << 18  # the encoder works through this many pixels of whole wavefronts at a time


def _chunks(height: int, width: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Runs of whole wavefronts of about :data:`CHUNK_PIXELS` pixels, in coding order (wavefront
    by wavefront, rows increasing): per run, the rows and the columns of its pixels."""
    waves = width + SKEW * (height - 1)
    per_wave = max(1, min(height, width // SKEW + 1))
    step = max(1, CHUNK_PIXELS // per_wave)
    for first in range(0, waves, step):
        parts = [_wavefront(t, height, width) for t in range(first, min(waves, first + step))]
        yield np.concatenate([rows for rows, _ in parts]), np.concatenate([cols for _, cols in parts])


def encode_bilevel(image: np.ndarray) -> np.ndarray:
    """The range coder's words (uint32) for ``image`` (H×W, 0/1 or bool).

    Wavefronts are taken in chunks (:func:`_chunks`), so the encoder's memory stays a few tens of
    MB whatever the image size; the counts of earlier chunks are carried."""
    import constriction

    bits = np.asarray(image, dtype=bool)
    height, width = bits.shape
    padded = _padded(height, width)
    padded[_ABOVE:, _SIDE:_SIDE + width] = bits
    flat, offsets = padded.ravel(), _offsets(padded)
    seen = np.zeros((CONTEXTS, 2), dtype=np.int64)   # per context: zeros and ones in earlier chunks
    encoder = constriction.stream.queue.RangeEncoder()
    for rows, cols in _chunks(height, width):
        context = _contexts(flat, _flat_index(padded, rows, cols), offsets)
        values = bits[rows, cols].astype(np.int64)
        ones, counts = _counts_in_earlier_wavefronts(context, cols + SKEW * rows, values)
        probability = _probabilities(ones + seen[context, 1], counts + seen[context].sum(axis=1))
        encoder.encode(values.astype(np.int32), _model(), probability)
        in_chunk = np.bincount(context, minlength=CONTEXTS)
        ones_in_chunk = np.bincount(context[values == 1], minlength=CONTEXTS)
        seen += np.stack([in_chunk - ones_in_chunk, ones_in_chunk], axis=1)
    return encoder.get_compressed()


def _counts_in_earlier_wavefronts(context: np.ndarray, wave: np.ndarray,
                                  values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel, the ones and the number of pixels of its context in earlier wavefronts (of
    these pixels): sort by (context, wavefront), then each pixel's run of equal (context,
    wavefront) starts after exactly those."""
    order = np.lexsort((wave, context))
    sorted_context, sorted_wave = context[order], wave[order]
    position = np.arange(order.size)
    new_context = np.r_[True, sorted_context[1:] != sorted_context[:-1]]
    new_run = new_context | np.r_[True, sorted_wave[1:] != sorted_wave[:-1]]
    context_start = np.maximum.accumulate(np.where(new_context, position, 0))
    run_start = np.maximum.accumulate(np.where(new_run, position, 0))
    ones_before = np.r_[0, np.cumsum(values[order])[:-1]]
    ones, counts = np.empty(order.size, dtype=np.int64), np.empty(order.size, dtype=np.int64)
    ones[order] = ones_before[run_start] - ones_before[context_start]
    counts[order] = run_start - context_start
    return ones, counts


def decode_bilevel(words: np.ndarray, height: int, width: int) -> np.ndarray:
    """The H×W bool image from :func:`encode_bilevel`'s words (garbage in: some image out,
    never a larger one; callers check what they can)."""
    import constriction

    decoder = constriction.stream.queue.RangeDecoder(np.asarray(words, dtype=np.uint32))
    model = _model()
    padded = _padded(height, width)
    flat, offsets = padded.ravel(), _offsets(padded)
    seen = np.zeros((CONTEXTS, 2))          # per context: zeros and ones decoded so far
    for t in range(width + SKEW * (height - 1)):
        index = _flat_index(padded, *_wavefront(t, height, width))
        context = _contexts(flat, index, offsets)
        zeros, ones = seen[context].T
        values = decoder.decode(model, _probabilities(ones, zeros + ones))
        flat[index] = values
        np.add.at(seen, (context, values), 1.0)
    return padded[_ABOVE:, _SIDE:_SIDE + width].astype(bool)
