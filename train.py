"""Training CAAE: the training step of each recipe, then one loop over the epochs that validates, writes each
epoch's files and keeps the checkpoints that --models-saving asks for.

    python main.py --mode train --epochs 50 --input ../shared/UTKFace --output ./results/run1
    python main.py --mode train --epochs 10 --load ./results/run1/epoch50 --output ./results/run1   # continue
    torchrun --nproc_per_node=4 main.py --mode train --epochs 50 --input ../shared/UTKFace          # several processes
    python main.py --mode train --recipe plus --init trained_models/utkface_z50 --input ../shared/UTKFace  # fine-tune

Recipes: `reference` is the reference's objective exactly (the default); `plus` adds cross-age generation judged by
Dimg and by a frozen age classifier (estimators.py), and two identity cycles (see plus_step and PlusWeights).

An exact continuation (the same weights as an uninterrupted run) needs, in epoch<N>/: E.dat, G.dat, Dz.dat,
Dimg.dat, training_state.pt (the optimizers and random generators) and losses.json; and run.json in the run folder
(the validation faces). Each epoch's shuffle depends only on the seed and the epoch number.
"""
import functools
import os
import platform
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

import checkpoints
import consts
from data import FaceDataset
from images import face_box, gaussian_blur, merge_images, save_image_normalized, save_validation_gif
from loss_tracker import LossTracker
from metrics import grid_pattern
from utils import print_timestamp

MODELS_SAVING = ('always', 'last', 'tail', 'never')
RECIPES = ('reference', 'plus')
REFERENCE_LOSSES = ('eg', 'reg', 'dz', 'ez', 'di', 'dg')


@dataclass
class TrainConfig:
    """Everything a run is trained with (the defaults are the reference's); recorded in run.json."""
    data: str = consts.DEFAULT_DATASET
    output: str = None  # None: ./trained_models/<date>/<time>
    epochs: int = 1
    epoch_size: int = None  # training faces an epoch (the first of its shuffle); None: all of them
    batch_size: int = 128
    valid_size: int = None  # None: batch_size
    lr: float = 2e-4
    b1: float = 0.5
    b2: float = 0.999
    weight_decay: float = 1e-5
    models_saving: str = 'always'
    seed: int = 0
    should_plot: bool = False
    load: str = None  # an epoch<N> folder to continue from
    init: str = None  # a folder whose E and G start a new run (fine-tuning a shipped model); Dz and Dimg start fresh
    recipe: str = 'reference'
    plus_weights: dict = None  # PlusWeights fields to change, e.g. {'age': 0} (an ablation)
    age_classifier: str = consts.AGE_ESTIMATORS  # the plus recipe's classifier (the shipped one)


def run(net, config, rank=0, world_size=1):
    """Load the data and any checkpoint to continue from, build the optimizers, train; returns the LossTracker."""
    is_main = rank == 0
    output = config.output or checkpoints.default_where_to_save()
    dataset = load_dataset(config.data, rank, world_size)
    started_from = config.load or config.init
    loaded_record = checkpoints.find_run_record(started_from) if started_from else None
    valid_rows = validation_rows(dataset, config, world_size, loaded_record)
    optimizers = make_optimizers(net, config)
    step_fn, loss_names = training_step(net, optimizers, config, world_size)  # before restoring the generators
    first_epoch, history = 1, None
    if config.init:
        net.load(config.init, slim=True)
    if config.load:
        net.load(config.load, slim=False)
        first_epoch, history = max(checkpoints.epoch_number(config.load), 0) + 1, LossTracker.load(config.load)
        restore_training_state(optimizers, checkpoints.load_training_state(config.load), config, is_main)
    record = start_record(net, config, dataset, valid_rows, output, world_size) if is_main else None
    return train(net, step_fn, loss_names, optimizers, dataset, valid_rows, config, output, record, first_epoch, history,
                 rank, world_size)


def load_dataset(path, rank, world_size):
    """The faces; with several processes the first of each machine labels and caches them, the others wait."""
    if world_size > 1:
        if int(os.environ.get('LOCAL_RANK', 0)) == 0:
            FaceDataset.from_folder(path, show_progress=rank == 0)
        torch.distributed.barrier()
    return FaceDataset.from_folder(path, show_progress=rank == 0)


