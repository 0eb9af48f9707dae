"""Tests of the segmentation pieces (Notes §3.11): mean IoU, convolutionalization, FCN and U-Net shapes."""
import numpy as np
import pytest
import torch

from dlcourse.vision import FCN, DigitCNN, UNet, convolutionalize_head, mean_iou, per_class_iou, unet_output_size


def test_mean_iou_against_sklearn_and_torchmetrics():
    from sklearn.metrics import confusion_matrix, jaccard_score

    gen = torch.Generator().manual_seed(0)
    target = torch.randint(0, 4, (3, 9, 9), generator=gen)
    pred = torch.where(torch.rand(3, 9, 9, generator=gen) < 0.7, target, torch.randint(0, 4, (3, 9, 9), generator=gen))
    ref = jaccard_score(target.flatten().numpy(), pred.flatten().numpy(), average=None, labels=[0, 1, 2, 3])
    np.testing.assert_allclose(per_class_iou(pred, target, 4).numpy(), ref, rtol=1e-6)
    assert abs(mean_iou(pred, target, 4).item() - ref.mean()) < 1e-6
    cm = confusion_matrix(target.flatten().numpy(), pred.flatten().numpy(), labels=[0, 1, 2, 3])
    assert cm.shape == (4, 4)
    try:
        from torchmetrics.classification import MulticlassJaccardIndex
    except ImportError:
        return
    tm = MulticlassJaccardIndex(num_classes=4, average="macro")(pred, target)
    assert abs(mean_iou(pred, target, 4).item() - tm.item()) < 1e-6


def test_mean_iou_skips_absent_classes_and_checks_input():
    target = torch.tensor([[0, 0, 1, 1]])
    pred = torch.tensor([[0, 1, 1, 1]])
    # class 0: 1/2, class 1: 2/3, class 2: absent from both (left out)
    assert abs(mean_iou(pred, target, 3).item() - (0.5 + 2 / 3) / 2) < 1e-6
    assert torch.isnan(per_class_iou(pred, target, 3)[2])
    with pytest.raises(ValueError):
        mean_iou(pred, target[:, :3], 3)
    with pytest.raises(TypeError):
        mean_iou(pred.float(), target, 3)
    with pytest.raises(ValueError):
        mean_iou(pred + 5, target, 3)


def test_convolutionalized_head_equals_dense_head():
    torch.manual_seed(0)
    net = DigitCNN().eval()
    conv_head = convolutionalize_head(net.head, 64, 7).eval()
    x = torch.rand(5, 1, 28, 28)
    feats = net.features(x)
    torch.testing.assert_close(conv_head(feats).flatten(1), net(x), rtol=1e-5, atol=1e-5)
    big = conv_head(net.features(torch.rand(1, 1, 56, 84)))
    assert big.shape == (1, 10, 8, 15)                 # 14×21 features, 7×7 windows: 8×15 positions
    with pytest.raises(ValueError):
        convolutionalize_head(net.head, 32, 7)


def test_unet_output_sizes():
    assert unet_output_size(572) == 388
    net = UNet(3, 2, width=2, depth=2, padding=False)
    size = 100
    assert net(torch.zeros(1, 3, size, size)).shape[-1] == unet_output_size(size, depth=2)
    assert UNet(3, 4, width=4, depth=3)(torch.zeros(2, 3, 32, 32)).shape == (2, 4, 32, 32)
    assert UNet(3, 4, width=4, depth=3, skips=False)(torch.zeros(1, 3, 32, 32)).shape == (1, 4, 32, 32)
    with pytest.raises(ValueError):
        unet_output_size(571)


@pytest.mark.parametrize("variant", [32, 16, 8])
def test_fcn_output_size(variant):
    assert FCN(4, variant, width=4)(torch.zeros(1, 3, 64, 64)).shape == (1, 4, 64, 64)


def test_fcn_upsampling_starts_bilinear():
    net = FCN(1, 32, width=2)
    x = torch.ones(1, 1, 2, 2)
    y = net.up_final(x)
    assert y.shape == (1, 1, 64, 64)
    assert torch.allclose(y[0, 0, 16:48, 16:48], torch.ones(32, 32))   # bilinear: a constant map stays constant
