"""Shared checks of the codec tests: one-thread decoding, and the exact round trip."""
import torch

from mmcodec.codecs import CodedLatents, LearnedCodec


def decompress_single_threaded(codec: LearnedCodec, coded: CodedLatents) -> tuple[torch.Tensor, str]:
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        return codec.decompress(coded)
    finally:
        torch.set_num_threads(threads)


def assert_exact_deterministic_round_trip(codec: LearnedCodec, x: torch.Tensor, coded: CodedLatents) -> None:
    """Same bytes twice; decoded latents match (digest); pixels equal the evaluation forward
    and are identical with one thread."""
    assert codec.compress(x).streams == coded.streams
    x_hat, digest = codec.decompress(coded)
    assert digest == coded.digest
    torch.testing.assert_close(x_hat, codec(x)["x_hat"], atol=1e-5, rtol=0)
    single, single_digest = decompress_single_threaded(codec, coded)
    assert torch.equal(single, x_hat) and single_digest == digest
