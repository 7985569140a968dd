"""The four CAAE networks (E, G, Dz, Dimg) and Net, the facade that holds them on a device at a precision.

State_dict keys and shapes follow the reference implementation exactly (see tests/test_model.py),
so checkpoints are interchangeable; only the way some layers are computed differs (faster, same math).
Training lives in train.py, the games in games.py; Net keeps the reference's methods as one-line delegates.
"""
import functools
import os
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

import checkpoints
import consts
import precision
from images import to_model_range


class Encoder(nn.Module):
    """128x128x3 image -> z in [-1, 1]^z_channels."""

    def __init__(self, z_channels=None):
        super().__init__()
        channels = (consts.IMAGE_DEPTH, 64, 128, 256, 512, 1024)
        self.conv_layers = nn.Sequential(OrderedDict(
            (f'e_conv_{i}', nn.Sequential(nn.Conv2d(c_in, c_out, kernel_size=5, stride=2), nn.ReLU()))
            for i, (c_in, c_out) in enumerate(zip(channels, channels[1:]), 1)))
        self.fc_layer = nn.Sequential(OrderedDict([
            ('e_fc_1', nn.Linear(channels[-1], z_channels or consts.NUM_Z_CHANNELS)),
            ('tanh_1', nn.Tanh())]))
        self.last_conv_as_linear = True

    def forward(self, x):
        *first_convs, last_conv = self.conv_layers
        for layer in first_convs:
            x = layer(x)
        if self.last_conv_as_linear:
            x = F.relu(_conv_as_linear(x, last_conv[0]))
        else:
            x = last_conv(x).flatten(1)
        return self.fc_layer(x)


def _conv_as_linear(x, conv):
    """A conv whose kernel covers its whole input (e_conv_5: 5x5 -> 1x1) as a Linear on the same weights, viewed.

    Flattened in the weight's memory order, so neither side is copied; ~7x faster than the conv kernel on CPU."""
    order = (0, 2, 3, 1) if conv.weight.is_contiguous(memory_format=torch.channels_last) else (0, 1, 2, 3)
    return F.linear(x.permute(order).flatten(1), conv.weight.permute(order).flatten(1), conv.bias)


def _deconv_as_matmul(x, deconv):
    """A transposed conv as one matmul into columns and a col2im (F.fold).

    For g_deconv_1 (1024 -> 512 channels from 4x4) ~1.6x faster than the CPU kernel in fp32. Needs the weight in
    the default layout, where (c_in, c_out, k, k) -> (c_in, c_out*k*k) is a view."""
    n, _, h, w = x.shape
    (stride, _), (padding, _), (out_pad, _) = deconv.stride, deconv.padding, deconv.output_padding
    k = deconv.kernel_size[0]
    out_size = [(d - 1) * stride - 2 * padding + k + out_pad for d in (h, w)]
    columns = deconv.weight.flatten(1).t() @ x.flatten(2)  # (n, c_out*k*k, h*w)
    out = F.fold(columns, out_size, k, padding=padding, stride=stride)
    return out + deconv.bias.to(out.dtype)[:, None, None]


class Generator(nn.Module):
    """Labeled z (z + 20 label values) -> 128x128x3 image in [-1, 1]."""

    def __init__(self, z_channels=None):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear((z_channels or consts.NUM_Z_CHANNELS) + consts.LABEL_LEN, 1024 * 4 * 4), nn.ReLU())
        channels = (1024, 512, 256, 128, 64, 32)
        layers = [(c_in, c_out, 5, 2, 2, 1, nn.ReLU()) for c_in, c_out in zip(channels, channels[1:])]
        layers += [(32, 16, 5, 1, 2, 0, nn.ReLU()), (16, consts.IMAGE_DEPTH, 1, 1, 0, 0, nn.Tanh())]
        self.deconv_layers = nn.Sequential(OrderedDict(
            (f'g_deconv_{i}', nn.Sequential(nn.ConvTranspose2d(c_in, c_out, k, s, padding=p, output_padding=op), act))
            for i, (c_in, c_out, k, s, p, op, act) in enumerate(layers, 1)))
        self.first_deconv_as_matmul = True

    def forward(self, z_l):
        x = self.fc(z_l).view(-1, 1024, 4, 4)
        first, *rest = self.deconv_layers
        if self.first_deconv_as_matmul:
            x = first[1](_deconv_as_matmul(x, first[0]))
        else:
            x = first(x)
        if rest[0][0].weight.is_contiguous(memory_format=torch.channels_last):
            x = x.contiguous(memory_format=torch.channels_last)
        for layer in rest:
            x = layer(x)
        return x


