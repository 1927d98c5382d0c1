"""Shared pieces of the codec tests: one-thread decoding, the exact round trip, a channel-wise
codec's older per-slice layout decoding alike, weights moved off their initialisation, a
start from another codec's trained transforms, and a widened image model."""
import torch

from mmcodec.codecs import CodedLatents, LearnedCodec, create


def decompress_single_threaded(codec: LearnedCodec, coded: CodedLatents) -> tuple[torch.Tensor, str]:
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        return codec.decompress(coded)
    finally:
        torch.set_num_threads(threads)


def assert_exact_deterministic_round_trip(codec: LearnedCodec, x: torch.Tensor, coded: CodedLatents) -> None:
    """Same bytes twice; decoded latents match (digest); pixels equal the evaluation forward (with
    fixed-point entropy parameters, to the few units of 2^-14 by which μ and LRP move ŷ) and are
    identical with one thread."""
    assert codec.compress(x).streams == coded.streams
    x_hat, digest = codec.decompress(coded)
    assert digest == coded.digest
    tolerance = 1e-5 if coded.entropy_parameters == "float" else 2e-4
    torch.testing.assert_close(x_hat, codec(x)["x_hat"], atol=tolerance, rtol=0)
    single, single_digest = decompress_single_threaded(codec, coded)
    assert torch.equal(single, x_hat) and single_digest == digest


def assert_slice_streams_decode(codec: LearnedCodec, x: torch.Tensor, coded: CodedLatents) -> None:
    """The per-slice layout of older files (``ChannelConditionalCodec.in_slice_streams``) decodes to
    what ``coded``'s one y stream does, and its shapes are the older of the two layouts the codec accepts."""
    old = codec.in_slice_streams(coded, codec.initial_latents(x))
    assert codec.latent_layouts(*x.shape[-2:]) == [coded.shapes, old.shapes]
    x_hat, digest = codec.decompress(coded)
    old_x_hat, old_digest = codec.decompress(old)
    assert old_digest == digest == coded.digest and torch.equal(old_x_hat, x_hat)


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


def assert_started_from_transforms(model: LearnedCodec, source: LearnedCodec, x: torch.Tensor) -> None:
    """``model.load_initial_weights(source's state)`` gives it ``source``'s g_a and g_s (the same
    latents of ``x``, the same reconstruction of them) and leaves every other weight as it was."""
    others_before = {k: v.clone() for k, v in model.state_dict().items() if not k.startswith(("g_a.", "g_s."))}
    model.load_initial_weights(source.state_dict())
    model.eval()
    source.eval()
    with torch.no_grad():
        y = model.g_a(x)
        assert torch.equal(y, source.g_a(x))
        assert torch.equal(model.g_s(y), source.g_s(y))
    after = model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in others_before.items())


def widened_image_pair(narrow_config: dict, wide_config: dict) -> tuple[LearnedCodec, LearnedCodec, torch.Tensor]:
    """A narrow mean-scale image model (weights moved off their initialisation), the wider model of
    ``wide_config`` started from it with ``load_initial_weights``, and an image to code (both eval)."""
    narrow = moved_off_initialisation(create("mean-scale", **narrow_config), 0.01, seed=4).eval()
    torch.manual_seed(5)
    wide = create("mean-scale", **wide_config).eval()
    wide.load_initial_weights(narrow.state_dict())
    torch.manual_seed(6)
    return narrow, wide, torch.rand(1, 3, 64, 128)


def assert_codes_as_the_narrow_model(narrow: LearnedCodec, wide: LearnedCodec, x: torch.Tensor) -> CodedLatents:
    """The widened ``wide`` codes ``x`` exactly and deterministically, and decodes it as ``narrow`` does."""
    narrow.update()
    wide.update()
    coded = wide.compress(x)
    assert_exact_deterministic_round_trip(wide, x, coded)
    torch.testing.assert_close(wide.decompress(coded)[0], narrow.decompress(narrow.compress(x))[0], atol=1e-6, rtol=0)
    return coded
