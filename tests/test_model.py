"""The networks match ARCHITECTURE.md key for key, and checkpoints round-trip safely."""
import os
import pickle

import pytest
import torch

import checkpoints
import consts
import data
import utils
from model import Net


def expected_shapes(z=50):
    """Every state_dict key and shape of the reference's four networks."""
    e = {}
    for i, (c_in, c_out) in enumerate(zip((3, 64, 128, 256, 512), (64, 128, 256, 512, 1024)), 1):
        e[f'conv_layers.e_conv_{i}.0.weight'] = (c_out, c_in, 5, 5)
        e[f'conv_layers.e_conv_{i}.0.bias'] = (c_out,)
    e['fc_layer.e_fc_1.weight'] = (z, 1024)
    e['fc_layer.e_fc_1.bias'] = (z,)
    g = {'fc.0.weight': (1024 * 16, z + 20), 'fc.0.bias': (1024 * 16,)}
    for i, (c_in, c_out, k) in enumerate([(1024, 512, 5), (512, 256, 5), (256, 128, 5), (128, 64, 5),
                                          (64, 32, 5), (32, 16, 5), (16, 3, 1)], 1):
        g[f'deconv_layers.g_deconv_{i}.0.weight'] = (c_in, c_out, k, k)
        g[f'deconv_layers.g_deconv_{i}.0.bias'] = (c_out,)

    def batchnorm(prefix, n):
        return {f'{prefix}.weight': (n,), f'{prefix}.bias': (n,), f'{prefix}.running_mean': (n,),
                f'{prefix}.running_var': (n,), f'{prefix}.num_batches_tracked': ()}
    dz = {}
    for i, (d_in, d_out) in enumerate([(z, 64), (64, 32), (32, 16)], 1):
        dz[f'layers.dz_fc_{i}.0.weight'] = (d_out, d_in)
        dz[f'layers.dz_fc_{i}.0.bias'] = (d_out,)
        dz.update(batchnorm(f'layers.dz_fc_{i}.1', d_out))
    dz['layers.dz_fc_4.0.weight'] = (1, 16)
    dz['layers.dz_fc_4.0.bias'] = (1,)
    dimg = {}
    for i, (c_in, c_out) in enumerate([(3, 16), (36, 32), (32, 64), (64, 128)], 1):
        dimg[f'conv_layers.dimg_conv_{i}.0.weight'] = (c_out, c_in, 2, 2)
        dimg[f'conv_layers.dimg_conv_{i}.0.bias'] = (c_out,)
        dimg.update(batchnorm(f'conv_layers.dimg_conv_{i}.1', c_out))
    dimg.update({'fc_layers.dimg_fc_1.0.weight': (1024, 8192), 'fc_layers.dimg_fc_1.0.bias': (1024,),
                 'fc_layers.dimg_fc_2.0.weight': (1, 1024), 'fc_layers.dimg_fc_2.0.bias': (1,)})
    return {'E': e, 'G': g, 'Dz': dz, 'Dimg': dimg}


@pytest.fixture
def z_length():
    yield
    consts.NUM_Z_CHANNELS = 50


@pytest.mark.parametrize('z', [50, 100])
def test_state_dict_keys_and_shapes_match_the_reference(z, z_length):
    consts.NUM_Z_CHANNELS = z
    net = Net()
    for name, shapes in expected_shapes(z).items():
        actual = {k: tuple(v.shape) for k, v in getattr(net, name).state_dict().items()}
        assert actual == shapes, name


def test_z_length_is_a_constructor_argument_and_read_from_checkpoints(tmp_path):
    net = Net(z_channels=100)
    assert net.z_channels == 100 and net.E.fc_layer.e_fc_1.out_features == 100 and consts.NUM_Z_CHANNELS == 50
    net.save(tmp_path, networks=('E', 'G'))
    assert checkpoints.z_length_of(tmp_path) == 100
    Net(z_channels=checkpoints.z_length_of(tmp_path)).load(tmp_path)


def test_parameter_counts():
    net = Net()
    count = {name: sum(p.numel() for p in n.parameters()) for name, n in net.networks.items()}
    assert round(count['E'] / 1e6, 1) == 17.5
    assert round(count['G'] / 1e6, 1) == 18.6


