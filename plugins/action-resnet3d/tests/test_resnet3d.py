import pytest
import torch
import torchvision
from torch import nn

from action_core.api import CheckpointError
from action_resnet3d import NonLocal3d, ResNet3d, inflate_resnet2d_weights, resnet3d_backbone
from action_resnet3d.inflate import load_resnet2d_state_dict


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def randomize_norms(model: nn.Module, seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) * 0.5 + 0.25)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)


@pytest.mark.parametrize("depth", [18, 50])
def test_uninflated_backbone_has_the_2d_resnet_parameter_count(depth):
    backbone = ResNet3d(depth, conv1_kernel=(1, 7, 7), inflate=0, with_pool2=False)
    resnet2d = getattr(torchvision.models, f"resnet{depth}")()
    assert n_params(backbone) == n_params(resnet2d) - n_params(resnet2d.fc)
    assert backbone.feat_dim == resnet2d.fc.in_features


def test_inflated_2d_weights_reproduce_the_2d_network_frame_by_frame():
    resnet2d = torchvision.models.resnet18()
    randomize_norms(resnet2d)
    resnet2d.eval()
    backbone = ResNet3d(18, conv1_kernel=(1, 7, 7), inflate=0, with_pool2=False).eval()
    report = inflate_resnet2d_weights(backbone, resnet2d.state_dict())
    assert report.not_inflated == ()
    assert report.unused_2d == ("fc.bias", "fc.weight")
    clip = torch.randn(2, 3, 3, 64, 64)
    with torch.no_grad():
        out3d = backbone(clip)
        trunk = nn.Sequential(*list(resnet2d.children())[:-2])
        out2d = trunk(clip.transpose(1, 2).flatten(0, 1))
    expected = out2d.reshape(2, 3, *out2d.shape[1:]).transpose(1, 2)
    torch.testing.assert_close(out3d, expected, rtol=1e-4, atol=1e-5)


def test_temporal_kernels_are_the_2d_kernel_repeated_over_time_divided_by_t():
    resnet2d = torchvision.models.resnet18()
    backbone = ResNet3d(18, conv1_kernel=(5, 7, 7), inflate=(1, 0, 1, 0))
    inflate_resnet2d_weights(backbone, resnet2d.state_dict())
    w3d = backbone.conv1.conv.weight
    assert w3d.shape[2] == 5
    for t in range(5):
        torch.testing.assert_close(w3d[:, :, t], resnet2d.conv1.weight / 5)
    w3d = backbone.layer3[0].conv1.conv.weight
    torch.testing.assert_close(w3d.sum(dim=2), resnet2d.layer3[0].conv1.weight)
    torch.testing.assert_close(
        backbone.layer3[0].downsample.bn.running_var, resnet2d.layer3[0].downsample[1].running_var
    )


def test_inflation_reports_what_it_could_not_fill():
    backbone = ResNet3d(50, base_channels=16)
    report = inflate_resnet2d_weights(backbone, torchvision.models.resnet50().state_dict())
    assert report.inflated == ()
    assert any(name == "conv1" and "does not fit" in why for name, why in report.not_inflated)
    assert "layer1.0.conv1.weight" in report.unused_2d


def test_pretrained_from_a_local_file(tmp_path):
    resnet2d = torchvision.models.resnet18()
    path = tmp_path / "resnet18.pth"
    torch.save({"state_dict": resnet2d.state_dict()}, path)
    backbone = resnet3d_backbone(depth=18, pretrained=str(path), inflate=(1, 1, 1, 1))
    assert backbone.inflation_report.not_inflated == ()
    torch.testing.assert_close(backbone.layer4[1].conv2.conv.weight.sum(2), resnet2d.layer4[1].conv2.weight)
    with pytest.raises(CheckpointError, match="cannot read 2D ResNet weights"):
        load_resnet2d_state_dict(18, tmp_path / "missing.pth")


