"""The four CAAE networks (E, G, Dz, Dimg) and the Net facade that trains and plays with them.

State_dict keys and shapes follow the reference implementation exactly (see tests/test_model.py),
so checkpoints are interchangeable; only the way some layers are computed differs (faster, same math).
"""
import functools
import os
import time
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

import consts
import utils


def _block(*layers):
    return nn.Sequential(*layers)


class Encoder(nn.Module):
    """128x128x3 image -> z in [-1, 1]^NUM_Z_CHANNELS."""

    def __init__(self):
        super().__init__()
        channels = (consts.IMAGE_DEPTH, 64, 128, 256, 512, 1024)
        self.conv_layers = nn.Sequential(OrderedDict(
            (f'e_conv_{i}', _block(nn.Conv2d(c_in, c_out, kernel_size=5, stride=2), nn.ReLU()))
            for i, (c_in, c_out) in enumerate(zip(channels, channels[1:]), 1)))
        self.fc_layer = nn.Sequential(OrderedDict([
            ('e_fc_1', nn.Linear(channels[-1], consts.NUM_Z_CHANNELS)),
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

    def __init__(self):
        super().__init__()
        self.fc = _block(nn.Linear(consts.NUM_Z_CHANNELS + consts.LABEL_LEN, 1024 * 4 * 4), nn.ReLU())
        channels = (1024, 512, 256, 128, 64, 32)
        layers = [(c_in, c_out, 5, 2, 2, 1, nn.ReLU()) for c_in, c_out in zip(channels, channels[1:])]
        layers += [(32, 16, 5, 1, 2, 0, nn.ReLU()), (16, consts.IMAGE_DEPTH, 1, 1, 0, 0, nn.Tanh())]
        self.deconv_layers = nn.Sequential(OrderedDict(
            (f'g_deconv_{i}', _block(nn.ConvTranspose2d(c_in, c_out, k, s, padding=p, output_padding=op), act))
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

    def __init__(self):
        super().__init__()
        dims = (consts.NUM_Z_CHANNELS, 64, 32, 16)
        blocks = [(f'dz_fc_{i}', _block(nn.Linear(d_in, d_out), nn.BatchNorm1d(d_out), nn.ReLU()))
                  for i, (d_in, d_out) in enumerate(zip(dims, dims[1:]), 1)]
        blocks.append(('dz_fc_4', _block(nn.Linear(dims[-1], 1))))
        self.layers = nn.Sequential(OrderedDict(blocks))

    def forward(self, z):
        return self.layers(z)


class DiscriminatorImg(nn.Module):
    """(image, label) -> logit that the image is a real face of that age and gender."""

    def __init__(self):
        super().__init__()
        channels = ((consts.IMAGE_DEPTH, 16), (16 + consts.LABEL_LEN, 32), (32, 64), (64, 128))
        self.conv_layers = nn.Sequential(OrderedDict(
            (f'dimg_conv_{i}', _block(nn.Conv2d(c_in, c_out, consts.KERNEL_SIZE, stride=2),
                                      nn.BatchNorm2d(c_out), nn.ReLU()))
            for i, (c_in, c_out) in enumerate(channels, 1)))
        self.fc_layers = nn.Sequential(OrderedDict([
            ('dimg_fc_1', _block(nn.Linear(128 * 8 * 8, 1024), nn.LeakyReLU())),
            ('dimg_fc_2', _block(nn.Linear(1024, 1)))]))
        self.labels_as_bias = True

    def forward(self, images, labels):
        first, second, *rest = self.conv_layers
        x = first(images)
        if self.labels_as_bias:
            x = second[1:](_conv_with_constant_channels(x, labels, second[0]))
        else:
            tiled = labels[:, :, None, None].expand(-1, -1, *x.shape[2:]).to(x.dtype)
            x = second(torch.cat((x, tiled), dim=1))
        for layer in rest:
            x = layer(x)
        return self.fc_layers(x.flatten(1))


def _conv_with_constant_channels(x, values, conv):
    """conv(cat(x, `values` tiled over x's map)) without building the tiled map (dimg_conv_2, no padding).

    Every output pixel sees the constant channels at all kernel taps, so they add a per-image bias:
    `values` times the kernel summed over its taps (same weight tensor, split)."""
    w_x, w_values = conv.weight.split((x.shape[1], values.shape[1]), dim=1)
    bias = conv.bias + values @ w_values.sum((2, 3)).t()
    out = F.conv2d(x, w_x, None, conv.stride)
    return out + bias.to(out.dtype)[:, :, None, None]


def _bce_with_logits(logits, target_value):
    return F.binary_cross_entropy_with_logits(logits.float(), torch.full_like(logits, target_value, dtype=torch.float))


def total_variation(images):
    """Mean absolute difference between neighbouring pixels (logged as `reg`)."""
    return (F.l1_loss(images[:, :, :, :-1], images[:, :, :, 1:])
            + F.l1_loss(images[:, :, :-1, :], images[:, :, 1:, :]))


class Net:
    """E, G, Dz and Dimg with their three Adam optimizers: train, save, load and play the games."""

    def __init__(self, device=None, precision='auto', plain=False):
        """`precision`: see utils.autocast_dtype. `plain`: compute every layer the reference way, in the default
        memory layout, with for-loop Adam (the baseline that bench.py measures the fast path against)."""
        self.E = Encoder()
        self.G = Generator()
        self.Dz = DiscriminatorZ()
        self.Dimg = DiscriminatorImg()
        self.plain = plain
        for network, flag in ((self.E, 'last_conv_as_linear'), (self.G, 'first_deconv_as_matmul'),
                              (self.Dimg, 'labels_as_bias')):
            setattr(network, flag, not plain)
        adam = functools.partial(torch.optim.Adam, fused=not plain)
        self.eg_optimizer = adam(list(self.E.parameters()) + list(self.G.parameters()))
        self.dz_optimizer = adam(self.Dz.parameters())
        self.di_optimizer = adam(self.Dimg.parameters())
        self.device = torch.device('cpu')
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
        self.autocast_dtype = utils.autocast_dtype(self.device, self.precision)
        if not self.plain:
            for network in (self.E, self.G, self.Dimg):
                network.to(memory_format=torch.channels_last)
            first_deconv = self.G.deconv_layers.g_deconv_1[0].weight  # computed on a view of the default layout
            first_deconv.data = first_deconv.data.contiguous()
        return self

    def cpu(self):
        return self.to('cpu')

    def cuda(self):
        return self.to('cuda')

    def train(self):
        for network in self.networks.values():
            network.train()

    def eval(self):
        for network in self.networks.values():
            network.eval()

    def autocast(self):
        """bf16 autocast where it runs faster than fp32 (see utils.autocast_dtype), a no-op otherwise."""
        return torch.autocast(self.device.type, dtype=self.autocast_dtype or torch.float32,
                              enabled=self.autocast_dtype is not None)

    def images_to_device(self, images):
        """uint8 or [-1, 1] float images -> float [-1, 1] on the device, channels_last on the fast path."""
        images = utils.to_model_range(images.to(self.device, non_blocking=True))
        if not self.plain:
            images = images.contiguous(memory_format=torch.channels_last)
        return images

    def batch(self, dataset, idx):
        """Images and labels of the dataset rows `idx`, on the device, ready for teach_step."""
        return self.images_to_device(dataset.images_tensor(idx)), dataset.labels_tensor(idx).to(self.device)

    def save(self, path, to_save_models=True, networks=consts.NETWORK_NAMES, dtype=None):
        """Write one state_dict file per network into `path` (atomically); return `path`."""
        os.makedirs(path, exist_ok=True)
        if to_save_models:
            for name in networks:
                utils.save_state_dict(getattr(self, name), os.path.join(path, name + consts.TRAINED_MODEL_EXT), dtype)
        return path

    def load(self, path, slim=True):
        """Load E and G (and Dz, Dimg unless slim) from `path`; raises utils.CheckpointError on any mismatch."""
        names = ('E', 'G') if slim else consts.NETWORK_NAMES
        for name in names:
            utils.load_state_dict(getattr(self, name), os.path.join(path, name + consts.TRAINED_MODEL_EXT))
        return self

    def encode(self, images):
        with torch.no_grad(), self.autocast():
            return self.E(self.images_to_device(images)).float()

    def generate(self, z, labels):
        with torch.no_grad(), self.autocast():
            return self.G(torch.cat((z.to(self.device), labels.to(self.device)), dim=1)).float()

    def test_single(self, image_tensor, age, gender, target, watermark=False):
        """The aging game: one face at all 10 age groups with its gender; saves out_<gender>_<age>.png in `target`.

        The row is the input and the 10 generated faces; the input and the face of its own age group
        are framed in white."""
        self.eval()
        face = utils.to_model_range(image_tensor).cpu()
        groups = torch.arange(consts.NUM_AGES)
        z = self.encode(face[None]).expand(consts.NUM_AGES, -1)
        generated = self.generate(z, utils.label_tensor(groups, torch.full_like(groups, int(gender)))).cpu()
        gender_name = consts.GENDER_NAMES[int(gender)]
        if watermark:
            face = utils.watermark(face, f'{gender_name}, {age}')
        own_group = utils.age_to_group(age) + 1  # its index in the row, after the input
        strip = utils.image_strip(torch.cat((face[None], generated)), framed=(0, own_group), padding=4)
        dest = os.path.join(target, f'out_{gender_name.lower()}_{age}.png')
        return utils.save_game(dest, strip, generated, consts.AGE_GROUP_NAMES)

    def morph(self, image_tensors, ages, genders, length, target):
        """The morph game: `length` + 1 faces from face 1 to face 2, each z joined with its own label; saves morph.png."""
        self.eval()
        z = self.encode(torch.stack(tuple(image_tensors))).cpu()
        labels = utils.label_tensor([utils.age_to_group(age) for age in ages], genders)
        i = torch.arange(length + 1.0)[:, None]
        z_steps, label_steps = (((length - i) * first + i * second) / length for first, second in (z, labels))
        generated = self.generate(z_steps, label_steps).cpu()
        captions = [f'{step}/{length}' for step in range(length + 1)]
        return utils.save_game(os.path.join(target, 'morph.png'), utils.image_strip(generated), generated, captions)

    def kids(self, image_tensors, length, target, seed=None):
        """The kids game: `length` children of the youngest age group and a random gender; saves kids.png.

        Each element i of a child's z is r * z1[i] + (1 - r) * z2[i], with its own r uniform in [0, 1)."""
        self.eval()
        z1, z2 = self.encode(torch.stack(tuple(image_tensors))).cpu()
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        r = torch.rand(length, z1.numel(), generator=generator)
        genders = torch.randint(consts.NUM_GENDERS, (length,), generator=generator)
        generated = self.generate(r * z1 + (1 - r) * z2, utils.label_tensor(torch.zeros_like(genders), genders)).cpu()
        captions = [consts.GENDER_NAMES[int(gender)] for gender in genders]
        return utils.save_game(os.path.join(target, 'kids.png'), utils.image_strip(generated), generated, captions)

    def teach_step(self, images, labels, modules=None):
        """One CAAE training step on a batch; returns the detached losses in LossTracker.TRAIN_LOSSES order.

        `modules` replaces E, G, Dz and Dimg in the forward pass (DistributedDataParallel wrappers)."""
        m = modules or self.networks
        with self.autocast():
            z = m['E'](images)
            generated = m['G'](torch.cat((z, labels), dim=1))
            eg_loss = F.l1_loss(generated.float(), images.float())
            reg_loss = total_variation(generated.float())
            d_z_prior = m['Dz'](torch.rand_like(z.float()) * 2 - 1)
            d_z = m['Dz'](z.float())
            d_i_input = m['Dimg'](images, labels)
            d_i_output = m['Dimg'](generated, labels)
        dz_loss = _bce_with_logits(d_z_prior, 1.0) + _bce_with_logits(d_z, 0.0)
        ez_loss = consts.ADV_LOSS_WEIGHT * _bce_with_logits(d_z, 1.0)
        di_loss = _bce_with_logits(d_i_input, 1.0) + _bce_with_logits(d_i_output, 0.0)
        dg_loss = consts.ADV_LOSS_WEIGHT * _bce_with_logits(d_i_output, 1.0)
        eg_total = consts.REC_LOSS_WEIGHT * eg_loss + consts.TV_LOSS_WEIGHT * reg_loss + ez_loss + dg_loss

        # Each loss updates only its own networks: gradients of the discriminators' losses stop at
        # their inputs (z and x' detached), as the reference intends.
        eg_params = self.eg_optimizer.param_groups[0]['params']
        self.eg_optimizer.zero_grad(set_to_none=True)
        eg_total.backward(inputs=eg_params, retain_graph=True)
        self.eg_optimizer.step()
        self.dz_optimizer.zero_grad(set_to_none=True)
        dz_loss.backward(inputs=list(self.Dz.parameters()))
        self.dz_optimizer.step()
        self.di_optimizer.zero_grad(set_to_none=True)
        di_loss.backward(inputs=list(self.Dimg.parameters()))
        self.di_optimizer.step()
        return torch.stack([eg_loss, reg_loss, dz_loss, ez_loss, di_loss, dg_loss]).detach()

    def validate(self, images, labels):
        """Reconstruct the validation batch; returns (L1 loss, reconstructions)."""
        self.eval()
        with torch.no_grad(), self.autocast():
            generated = self.G(torch.cat((self.E(images), labels), dim=1)).float()
        self.train()
        return F.l1_loss(generated, images.float()).item(), generated

    def set_hyperparameters(self, lr, betas, weight_decay):
        for optimizer in (self.eg_optimizer, self.dz_optimizer, self.di_optimizer):
            optimizer.param_groups[0].update(lr=lr, betas=betas, weight_decay=weight_decay)

    def teach(self, utkface_path, batch_size=128, epochs=1, weight_decay=1e-5, lr=2e-4, should_plot=False,
              betas=(0.5, 0.999), valid_size=None, where_to_save=None, models_saving='always',
              first_epoch=1, loss_history=None, seed=0, rank=0, world_size=1):
        """Train on a UTKFace folder for `epochs` epochs, writing each epoch's results into where_to_save/epoch<N>/."""
        where_to_save = where_to_save or utils.default_where_to_save()
        is_main = rank == 0
        dataset = utils.FaceDataset.from_folder(utkface_path, show_progress=is_main)
        valid_size = valid_size or batch_size
        valid_idx, train_idx = dataset.split(valid_size, batch_size * world_size, seed=seed)
        if self.device.type == 'cuda':
            dataset.to(self.device)
        valid_images, valid_labels = self.batch(dataset, valid_idx)
        self.set_hyperparameters(lr, betas, weight_decay)
        loss_tracker = utils.LossTracker(plot=should_plot and is_main, history=loss_history)
        step = self.distributed_step(world_size)
        self.train()
        epoch_folder = None
        generator = torch.Generator().manual_seed(seed + first_epoch)
        for epoch in range(first_epoch, first_epoch + epochs):
            epoch_folder = os.path.join(where_to_save, f'epoch{epoch}')
            try:
                order = train_idx[torch.randperm(len(train_idx), generator=generator)]
                batches = order[:len(order) // (batch_size * world_size) * batch_size * world_size]
                batches = batches.view(-1, world_size, batch_size)[:, rank].to(self.device)  # no copy a step
                start = time.perf_counter()
                sums, outside = self.train_epoch(dataset, batches, step, f'Epoch {epoch}', is_main)
                means = utils.LossTracker.named(self.reduce_mean(sums / len(batches), world_size))
                if is_main:
                    tick = time.perf_counter()
                    valid_loss, reconstructed = self.validate(valid_images, valid_labels)
                    loss_tracker.append_many(epoch=epoch, **means, valid=valid_loss)
                    self.write_epoch(epoch_folder, epoch, models_saving, loss_tracker, valid_images, reconstructed)
                    seconds = time.perf_counter() - start
                    outside += time.perf_counter() - tick
                    utils.print_timestamp(f'[Epoch {epoch}] {batches.numel() * world_size / seconds:.1f} img/s, '
                                          f'{100 * outside / seconds:.1f}% outside the networks; '
                                          f'{loss_tracker.summary()}')
            except KeyboardInterrupt:
                if is_main:
                    utils.print_timestamp('Ctrl+C detected, saving the networks of the current epoch')
                    if models_saving != 'never':
                        self.save(epoch_folder)
                        utils.remove_older_checkpoints(where_to_save, epoch, models_saving)
                raise
        if is_main and models_saving == 'last' and epoch_folder is not None:
            self.save(epoch_folder)
        if is_main and epochs > 0:
            utils.save_validation_gif(where_to_save)
        return loss_tracker

    def train_epoch(self, dataset, batches, step, description, show_progress):
        """Run `step` on every batch of dataset rows; returns the summed losses and the seconds spent on batching."""
        sums = torch.zeros(len(utils.LossTracker.TRAIN_LOSSES), device=self.device)
        batching = 0.0
        bar = tqdm(batches, desc=description, unit='batch', disable=not show_progress, dynamic_ncols=True)
        for i, idx in enumerate(bar, 1):
            tick = time.perf_counter()
            batch = self.batch(dataset, idx)
            batching += time.perf_counter() - tick
            sums += step(*batch)
            if i % 10 == 0 or i == len(batches):  # reading the sums syncs the device: not every step
                bar.set_postfix(utils.LossTracker.named(sums / i))
        return sums, batching

    def write_epoch(self, folder, epoch, models_saving, loss_tracker, originals, reconstructed):
        """validation.png (originals and reconstructions interleaved), the loss plot and the networks per policy."""
        os.makedirs(folder, exist_ok=True)
        nrow = round((2 * len(originals)) ** 0.5)
        utils.save_image_normalized(utils.merge_images(originals, reconstructed), os.path.join(folder, 'validation.png'), nrow=nrow)
        loss_tracker.save(folder)
        if models_saving in ('always', 'tail'):
            self.save(folder)
            utils.remove_older_checkpoints(os.path.dirname(folder), epoch, models_saving)

    def distributed_step(self, world_size):
        """The training step; with several processes, DistributedDataParallel averages the gradients."""
        if world_size == 1:
            return self.teach_step
        wrapped = {name: DistributedDataParallel(network) for name, network in self.networks.items()}
        return functools.partial(self.teach_step, modules=wrapped)

    @staticmethod
    def reduce_mean(values, world_size):
        if world_size > 1:
            torch.distributed.all_reduce(values)
            values = values / world_size
        return values
