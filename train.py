"""Training CAAE: the training step of each recipe, then one loop over the epochs that validates, writes each
epoch's files and keeps the checkpoints that --models-saving asks for.

    python main.py --mode train --epochs 50 --input ../shared/UTKFace --output ./results/run1
    python main.py --mode train --epochs 10 --load ./results/run1/epoch50 --output ./results/run1   # continue
    torchrun --nproc_per_node=4 main.py --mode train --epochs 50 --input ../shared/UTKFace          # several processes
    python main.py --mode train --recipe plus --init trained_models/utkface_z50 --input ../shared/UTKFace  # fine-tune

The recipes (each a training step, its loss names and weights) are in recipes.py, their loss terms in losses.py.

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
from typing import Callable

import torch
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

import checkpoints
import consts
import estimators
import recipes
from data import FaceDataset
from images import merge_images, save_image_normalized, save_validation_gif
from loss_tracker import LossTracker
from metrics import grid_pattern
from utils import print_timestamp

MODELS_SAVING = ('always', 'last', 'tail', 'never')


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
    recipe: str = 'reference'  # a name in recipes.RECIPES
    weights: dict = None  # the recipe's loss weights to change, e.g. {'age': 0} (an ablation)
    age_classifier: str = consts.AGE_ESTIMATORS  # the classifier of a recipe that needs one (the shipped one)


@dataclass
class Prepared:
    """What run() prepares for the epoch loop: the faces, the held-out rows, the optimizers, the recipe's step and
    its loss names, the output folder, and where the run starts (first epoch, loss history, the run record)."""
    dataset: FaceDataset
    valid_rows: torch.Tensor
    optimizers: dict
    step: Callable
    loss_names: tuple
    output: str
    first_epoch: int = 1
    history: dict = None
    record: dict = None


def run(net, config, rank=0, world_size=1):
    """Load the data and any checkpoint to continue from, build the optimizers, train; returns the LossTracker."""
    output = config.output or checkpoints.default_where_to_save()
    dataset = load_dataset(config.data, rank, world_size)
    started_from = config.load or config.init
    loaded_record = checkpoints.find_run_record(started_from) if started_from else None
    valid_rows = validation_rows(dataset, config, world_size, loaded_record)
    optimizers = make_optimizers(net, config)
    step, loss_names = training_step(net, optimizers, config, world_size)  # before restoring the generators
    prepared = Prepared(dataset, valid_rows, optimizers, step, loss_names, output)
    if config.init:
        net.load(config.init, slim=True)
    if config.load:
        net.load(config.load, slim=False)
        prepared.first_epoch = max(checkpoints.epoch_number(config.load), 0) + 1
        prepared.history = LossTracker.load(config.load)
        restore_training_state(optimizers, checkpoints.load_training_state(config.load), config, rank == 0)
    if rank == 0:
        prepared.record = start_record(net, config, dataset, valid_rows, output, world_size)
    return train_epochs(net, config, prepared, rank, world_size)


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


def training_step(net, optimizers, config, world_size):
    """(the recipe's step as train_epoch calls it, its loss names); with several processes, DistributedDataParallel
    averages the gradients."""
    recipe = recipes.RECIPES[config.recipe]
    modules = None
    if world_size > 1:
        modules = {name: DistributedDataParallel(network) for name, network in net.networks.items()}
    classifier = None
    if recipe.needs_classifier:
        classifier = estimators.load('classifier', config.age_classifier).to(net.device)
    step = functools.partial(recipe.step, net, optimizers, weights=recipe.weights(**(config.weights or {})),
                             modules=modules, classifier=classifier)
    return step, recipe.losses


def raise_ctrl_c(signum, frame):
    raise KeyboardInterrupt


def sigterm_as_ctrl_c():
    """Make SIGTERM (kill, a job scheduler's stop) end training as Ctrl+C does, saving the current epoch; returns
    the previous handler (None off the main thread, where handlers cannot be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, raise_ctrl_c)


def train_epochs(net, config, prepared, rank=0, world_size=1):
    """The epoch loop: train, validate, write the epoch (in the background), keep checkpoints per policy."""
    is_main = rank == 0
    dataset, valid_rows, optimizers = prepared.dataset, prepared.valid_rows, prepared.optimizers
    output = prepared.output
    if net.device.type == 'cuda':
        dataset.to(net.device)
    valid_images, valid_labels = net.batch(dataset, valid_rows)
    train_rows = dataset.rows_except(valid_rows)
    tracker = LossTracker(plot=config.should_plot and is_main, history=prepared.history)
    first_epoch, record = prepared.first_epoch, prepared.record
    last_epoch = first_epoch + config.epochs - 1
    writer = EpochWriter() if is_main else None
    net.train()
    epoch = first_epoch
    previous_sigterm = sigterm_as_ctrl_c()
    try:
        for epoch in range(first_epoch, last_epoch + 1):
            batches = epoch_batches(train_rows, epoch, config, rank, world_size).to(net.device)
            start = time.perf_counter()
            sums, outside = train_epoch(net, dataset, batches, prepared.step, prepared.loss_names, f'Epoch {epoch}',
                                        is_main)
            means = dict(zip(prepared.loss_names, reduce_mean(sums / len(batches), world_size).tolist()))
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
        'weights': asdict(recipes.RECIPES[config.recipe].weights(**(config.weights or {}))),
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
        self.submit(save_checkpoint_files, networks, state, folder, remove_older)

    def write_record(self, record, output):
        self.submit(checkpoints.save_json, snapshot(record), os.path.join(output, consts.RUN_RECORD))

    def close(self):
        self.pool.shutdown(wait=True)
        for future in self.pending:
            future.result()


def save_checkpoint_files(networks, state, folder, remove_older):
    """Write an epoch's networks and training state (snapshots); then, if `remove_older`, the older networks go."""
    for name, tensors in networks.items():
        checkpoints.save_tensors(tensors, checkpoints.network_path(folder, name))
    checkpoints.save_training_state(state, folder)
    if remove_older:
        checkpoints.remove_networks_before(os.path.dirname(folder), checkpoints.epoch_number(folder))
