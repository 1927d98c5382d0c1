"""LIC-TCM (arXiv 2303.14978): the official layer list, any input size, exact slice coding."""
import contextlib

import torch

from mmcodec.codecs import canonical_name, create
from mmcodec.codecs.tcm import TCMCodec
from mmcodec.layers.swatten import SWAtten
from mmcodec.layers.tcm_block import TCMBlock

from .coding_checks import (
    assert_exact_deterministic_round_trip,
    assert_slice_streams_decode,
)

TINY = TCMCodec.test_config     # n=16, m=16 in 2 slices, windows 4 / 2: padding multiple 64


def tiny(**extra) -> TCMCodec:
    torch.manual_seed(0)
    return create("tcm", **{**TINY, **extra})


@contextlib.contextmanager
def one_thread():
    """Tiny tensors gain nothing from threads; one thread avoids OpenMP spinning on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def parameters(**config) -> int:
    with torch.device("meta"):            # no memory, no initialisation cost
        return sum(p.numel() for p in create("tcm", **config).parameters())


def test_aliases_and_padding() -> None:
    assert canonical_name("lic-tcm") == canonical_name("LIU2023-TCM") == "tcm"
    with torch.device("meta"):
        assert create("tcm", n=64).padding_multiple == 128   # windows 8 at 1/8 and 1/16, 4 at 1/32
    assert tiny().padding_multiple == 64


def test_parameter_counts() -> None:
    # The paper's table gives 44.96 M for the small model (N = 64). The official code has
    # 45,180,752 parameters (0.49 % more; counted layer by layer from jmliu206/LIC_TCM and
    # CompressAI): the thesis in ../shared/papers measured 45.18 M for it (RGB) and 45.17 M
    # with one input channel (depth).
    small = parameters(n=64)
    assert abs(small - 44.96e6) / 44.96e6 < 0.005
    assert small == 45_180_752
    assert parameters(n=64, in_channels=1) == 45_168_968
    assert parameters(n=96) == 59_133_650       # medium
    assert parameters(n=128) == 76_568_148      # large (the official default)
    assert parameters(**TCMCodec.cpu_config) == 7_034_414


def test_default_structure_follows_the_official_code() -> None:
    with torch.device("meta"):
        codec = create("tcm", n=64)
    blocks = [m for m in codec.g_a if isinstance(m, TCMBlock)]
    assert len(blocks) == 6 and [b.trans_block.msa.shifted for b in blocks] == [False, True] * 3
    assert [b.trans_block.msa.heads for b in blocks] == [8, 8, 4, 4, 2, 2]          # head widths 8, 16, 32
    assert {b.trans_block.msa.window for b in blocks} == {8}
    assert [b.trans_block.msa.heads for b in codec.g_s if isinstance(b, TCMBlock)] == [2, 2, 4, 4, 8, 8]
    hyper = [m for path in (codec.h_a, codec.h_mean_s, codec.h_scale_s) for m in path if isinstance(m, TCMBlock)]
    assert len(hyper) == 6 and {b.trans_block.msa.window for b in hyper} == {4}
    model = codec.y_model
    assert (model.num_slices, model.slice_channels, codec.z_channels) == (5, 64, 192)
    assert all(isinstance(a, SWAtten) and a.in_conv.out_channels == 128 for a in model.atten_mean)
    assert [a.in_conv.in_channels for a in model.atten_scale] == [320, 384, 448, 512, 576]
    assert [t[0].in_channels for t in model.lrp_transforms] == [384, 448, 512, 576, 640]
    assert [t[0].out_channels for t in model.cc_mean_transforms] == [224] * 5


def test_training_forward_for_any_size() -> None:
    codec = tiny().train()
    x = torch.rand(2, 3, 37, 53)
    padded = codec.pad(x)
    assert padded.shape[-2:] == (64, 64)
    with one_thread():
        out = codec(padded)
        assert codec.crop(out["x_hat"], 37, 53).shape == x.shape
        assert out["likelihoods"]["y"].shape == (2, 16, 4, 4) and out["likelihoods"]["z"].shape == (2, 16, 1, 1)
        for likelihoods in out["likelihoods"].values():
            assert bool(((likelihoods > 0) & (likelihoods <= 1)).all())
        bits = sum(-torch.log2(v).sum() for v in out["likelihoods"].values())
        (bits + out["x_hat"].square().sum()).backward()
    for parameter in (codec.g_a[1].trans_block.msa.relative_position_params,
                      codec.y_model.atten_scale[1].non_local_block.block_2.msa.embedding_layer.weight,
                      codec.y_model.lrp_transforms[1][-1].weight):
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0


def test_slices_code_exactly_and_deterministically() -> None:
    codec = tiny()
    codec.update()
    codec.eval()
    x = codec.pad(torch.rand(1, 3, 64, 64))
    coded = codec.compress(x)
    assert sorted(coded.streams) == ["y", "z"]
    assert coded.shapes == codec.latent_shapes(64, 64) == {"z": [1, 16, 1, 1], "y": [1, 16, 4, 4]}
    assert codec.latent_layouts(64, 64)[1] == {"z": [1, 16, 1, 1], "y0": [1, 8, 4, 4], "y1": [1, 8, 4, 4]}
    assert coded.dependencies == {"y": ["z"]}
    assert_exact_deterministic_round_trip(codec, x, coded)
    assert_slice_streams_decode(codec, x, coded)