def validation_rows(dataset, config, world_size, loaded_record):
    """The held-out faces: those the continued or fine-tuned run held out (its run.json), else a seeded random batch."""
    if loaded_record:
        return dataset.rows_of(loaded_record['validation'])
    valid_size = config.valid_size or config.batch_size
    return dataset.split(valid_size, config.batch_size * world_size, seed=config.seed)[0]


def make_optimizers(net, config):
    """Adam for E and G together, for Dz and for Dimg (fused on the fast path)."""
    adam = functools.partial(torch.optim.Adam, lr=config.lr, betas=(config.b1, config.b2),
                             weight_decay=config.weight_decay, fused=not net.plain)
    return {'eg': adam(list(net.E.parameters()) + list(net.G.parameters())),
            'dz': adam(net.Dz.parameters()), 'di': adam(net.Dimg.parameters())}


def restore_training_state(optimizers, state, config, is_main):
    """The optimizers' moments and the random generators of a saved epoch; the hyperparameters stay the config's."""
    if state is None:
        if is_main:
            print_timestamp('No training_state.pt beside the networks: the optimizers start afresh')
        return
    for name, optimizer in optimizers.items():
        optimizer.load_state_dict(state['optimizers'][name])
        optimizer.param_groups[0].update(lr=config.lr, betas=(config.b1, config.b2), weight_decay=config.weight_decay)
        match_layouts(optimizer)
    torch.set_rng_state(state['rng'])
    if 'cuda_rng' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda_rng'])


def match_layouts(optimizer):
    """Adam's moments in their parameters' memory layout (saved contiguous; fused Adam pairs them by memory order)."""
    for param, values in optimizer.state.items():
        for key, value in values.items():
            if torch.is_tensor(value) and value.shape == param.shape:
                values[key] = torch.empty_like(param).copy_(value)


def bce_with_logits(logits, target_value):
    return F.binary_cross_entropy_with_logits(logits.float(), torch.full_like(logits, target_value, dtype=torch.float))


def total_variation(images):
    """Mean absolute difference between neighbouring pixels (logged as `reg`)."""
    return (F.l1_loss(images[:, :, :, :-1], images[:, :, :, 1:])
            + F.l1_loss(images[:, :, :-1, :], images[:, :, 1:, :]))


def reference_step(net, optimizers, images, labels, modules=None):
    """One CAAE training step on a batch; returns the detached losses in REFERENCE_LOSSES order.

    `modules` replaces E, G, Dz and Dimg in the forward pass (DistributedDataParallel wrappers)."""
    m = modules or net.networks
    with net.autocast():
        z = m['E'](images)
        generated = m['G'](torch.cat((z, labels), dim=1))
        eg_loss = F.l1_loss(generated.float(), images.float())
        reg_loss = total_variation(generated.float())
        d_z_prior = m['Dz'](torch.rand_like(z.float()) * 2 - 1)
        d_z = m['Dz'](z.float())
        d_i_input = m['Dimg'](images, labels)
        d_i_output = m['Dimg'](generated, labels)
    dz_loss = bce_with_logits(d_z_prior, 1.0) + bce_with_logits(d_z, 0.0)
    ez_loss = consts.ADV_LOSS_WEIGHT * bce_with_logits(d_z, 1.0)
    di_loss = bce_with_logits(d_i_input, 1.0) + bce_with_logits(d_i_output, 0.0)
    dg_loss = consts.ADV_LOSS_WEIGHT * bce_with_logits(d_i_output, 1.0)
    eg_total = consts.REC_LOSS_WEIGHT * eg_loss + consts.TV_LOSS_WEIGHT * reg_loss + ez_loss + dg_loss

    # Each loss updates only its own networks: gradients of the discriminators' losses stop at
    # their inputs (z and x' detached), as the reference intends.
    step(optimizers['eg'], eg_total, retain_graph=True)
    step(optimizers['dz'], dz_loss)
    step(optimizers['di'], di_loss)
    return torch.stack([eg_loss, reg_loss, dz_loss, ez_loss, di_loss, dg_loss]).detach()


