"""ESA (RFANet, Liu et al. CVPR 2020) and the SPF fusion module (Chen et al., ICIP 2022) as used by
the Convolutional MM-LIC-TCM of the RGB-D thesis (sec. 2.4.2, fig. 17)."""
import pytest
import torch

from mmcodec.layers.structure_prior_fusion import EnhancedSpatialAttention, StructurePriorFusion


@pytest.mark.parametrize("size", [(3, 3), (8, 5), (15, 15), (16, 40)])
def test_esa_gates_the_input_for_any_map_size(size: tuple[int, int]) -> None:
    torch.manual_seed(0)
    esa = EnhancedSpatialAttention(16)
    x = torch.rand(2, 16, *size)
    out = esa(x)
    assert out.shape == x.shape
    mask = out / x
    assert bool(((mask > 0) & (mask < 1)).all())


def test_esa_pooling_is_rfanet_s_and_clips_to_small_maps() -> None:
    big = torch.rand(1, 2, 16, 22)
    pooled = EnhancedSpatialAttention._max_pool(big)
    assert torch.equal(pooled, torch.nn.functional.max_pool2d(big, 7, 3))
    small = torch.rand(1, 2, 3, 10)          # 3 rows: a window over all of them
    pooled = EnhancedSpatialAttention._max_pool(small)
    assert pooled.shape == (1, 2, 1, 2)
    assert torch.equal(pooled[..., 0, 0], small[..., :7].amax(dim=(-2, -1)))


def test_spf_structure_output_and_gradients() -> None:
    torch.manual_seed(0)
    spf = StructurePriorFusion(16, context_channels=8)
    assert (spf.extract_main.out_channels, spf.extract_context.in_channels, spf.esa.conv1.in_channels,
            spf.esa.conv1.out_channels, spf.fuse.in_channels, spf.fuse.out_channels) == (8, 8, 16, 4, 16, 16)
    with torch.no_grad():                    # off the identity start (test_tcm_fusion tests that start)
        for parameter in spf.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.1)
    main = torch.rand(2, 16, 12, 12, requires_grad=True)
    context = torch.rand(2, 8, 12, 12, requires_grad=True)
    out = spf(main, context)
    assert out.shape == main.shape
    out.square().sum().backward()
    assert main.grad.abs().sum() > 0 and context.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="even"):
        StructurePriorFusion(15)
