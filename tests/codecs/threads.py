"""Shared helper of the codec tests: decoding with one thread, the default restored after."""
import torch

from mmcodec.codecs import CodedLatents, LearnedCodec


def decompress_single_threaded(codec: LearnedCodec, coded: CodedLatents) -> tuple[torch.Tensor, str]:
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        return codec.decompress(coded)
    finally:
        torch.set_num_threads(threads)