def step(optimizer, loss, retain_graph=False):
    """Backpropagate `loss` into this optimizer's parameters only, and step."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward(inputs=optimizer.param_groups[0]['params'], retain_graph=retain_graph)
    optimizer.step()


@dataclass
class PlusWeights:
    """Loss weights of --recipe plus, each term documented in trained_models/utkface_z50_plus/MODEL.md."""
    reconstruction: float = 1.5  # L1 between the face and its reconstruction at its own label (the reference's eg)
    adversarial: float = 0.05  # G's BCE on Dimg for its reconstructions and cross-age faces (reference: 1e-4)
    age: float = 0.03  # cross-entropy of the frozen age classifier on the cross-age faces (blurred, shifted), asked group
    latent_cycle: float = 2.0  # L1 between E(cross-age face) and z: the cross-age face keeps the code of the person
    way_back: float = 3.0  # L1 between the cross-age face rendered back at the true label and the input
    colour: float = 1.0  # L1 between the mean colours of the central face (skin tone) of both renders and the input
    total_variation: float = 0.0  # total variation of both renders (the reference's reg term, weighted)
    cycle_noise: float = 0.0  # > 0: the cycles encode the cross-age face blurred, plus Gaussian noise of this std
    feature_matching: float = 0.0  # L1 between Dimg's conv features of the input and of both paired renders
    z_prior: float = consts.ADV_LOSS_WEIGHT  # E's BCE on Dz, as the reference


PLUS_LOSSES = REFERENCE_LOSSES + ('age', 'latent', 'back', 'colour')


def face_colour(images):
    """The mean colour of each face's central box (consts.FACE_BOX: cheeks, nose, mouth): its skin tone, N x 3."""
    return face_box(images).float().mean((2, 3))


def other_age_groups(labels, generator=None):
    """For each label, a random age group other than its own (uniform over the nine others)."""
    groups = labels[:, :consts.NUM_AGES].argmax(1)
    shift = torch.randint(1, consts.NUM_AGES, groups.shape, device=labels.device, generator=generator)
    return (groups + shift) % consts.NUM_AGES


def with_age_groups(labels, groups):
    """The labels with their age part replaced by `groups` (gender kept)."""
    age_part = F.one_hot(groups, consts.NUM_AGES).to(labels.dtype) * 2 - 1
    return torch.cat((age_part, labels[:, consts.NUM_AGES:]), dim=1)


def blur_and_shift(images, max_shift=4):
    """What the age classifier sees of a generated face: blurred and shifted by a random whole number of pixels, so
    that thin lines and patterns tied to fixed positions cannot buy the asked age."""
    dy, dx = torch.randint(-max_shift, max_shift + 1, (2,)).tolist()
    return torch.roll(gaussian_blur(images), shifts=(dy, dx), dims=(2, 3))


def blur_and_noise(images, std):
    """What the identity cycles encode of a cross-age face when PlusWeights.cycle_noise > 0: blurred, with Gaussian
    noise, so that G cannot pass the person to E in faint high-frequency patterns (CycleGAN's hidden signal)."""
    return gaussian_blur(images) + std * torch.randn_like(images)


def feature_matching(dimg, images, labels, *renders):
    """pix2pixHD's feature matching: the mean L1 between Dimg's conv features of the faces and of each render of
    them at their own labels (the reconstruction, the way back), a denser signal for G than Dimg's verdict.
    Dimg's batch norms use their running statistics here, so each face is compared on its own, not per batch."""
    dimg.eval()
    try:
        with torch.no_grad():
            targets = dimg.features(images, labels)
        losses = [F.l1_loss(feature.float(), target.float())
                  for render in renders for feature, target in zip(dimg.features(render, labels), targets)]
    finally:
        dimg.train()
    return torch.stack(losses).mean()


