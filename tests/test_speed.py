"""The fast path (bf16 autocast, channels_last, slow layers computed another way, fused Adam) computes the same
function as the plain fp32 path, and their checkpoints are interchangeable."""
import functools
import os

import pytest
import torch

import consts
import data
import model
import recipes
import train
from conftest import SAMPLE
from model import Net

# Largest difference allowed, relative to the largest plain value: fp32 only reorders sums; bf16 keeps 8 bits.
TOLERANCE = {'fp32': 1e-4, 'bf16': 5e-2}
# Losses in recipes.RECIPES["reference"].losses order, ez and dg unweighted; `reg` (pixel differences of ~3e-3) gets an
# absolute tolerance of bf16's resolution of [-1, 1] pixels, 2**-8.
LOSS_SCALE = torch.tensor([1, 1, 1, consts.ADV_LOSS_WEIGHT, 1, consts.ADV_LOSS_WEIGHT])
LOSS_TOLERANCE = {'fp32': dict(rtol=1e-4, atol=1e-6), 'bf16': dict(rtol=5e-2, atol=2 ** -8)}


@pytest.fixture(scope='module')
def batch():
    torch.manual_seed(0)
    images = torch.randint(0, 256, (4, 3, consts.IMAGE_LENGTH, consts.IMAGE_LENGTH), dtype=torch.uint8)
    return images, data.label_tensor([0, 3, 6, 9], [0, 1, 1, 0])


def twins(precision):
    """A fast Net and a plain fp32 Net with the same weights."""
    consts.NUM_Z_CHANNELS = 50
    fast, plain = Net(precision=precision), Net(precision='fp32', plain=True)
    for name, network in plain.networks.items():
        network.load_state_dict(fast.networks[name].state_dict())
    return fast, plain


def training_step(net):
    return functools.partial(recipes.reference_step, net, train.make_optimizers(net, train.TrainConfig()))


def assert_close(fast, plain, precision):
    fast, plain = fast.detach().float(), plain.detach().float()
    assert fast.shape == plain.shape
    assert (fast - plain).abs().max() <= TOLERANCE[precision] * plain.abs().max()


def outputs(net, images, labels, z):
    """Each network on the same inputs (BatchNorm in Dz would magnify the encoders' differences in z)."""
    with torch.no_grad(), net.autocast():
        x = net.images_to_device(images)
        return net.E(x), net.G(torch.cat((z, labels), dim=1)), net.Dz(z), net.Dimg(x, labels)


@pytest.mark.parametrize('precision', ['fp32', 'bf16'])
def test_fast_path_computes_the_same_function(batch, precision):
    images, labels = batch
    fast, plain = twins(precision)
    assert fast.autocast_dtype == (torch.bfloat16 if precision == 'bf16' else None)
    z = torch.rand(len(images), consts.NUM_Z_CHANNELS) * 2 - 1
    for f, p in zip(outputs(fast, images, labels, z), outputs(plain, images, labels, z)):
        assert_close(f, p, precision)
    torch.manual_seed(1)  # the same z prior in both steps
    fast_losses = training_step(fast)(fast.images_to_device(images), labels)
    torch.manual_seed(1)
    plain_losses = training_step(plain)(plain.images_to_device(images), labels)
    torch.testing.assert_close(fast_losses / LOSS_SCALE, plain_losses / LOSS_SCALE, **LOSS_TOLERANCE[precision])


@pytest.mark.parametrize('layout', [torch.contiguous_format, torch.channels_last])
def test_rewritten_layers_match_their_modules(layout):
    """Exact in fp32 (at random init the later layers of G hide much of what its first layer does)."""
    torch.manual_seed(3)
    net = Net(precision='fp32', plain=True)
    conv = net.E.conv_layers.e_conv_5[0].to(memory_format=layout)
    x = torch.randn(4, 512, 5, 5).contiguous(memory_format=layout)
    assert_close(model._conv_as_linear(x, conv), conv(x).flatten(1), 'fp32')
    deconv = net.G.deconv_layers.g_deconv_1[0]
    x = torch.randn(4, 1024, 4, 4)
    assert_close(model._deconv_as_matmul(x, deconv), deconv(x), 'fp32')
    conv = net.Dimg.conv_layers.dimg_conv_2[0].to(memory_format=layout)
    x = torch.randn(4, 16, 64, 64).contiguous(memory_format=layout)
    labels = data.label_tensor([1, 2, 3, 4], [0, 1, 0, 1])
    tiled = labels[:, :, None, None].expand(-1, -1, 64, 64)
    assert_close(model._conv_with_constant_channels(x, labels, conv), conv(torch.cat((x, tiled), dim=1)), 'fp32')


def test_checkpoints_are_interchangeable(tmp_path):
    fast, plain = Net(), Net(precision='fp32', plain=True)
    plain.load(fast.save(str(tmp_path / 'fast')), slim=False)
    for name, network in fast.networks.items():
        fast_state, plain_state = network.state_dict(), plain.networks[name].state_dict()
        assert list(fast_state) == list(plain_state)
        assert all(torch.equal(fast_state[k], plain_state[k]) for k in fast_state)
    torch.manual_seed(2)
    plain = Net(precision='fp32', plain=True)
    fast.load(plain.save(str(tmp_path / 'plain')), slim=False)
    for name, network in plain.networks.items():
        assert all(torch.equal(v, fast.networks[name].state_dict()[k]) for k, v in network.state_dict().items())


def test_cache_held_as_a_tensor_gives_the_same_batches(tmp_path):
    """The path a GPU takes (FaceDataset.to), checked on the CPU."""
    for name in sorted(os.listdir(SAMPLE))[:6]:
        os.symlink(SAMPLE / name, tmp_path / name)
    dataset = data.FaceDataset.from_folder(str(tmp_path), show_progress=False)
    net, idx = Net(precision='fp32'), torch.tensor([4, 0, 2])
    images, labels = net.batch(dataset, idx)
    device_images, device_labels = net.batch(dataset.to('cpu'), idx)
    assert torch.equal(images, device_images) and torch.equal(labels, device_labels)