def test_forward_shapes_and_ranges():
    net = Net()
    net.eval()
    images = torch.rand(2, 3, 128, 128) * 2 - 1
    z = net.encode(images)
    assert z.shape == (2, 50) and z.abs().max() <= 1
    labels = data.label_tensor([0, 9], [0, 1])
    generated = net.generate(z, labels)
    assert generated.shape == (2, 3, 128, 128) and generated.abs().max() <= 1
    assert net.Dz(z).shape == (2, 1)
    assert net.Dimg(images, labels).shape == (2, 1)


def test_dimg_tiles_the_label_over_every_position():
    net = Net(precision='fp32', plain=True)  # the fast path folds the tiled label into a bias instead
    net.eval()
    images = torch.rand(2, 3, 128, 128) * 2 - 1
    labels = data.label_tensor([0, 9], [0, 1])
    captured = {}
    net.Dimg.conv_layers.dimg_conv_2.register_forward_hook(lambda m, inp, out: captured.update(x=inp[0]))
    net.Dimg(images, labels)
    tiled = captured['x'][:, 16:]
    assert tiled.shape == (2, 20, 64, 64)
    assert torch.equal(tiled, labels[:, :, None, None].expand(-1, -1, 64, 64))


def test_save_load_round_trip_is_exact(tmp_path):
    net = Net()
    net.save(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ['Dimg.dat', 'Dz.dat', 'E.dat', 'G.dat']
    other = Net().load(tmp_path, slim=False)
    for name in consts.NETWORK_NAMES:
        a, b = getattr(net, name).state_dict(), getattr(other, name).state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), name


def test_slim_load_reads_only_e_and_g(tmp_path):
    Net().save(tmp_path, networks=('E', 'G'))
    Net().load(tmp_path, slim=True)
    with pytest.raises(utils.CheckpointError, match='Dz.dat: no such checkpoint file'):
        Net().load(tmp_path, slim=False)


def test_fp16_checkpoints_load_as_fp32(tmp_path):
    net = Net()
    net.save(tmp_path, networks=('E', 'G'), dtype=torch.float16)
    loaded = Net().load(tmp_path)
    weight = loaded.E.fc_layer.e_fc_1.weight
    assert weight.dtype == torch.float32
    assert torch.allclose(weight, net.E.fc_layer.e_fc_1.weight, atol=1e-3)


def test_z_length_mismatch_names_file_and_lengths(tmp_path, z_length):
    consts.NUM_Z_CHANNELS = 100
    Net().save(tmp_path)
    consts.NUM_Z_CHANNELS = 50
    with pytest.raises(utils.CheckpointError, match=r'E\.dat: .*saved with z length 100, this network has 50\)'):
        Net().load(tmp_path)


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


def test_pickle_carrying_code_is_refused(tmp_path):
    marker = tmp_path / 'pwned'
    with open(tmp_path / 'E.dat', 'wb') as f:
        pickle.dump({'x': _Exploit(str(marker))}, f)
    torch.save(Net().G.state_dict(), tmp_path / 'G.dat')
    with pytest.raises(utils.CheckpointError, match='E.dat: not a weights-only state_dict, refused'):
        Net().load(tmp_path)
    assert not marker.exists()


def test_interrupted_save_keeps_the_previous_file(tmp_path, monkeypatch):
    net = Net()
    net.save(tmp_path)
    before = (tmp_path / 'E.dat').read_bytes()

    def dying_save(obj, f, *args, **kwargs):
        with open(f, 'wb') as out:
            out.write(b'half a file')
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, 'save', dying_save)
    with pytest.raises(KeyboardInterrupt):
        Net().save(tmp_path)
    assert (tmp_path / 'E.dat').read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ['Dimg.dat', 'Dz.dat', 'E.dat', 'G.dat']
    monkeypatch.undo()
    Net().load(tmp_path, slim=False)


def test_dimg_features_feed_its_verdict():
    """DiscriminatorImg.features (feature matching) are the layers that forward judges with, in both label modes."""
    from data import label_tensor
    torch.manual_seed(0)
    net = Net()
    net.Dimg.eval()
    images, labels = torch.rand(3, 3, 128, 128) * 2 - 1, label_tensor([0, 4, 9], [0, 1, 0])
    for as_bias in (True, False):
        net.Dimg.labels_as_bias = as_bias
        features = net.Dimg.features(images, labels)
        assert [f.shape[1:] for f in features] == [(16, 64, 64), (32, 32, 32), (64, 16, 16), (128, 8, 8)]
        assert torch.allclose(net.Dimg.fc_layers(features[-1].flatten(1)), net.Dimg(images, labels))