def plus_step(net, optimizers, age_classifier, weights, images, labels, modules=None):
    """The reference step plus cross-age generation judged by Dimg and an age classifier, and two identity cycles;
    returns the detached losses in PLUS_LOSSES order."""
    m = modules or net.networks
    target_groups = other_age_groups(labels)
    cross_labels = with_age_groups(labels, target_groups)
    with net.autocast():
        z = m['E'](images)
        generated = m['G'](torch.cat((z, labels), dim=1))
        cross = m['G'](torch.cat((z, cross_labels), dim=1))
        z_cross = m['E'](blur_and_noise(cross, weights.cycle_noise) if weights.cycle_noise > 0 else cross)
        back = m['G'](torch.cat((z_cross, labels), dim=1))
        age_logits = age_classifier(blur_and_shift(cross))
        d_z_prior = m['Dz'](torch.rand_like(z.float()) * 2 - 1)
        d_z = m['Dz'](z.float())
        d_i_input = m['Dimg'](images, labels)
        d_i_output = m['Dimg'](generated, labels)
        d_i_cross = m['Dimg'](cross, cross_labels)
    eg_loss = F.l1_loss(generated.float(), images.float())
    reg_loss = total_variation(generated.float())
    age_loss = F.cross_entropy(age_logits.float(), target_groups)
    latent_loss = F.l1_loss(z_cross.float(), z.float().detach())
    back_loss = F.l1_loss(back.float(), images.float())
    skin = face_colour(images)
    colour_loss = (F.l1_loss(face_colour(generated), skin) + F.l1_loss(face_colour(cross), skin)) / 2
    dz_loss = bce_with_logits(d_z_prior, 1.0) + bce_with_logits(d_z, 0.0)
    ez_loss = weights.z_prior * bce_with_logits(d_z, 1.0)
    di_loss = bce_with_logits(d_i_input, 1.0) + (bce_with_logits(d_i_output, 0.0) + bce_with_logits(d_i_cross, 0.0)) / 2
    dg_loss = weights.adversarial * (bce_with_logits(d_i_output, 1.0) + bce_with_logits(d_i_cross, 1.0)) / 2
    eg_total = (weights.reconstruction * eg_loss + ez_loss + dg_loss + weights.age * age_loss
                + weights.latent_cycle * latent_loss + weights.way_back * back_loss + weights.colour * colour_loss)
    if weights.total_variation:  # off by default: no extra work in the step
        eg_total = eg_total + weights.total_variation * (reg_loss + total_variation(cross.float())) / 2
    if weights.feature_matching:
        with net.autocast():
            matching = feature_matching(net.Dimg, images, labels, generated, back)
        eg_total = eg_total + weights.feature_matching * matching
    step(optimizers['eg'], eg_total, retain_graph=True)
    step(optimizers['dz'], dz_loss)
    step(optimizers['di'], di_loss)
    return torch.stack([eg_loss, reg_loss, dz_loss, ez_loss, di_loss, dg_loss, age_loss, latent_loss, back_loss,
                        colour_loss]).detach()


def training_step(net, optimizers, config, world_size):
    """(the recipe's step as train_epoch calls it, its loss names); with several processes, DistributedDataParallel
    averages the gradients."""
    modules = None
    if world_size > 1:
        modules = {name: DistributedDataParallel(network) for name, network in net.networks.items()}
    if config.recipe == 'reference':
        return functools.partial(reference_step, net, optimizers, modules=modules), REFERENCE_LOSSES
    import estimators
    classifier = estimators.load('classifier', config.age_classifier).to(net.device)
    weights = PlusWeights(**(config.plus_weights or {}))
    return functools.partial(plus_step, net, optimizers, classifier, weights, modules=modules), PLUS_LOSSES


def raise_ctrl_c(signum, frame):
    raise KeyboardInterrupt


