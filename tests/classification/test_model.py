"""CHR network: output shapes per variant and backbone, CAM consistency, trunk key layout."""

import pytest
import torch
from torchvision.models import resnet18

from segloc.classification.chr import VARIANTS, CHRNet


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_outputs_per_variant(variant):
    model = CHRNet("resnet18", num_classes=5, variant=variant).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        logits = model(x)
        maps = model.level_maps(x)
    levels = 1 if variant == "baseline" else 3
    assert len(logits) == levels and all(z.shape == (2, 5) for z in logits)
    assert [m.shape[-1] for m in maps] == [2, 4, 8][:levels]  # top level first: stride 32, 16, 8
    assert [m.shape[1] for m in maps] == [512, 256, 128][:levels]
    assert torch.allclose(model.predict(x), torch.stack(logits).mean(0), atol=1e-6)
    assert model.cams(x).shape == (2, 5, 64, 64)
    has_fuse = len(model.fuse) > 0
    assert has_fuse == VARIANTS[variant].refine


def test_paper_resolution_levels_are_28_14_7():
    model = CHRNet("resnet18", variant="chr").eval()
    with torch.no_grad():
        maps = model.level_maps(torch.randn(1, 3, 224, 224))
    assert [m.shape[-1] for m in maps] == [7, 14, 28]


def test_refinement_lets_the_top_level_change_lower_predictions():
    model = CHRNet("resnet18", variant="chr").eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        before = model(x)
        model.trunk.body.layer4[-1].conv2.weight.mul_(3.0)
        after = model(x)
    assert not torch.allclose(before[1], after[1])  # middle level sees layer4 through the concat


def test_cam_spatial_mean_is_the_logit():
    model = CHRNet("resnet18", variant="baseline").eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        cams = model.cams(x, size=(2, 2))  # the top map's own resolution: no resampling
        assert torch.allclose(cams.mean(dim=(2, 3)), model.predict(x), atol=1e-5)


@pytest.mark.parametrize(
    "arch,size,channels", [("densenet121", 96, [1024, 1024, 512]), ("inception_v3", 96, [2048, 768, 288])]
)
def test_other_backbones(arch, size, channels):
    model = CHRNet(arch, num_classes=3, variant="chr").eval()
    with torch.no_grad():
        x = torch.randn(1, 3, size, size)
        maps, logits = model.level_maps(x), model(x)
    assert [m.shape[1] for m in maps] == [channels[0], channels[1], channels[2]]
    assert maps[0].shape[-1] < maps[1].shape[-1] < maps[2].shape[-1]
    assert len(logits) == 3 and logits[0].shape == (1, 3)


def test_resnet_trunk_keys_are_torchvision_keys_under_body():
    model = CHRNet("resnet18", variant="chr")
    expected = {f"body.{k}" for k in resnet18().state_dict() if not k.startswith("fc.")}
    assert set(model.trunk.state_dict()) == expected


def test_unknown_names_are_rejected():
    with pytest.raises(ValueError, match="unknown CHR variant"):
        CHRNet("resnet18", variant="chrr")
    with pytest.raises(ValueError, match="unknown backbone"):
        CHRNet("vgg16")


@pytest.mark.parametrize("arch", ["resnet18", "densenet121"])
def test_user_weights_file_in_torchvision_layout(arch, tmp_path):
    from torchvision import models

    reference = getattr(models, arch)(weights=None)
    path = tmp_path / f"{arch}.pth"
    torch.save(reference.state_dict(), path)
    model = CHRNet(arch, variant="chr", weights=path)
    body = model.trunk.body
    first = body.conv1.weight if arch == "resnet18" else body.conv0.weight
    expected = reference.conv1.weight if arch == "resnet18" else reference.features.conv0.weight
    assert torch.equal(first, expected)