class DiscriminatorZ(nn.Module):
    """z -> logit that z was drawn from the uniform prior."""

    def __init__(self, z_channels=None):
        super().__init__()
        dims = (z_channels or consts.NUM_Z_CHANNELS, 64, 32, 16)
        blocks = [(f'dz_fc_{i}', nn.Sequential(nn.Linear(d_in, d_out), nn.BatchNorm1d(d_out), nn.ReLU()))
                  for i, (d_in, d_out) in enumerate(zip(dims, dims[1:]), 1)]
        blocks.append(('dz_fc_4', nn.Sequential(nn.Linear(dims[-1], 1))))
        self.layers = nn.Sequential(OrderedDict(blocks))

    def forward(self, z):
        return self.layers(z)


class DiscriminatorImg(nn.Module):
    """(image, label) -> logit that the image is a real face of that age and gender."""

    def __init__(self):
        super().__init__()
        channels = ((consts.IMAGE_DEPTH, 16), (16 + consts.LABEL_LEN, 32), (32, 64), (64, 128))
        self.conv_layers = nn.Sequential(OrderedDict(
            (f'dimg_conv_{i}', nn.Sequential(nn.Conv2d(c_in, c_out, consts.KERNEL_SIZE, stride=2),
                                      nn.BatchNorm2d(c_out), nn.ReLU()))
            for i, (c_in, c_out) in enumerate(channels, 1)))
        self.fc_layers = nn.Sequential(OrderedDict([
            ('dimg_fc_1', nn.Sequential(nn.Linear(128 * 8 * 8, 1024), nn.LeakyReLU())),
            ('dimg_fc_2', nn.Sequential(nn.Linear(1024, 1)))]))
        self.labels_as_bias = True

    def forward(self, images, labels):
        return self.fc_layers(self.features(images, labels)[-1].flatten(1))

    def features(self, images, labels):
        """The outputs of the four conv layers (the last one feeds the fully connected layers)."""
        first, second, *rest = self.conv_layers
        outputs = [first(images)]
        if self.labels_as_bias:
            outputs.append(second[1:](_conv_with_constant_channels(outputs[0], labels, second[0])))
        else:
            tiled = labels[:, :, None, None].expand(-1, -1, *outputs[0].shape[2:]).to(outputs[0].dtype)
            outputs.append(second(torch.cat((outputs[0], tiled), dim=1)))
        for layer in rest:
            outputs.append(layer(outputs[-1]))
        return outputs


def _conv_with_constant_channels(x, values, conv):
    """conv(cat(x, `values` tiled over x's map)) without building the tiled map (dimg_conv_2, no padding).

    Every output pixel sees the constant channels at all kernel taps, so they add a per-image bias:
    `values` times the kernel summed over its taps (same weight tensor, split)."""
    w_x, w_values = conv.weight.split((x.shape[1], values.shape[1]), dim=1)
    bias = conv.bias + values @ w_values.sum((2, 3)).t()
    out = F.conv2d(x, w_x, None, conv.stride)
    return out + bias.to(out.dtype)[:, :, None, None]