def sigterm_as_ctrl_c():
    """Make SIGTERM (kill, a job scheduler's stop) end training as Ctrl+C does, saving the current epoch; returns
    the previous handler (None off the main thread, where handlers cannot be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, raise_ctrl_c)


def train(net, step_fn, loss_names, optimizers, dataset, valid_rows, config, output, record=None, first_epoch=1,
          history=None, rank=0, world_size=1):
    """The epoch loop: train, validate, write the epoch (in the background), keep checkpoints per policy."""
    is_main = rank == 0
    if net.device.type == 'cuda':
        dataset.to(net.device)
    valid_images, valid_labels = net.batch(dataset, valid_rows)
    train_rows = training_rows(len(dataset), valid_rows)
    tracker = LossTracker(plot=config.should_plot and is_main, history=history)
    last_epoch = first_epoch + config.epochs - 1
    writer = EpochWriter() if is_main else None
    net.train()
    epoch = first_epoch
    previous_sigterm = sigterm_as_ctrl_c()
    try:
        for epoch in range(first_epoch, last_epoch + 1):
            batches = epoch_batches(train_rows, epoch, config, rank, world_size).to(net.device)
            start = time.perf_counter()
            sums, outside = train_epoch(net, dataset, batches, step_fn, loss_names, f'Epoch {epoch}', is_main)
            means = dict(zip(loss_names, reduce_mean(sums / len(batches), world_size).tolist()))
            if not is_main:
                continue
            tick = time.perf_counter()
            valid_loss, reconstructed = validate(net, valid_images, valid_labels)
            tracker.append_many(epoch=epoch, **means, valid=valid_loss)
            folder = checkpoints.epoch_folder(output, epoch)
            writer.write_pictures(folder, tracker, valid_images, reconstructed)
            if saves_networks(config.models_saving, epoch, last_epoch):
                writer.write_checkpoint(net, optimizers, folder, remove_older=config.models_saving == 'tail')
            grid = grid_pattern(reconstructed).mean().item()  # rises when a checkerboard grows (photos: about 1)
            seconds = time.perf_counter() - start
            outside += time.perf_counter() - tick
            record['epochs'].append({'epoch': epoch, 'seconds': round(seconds, 2),
                                     'images_per_second': round(batches.numel() * world_size / seconds, 2),
                                     'grid_pattern': round(grid, 3)})
            writer.write_record(record, output)
            print_timestamp(f'[Epoch {epoch}] {batches.numel() * world_size / seconds:.1f} img/s, '
                            f'{100 * outside / seconds:.1f}% outside the networks; {tracker.summary()} '
                            f'grid={grid:.2f}')
    except KeyboardInterrupt:
        if is_main and saves_networks(config.models_saving, epoch, last_epoch, interrupted=True):
            print_timestamp('Ctrl+C or SIGTERM: saving the networks of the current epoch (the last complete one is kept)')
            writer.write_checkpoint(net, optimizers, checkpoints.epoch_folder(output, epoch), remove_older=False)
        raise
    finally:
        if previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)
        if writer:
            writer.close()
    if is_main and config.epochs > 0:
        save_validation_gif(output)
    return tracker


def training_rows(size, valid_rows):
    """Every row but the validation ones, in order (so that a continued run shuffles the same rows)."""
    keep = torch.ones(size, dtype=torch.bool)
    keep[valid_rows] = False
    return keep.nonzero().flatten()


def epoch_batches(train_rows, epoch, config, rank, world_size):
    """This process's batches of an epoch: a shuffle that depends only on the seed and the epoch number."""
    generator = torch.Generator().manual_seed(config.seed + epoch)
    order = train_rows[torch.randperm(len(train_rows), generator=generator)][:config.epoch_size]
    per_step = config.batch_size * world_size
    return order[:len(order) // per_step * per_step].view(-1, world_size, config.batch_size)[:, rank]


def train_epoch(net, dataset, batches, step_fn, loss_names, description, show_progress):
    """Run the step on every batch of dataset rows; returns the summed losses and the seconds spent on batching."""
    sums = torch.zeros(len(loss_names), device=net.device)
    batching = 0.0
    bar = tqdm(batches, desc=description, unit='batch', disable=not show_progress, dynamic_ncols=True)
    for i, idx in enumerate(bar, 1):
        tick = time.perf_counter()
        batch = net.batch(dataset, idx)
        batching += time.perf_counter() - tick
        sums += step_fn(*batch)
        if i % 10 == 0 or i == len(batches):  # reading the sums syncs the device: not every step
            bar.set_postfix(dict(zip(loss_names, (sums / i).tolist())))
    return sums, batching


def validate(net, images, labels):
    """Reconstruct the validation batch; returns (L1 loss, reconstructions)."""
    net.eval()
    with torch.no_grad(), net.autocast():
        generated = net.G(torch.cat((net.E(images), labels), dim=1)).float()
    net.train()
    return F.l1_loss(generated, images.float()).item(), generated


def saves_networks(policy, epoch, last_epoch, interrupted=False):
    """The one rule for which epochs keep their network files (--models-saving); with `tail` older ones go."""
    return policy != 'never' and (interrupted or policy in ('always', 'tail') or epoch == last_epoch)


def reduce_mean(values, world_size):
    if world_size > 1:
        torch.distributed.all_reduce(values)
        values = values / world_size
    return values


def start_record(net, config, dataset, valid_rows, output, world_size):
    """The run record: continued from the output's run.json when there is one, else new."""
    previous = checkpoints.find_run_record(output) if os.path.isfile(os.path.join(output, consts.RUN_RECORD)) else None
    record = previous or {'started': time.strftime('%Y-%m-%d %H:%M:%S'), 'epochs': []}
    record.update({
        'config': {**asdict(config), 'output': output}, 'z_channels': net.z_channels,
        'plus_weights': asdict(PlusWeights(**(config.plus_weights or {}))) if config.recipe == 'plus' else None,
        'precision': 'bf16 autocast' if net.autocast_dtype else 'fp32', 'plain': net.plain,
        'device': str(net.device), 'world_size': world_size, 'torch': torch.__version__,
        'python': platform.python_version(), 'data': os.path.abspath(config.data), 'dataset_size': len(dataset),
        'dataset_fingerprint': dataset.fingerprint(), 'validation': [dataset.names[i] for i in valid_rows.tolist()],
    })
    return record


def snapshot(tensors):
    """Contiguous CPU copies, so that training can go on while a background thread writes them."""
    if isinstance(tensors, torch.Tensor):
        return tensors.detach().to('cpu', memory_format=torch.contiguous_format, copy=True)
    if isinstance(tensors, dict):
        return {k: snapshot(v) for k, v in tensors.items()}
    if isinstance(tensors, (list, tuple)):
        return type(tensors)(snapshot(v) for v in tensors)
    return tensors


class EpochWriter:
    """Writes an epoch's files in a background thread, in order, each atomically; close() waits for all of them
    and raises the first error. What it writes is copied first, so training goes on meanwhile."""

    def __init__(self):
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix='epoch-writer')
        self.pending = []

    def submit(self, fn, *args):
        done = [f for f in self.pending if f.done()]
        self.pending = [f for f in self.pending if not f.done()]
        for future in done:
            future.result()
        self.pending.append(self.pool.submit(fn, *args))

    def write_pictures(self, folder, tracker, originals, reconstructed):
        """validation.png (originals and reconstructions interleaved), losses.png and losses.json."""
        grid = merge_images(originals.cpu(), reconstructed.cpu())
        history = LossTracker(history={**snapshot(tracker.losses), 'epochs': list(tracker.epochs),
                                       'verdicts': list(tracker.verdicts)})
        nrow = round(len(grid) ** 0.5)
        self.submit(save_image_normalized, grid, os.path.join(folder, 'validation.png'), nrow)
        self.submit(history.save, folder)

    def write_checkpoint(self, net, optimizers, folder, remove_older):
        """The four networks and the training state; then, if `remove_older`, delete the older epochs' networks."""
        networks = {name: snapshot(network.state_dict()) for name, network in net.networks.items()}
        state = {'optimizers': {name: snapshot(o.state_dict()) for name, o in optimizers.items()},
                 'rng': torch.get_rng_state()}
        if torch.cuda.is_available():
            state['cuda_rng'] = torch.cuda.get_rng_state_all()
        self.submit(write_checkpoint, networks, state, folder, remove_older)

    def write_record(self, record, output):
        self.submit(checkpoints.save_json, snapshot(record), os.path.join(output, consts.RUN_RECORD))

    def close(self):
        self.pool.shutdown(wait=True)
        for future in self.pending:
            future.result()


def write_checkpoint(networks, state, folder, remove_older):
    for name, tensors in networks.items():
        checkpoints.save_tensors(tensors, checkpoints.network_path(folder, name))
    checkpoints.save_training_state(state, folder)
    if remove_older:
        checkpoints.remove_networks_before(os.path.dirname(folder), checkpoints.epoch_number(folder))