def test_output_shapes_strides_and_pool2():
    clip = torch.randn(1, 3, 8, 64, 64)
    i3d_like = ResNet3d(
        18, base_channels=8, conv1_stride_t=2, pool1_stride_t=2, with_pool2=True, out_indices=(0, 3)
    ).eval()
    stage1, stage4 = i3d_like(clip)
    assert stage1.shape == (1, 8, 1, 16, 16)  # 8 / 2 / 2 / 2 (pool2)
    assert stage4.shape == (1, 64, 1, 2, 2)
    r21d_like = ResNet3d(18, base_channels=8, temporal_strides=(1, 2, 2, 2), with_pool2=False).eval()
    assert r21d_like(clip).shape == (1, 64, 1, 2, 2)


def test_frozen_stages_and_norm_eval():
    backbone = ResNet3d(18, base_channels=8, frozen_stages=2, norm_eval=True)
    backbone.train()
    for name, param in backbone.named_parameters():
        frozen = name.startswith(("conv1.", "layer1.", "layer2."))
        assert param.requires_grad is not frozen, name
    assert not any(m.training for m in backbone.modules() if isinstance(m, nn.BatchNorm3d))
    assert backbone.layer3.training
    thawed = ResNet3d(18, base_channels=8, frozen_stages=-1).train()
    assert all(p.requires_grad for p in thawed.parameters())
    assert all(m.training for m in thawed.modules())


def test_zero_init_residual_zeroes_the_last_norm_of_each_block():
    backbone = ResNet3d(50, base_channels=8, zero_init_residual=True)
    assert torch.count_nonzero(backbone.layer2[1].conv3.bn.weight) == 0
    assert torch.count_nonzero(backbone.layer2[1].conv2.bn.weight) > 0


@pytest.mark.parametrize("mode", ["dot_product", "embedded_gaussian"])
@pytest.mark.parametrize("sub_sample", [False, True])
def test_non_local_block_starts_as_identity_and_then_mixes_positions(mode, sub_sample):
    torch.manual_seed(0)
    block = NonLocal3d(8, mode=mode, sub_sample=sub_sample).eval()
    x = torch.randn(2, 8, 2, 4, 4)
    torch.testing.assert_close(block(x), x)
    with torch.no_grad():
        block.conv_out.bn.weight.fill_(1.0)
        for conv in (block.theta.conv, block.conv_out.conv):
            conv.weight.normal_(std=0.3)
    y = block(x)
    assert y.shape == x.shape and not torch.allclose(y, x)
    # a change at one position moves the output at a distant one: the block is non-local
    x2 = x.clone()
    x2[:, :, 0, 0:2, 0:2] += 5.0
    assert (block(x2)[:, :, 1, 3, 3] - y[:, :, 1, 3, 3]).abs().max() > 1e-3


def test_non_local_blocks_are_placed_per_block_flags():
    backbone = ResNet3d(
        50, base_channels=8, non_local=((0, 0, 0), (0, 1, 0, 1), 0, 0), non_local_cfg={"mode": "dot_product"}
    )
    placed = [name for name, m in backbone.named_modules() if isinstance(m, NonLocal3d)]
    assert placed == ["layer2.1.non_local_block", "layer2.3.non_local_block"]


def test_configuration_errors_name_the_field():
    with pytest.raises(ValueError, match="depth must be one of"):
        ResNet3d(42)
    with pytest.raises(ValueError, match=r"inflate\[1\] has 3 entries but stage 2 has 4 blocks"):
        ResNet3d(50, inflate=(1, (1, 0, 1), 1, 1))
    with pytest.raises(ValueError, match="temporal_strides needs one entry per stage"):
        ResNet3d(18, temporal_strides=(1, 2))
    with pytest.raises(ValueError, match="non-local mode"):
        NonLocal3d(8, mode="gaussian")


def test_unknown_torchvision_weights_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="known: IMAGENET1K_V1, IMAGENET1K_V2"):
        load_resnet2d_state_dict(50, "IMAGENET1K_V9")
    with pytest.raises(ValueError, match="no ImageNet ResNet of depth 42"):
        load_resnet2d_state_dict(42, True)