class Net:
    """E, G, Dz and Dimg on one device at one precision: save, load, encode, generate, and the reference's API."""

    def __init__(self, device=None, precision='auto', plain=False, z_channels=None):
        """`precision`: 'fp32' or 'bf16' for everything, or 'auto': each workload ('train', 'personalise', 'render')
        at the precision that runs it faster here (workload_dtype). `plain`: compute every layer the reference way,
        in the default memory layout (the baseline that bench.py measures the fast path against). `z_channels`: the
        length of z (None: consts.NUM_Z_CHANNELS as it is now, so `consts.NUM_Z_CHANNELS = 100; Net()` works)."""
        self.z_channels = z_channels or consts.NUM_Z_CHANNELS
        self.E = Encoder(self.z_channels)
        self.G = Generator(self.z_channels)
        self.Dz = DiscriminatorZ(self.z_channels)
        self.Dimg = DiscriminatorImg()
        self.plain = plain
        for network, flag in ((self.E, 'last_conv_as_linear'), (self.G, 'first_deconv_as_matmul'),
                              (self.Dimg, 'labels_as_bias')):
            setattr(network, flag, not plain)
        self.precision = precision
        self.to(device or 'cpu')

    def __repr__(self):
        return os.linesep.join(repr(getattr(self, name)) for name in consts.NETWORK_NAMES)

    @property
    def networks(self):
        return {name: getattr(self, name) for name in consts.NETWORK_NAMES}

    def to(self, device):
        self.device = torch.device(device)
        for network in self.networks.values():
            network.to(self.device)
        self.dtypes = {}  # each workload's autocast dtype, found on first use (workload_dtype)
        if not self.plain:
            for network in (self.E, self.G, self.Dimg):
                network.to(memory_format=torch.channels_last)
            first_deconv = self.G.deconv_layers.g_deconv_1[0].weight  # computed on a view of the default layout
            first_deconv.data = first_deconv.data.contiguous()
        return self

    def train(self):
        for network in self.networks.values():
            network.train()

    def eval(self):
        for network in self.networks.values():
            network.eval()

    def workload_dtype(self, workload='train'):
        """bf16 or None (fp32) for 'train', 'personalise' or 'render' (precision.autocast_dtype), found on first use."""
        if workload not in self.dtypes:
            new_net = functools.partial(Net, self.device, precision='fp32', z_channels=self.z_channels)
            measure = functools.partial(precision.measure_precisions, workload, new_net)
            self.dtypes[workload] = precision.autocast_dtype(self.device, self.precision, workload, measure)
        return self.dtypes[workload]

    @property
    def autocast_dtype(self):
        """The training step's autocast dtype: bf16, or None (fp32)."""
        return self.workload_dtype('train')

    def autocast(self, workload='train'):
        """bf16 autocast where `workload` runs faster in it (see workload_dtype), a no-op otherwise."""
        dtype = self.workload_dtype(workload)
        return torch.autocast(self.device.type, dtype=dtype or torch.float32, enabled=dtype is not None)

    def images_to_device(self, images):
        """uint8 or [-1, 1] float images -> float [-1, 1] on the device, channels_last on the fast path."""
        images = to_model_range(images.to(self.device, non_blocking=True))
        if not self.plain:
            images = images.contiguous(memory_format=torch.channels_last)
        return images

    def batch(self, dataset, idx):
        """Images and labels of the dataset rows `idx`, on the device, ready for a training step."""
        return self.images_to_device(dataset.images_tensor(idx)), dataset.labels_tensor(idx).to(self.device)

    def save(self, path, to_save_models=True, networks=consts.NETWORK_NAMES, dtype=None):
        """Write one state_dict file per network into `path` (atomically); return `path`."""
        os.makedirs(path, exist_ok=True)
        if to_save_models:
            for name in networks:
                checkpoints.save_state_dict(getattr(self, name), checkpoints.network_path(path, name), dtype)
        return path

    @classmethod
    def from_checkpoint(cls, path, **kwargs):
        """A Net with the z length of the checkpoint in `path`, its E and G loaded (for playing and evaluating)."""
        return cls(z_channels=checkpoints.z_length_of(path), **kwargs).load(path, slim=True)

    def load(self, path, slim=True):
        """Load E and G (and Dz, Dimg unless slim) from `path`; raises utils.CheckpointError on any mismatch."""
        for name in ('E', 'G') if slim else consts.NETWORK_NAMES:
            checkpoints.load_state_dict(getattr(self, name), checkpoints.network_path(path, name))
        return self

    def encode(self, images):
        with torch.no_grad(), self.autocast('render'):
            return self.E(self.images_to_device(images)).float()

    def generate(self, z, labels):
        with torch.no_grad(), self.autocast('render'):
            return self.G(torch.cat((z.to(self.device), labels.to(self.device)), dim=1)).float()

    def test_single(self, image_tensor, age, gender, target, watermark=False):
        """The aging game (games.aging): saves out_<gender>_<age>.png in `target` and returns its path."""
        import games  # the games and training sit above the networks: the reference's methods reach up to them
        return games.aging(self, image_tensor, age, gender, target, watermark)

    def morph(self, image_tensors, ages, genders, length, target):
        """The morph game (games.morph): saves morph.png in `target` and returns its path."""
        import games
        return games.morph(self, image_tensors, ages, genders, length, target)

    def kids(self, image_tensors, length, target, seed=None):
        """The kids game (games.kids): saves kids.png in `target` and returns its path."""
        import games
        return games.kids(self, image_tensors, length, target, seed)

    def teach(self, utkface_path, batch_size=128, epochs=1, weight_decay=1e-5, lr=2e-4, should_plot=False,
              betas=(0.5, 0.999), valid_size=None, where_to_save=None, models_saving='always'):
        """Train on a UTKFace folder (train.run), writing each epoch into where_to_save/epoch<N>/."""
        import train
        config = train.TrainConfig(data=utkface_path, batch_size=batch_size, epochs=epochs, weight_decay=weight_decay,
                                   lr=lr, should_plot=should_plot, betas=betas, valid_size=valid_size,
                                   output=where_to_save, models_saving=models_saving)
        return train.run(self, config)
