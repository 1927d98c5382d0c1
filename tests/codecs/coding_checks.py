"""Shared pieces of the codec tests: one-thread decoding, the exact round trip, and weights moved
off their initialisation."""
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


def moved_off_initialisation(model: torch.nn.Module, scale: float, seed: int | None = None) -> torch.nn.Module:
    """``model`` with Gaussian noise of ``scale`` added to every parameter but the entropy models'
    quantiles: weights that look trained (a fresh or zero-initialised layer is too regular to tell
    layers or channels apart)."""
    if seed is not None:
        torch.manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if not name.endswith("quantiles"):
                parameter.add_(torch.randn_like(parameter) * scale)
    return model
