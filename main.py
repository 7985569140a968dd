"""CAAE from the command line: train on UTKFace, then play with the trained model.

Train (one process; the fast path: channels_last, some layers computed another way, bf16 autocast where the
CPU or GPU runs bf16 faster than fp32; --precision fp32 forces full precision):
    python main.py --mode train --epochs 50 --input ../shared/UTKFace --output ./results/run1
Continue from a saved epoch:
    python main.py --mode train --epochs 10 --load ./results/run1/epoch50 --output ./results/run1
Several processes or GPUs (DistributedDataParallel; gloo on CPU, nccl on CUDA):
    torchrun --nproc_per_node=4 main.py --mode train --epochs 50 --input ../shared/UTKFace
Several machines: add --nnodes=2 --node_rank=K --master_addr=HOST --master_port=29500 to torchrun.
"""
import argparse
import datetime
import logging
import os
import re
import sys

import torch

import consts
import utils

MODES = ('train',)


def build_parser():
    parser = argparse.ArgumentParser(description='CAAE: age progression/regression by conditional adversarial autoencoder',
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--mode', choices=MODES, default='train')
    parser.add_argument('--epochs', '-e', default=1, type=int, help='epochs to train')
    parser.add_argument('--models-saving', '--ms', dest='models_saving', default='always',
                        choices=('always', 'last', 'tail', 'never'),
                        help="which epochs keep their .dat files: all, the last, only the newest so far, none")
    parser.add_argument('--batch-size', '--bs', dest='batch_size', default=128, type=int)
    parser.add_argument('--weight-decay', '--wd', dest='weight_decay', default=1e-5, type=float)
    parser.add_argument('--learning-rate', '--lr', dest='learning_rate', default=2e-4, type=float)
    parser.add_argument('--b1', '-b', dest='b1', default=0.5, type=float, help="Adam's beta1")
    parser.add_argument('--b2', '-B', dest='b2', default=0.999, type=float, help="Adam's beta2")
    parser.add_argument('--shouldplot', '--sp', dest='shouldplot', action='store_true',
                        help='open a live loss plot window that redraws every epoch')
    parser.add_argument('--cpu', '-c', action='store_true', help='stay on the CPU even when CUDA is available')
    parser.add_argument('--precision', choices=('auto', 'fp32', 'bf16'), default='auto',
                        help='auto: bf16 autocast where the hardware runs it faster than fp32, else fp32')
    parser.add_argument('--load', '-l', default=None, help='folder with E.dat, G.dat, Dz.dat, Dimg.dat to continue from')
    parser.add_argument('--input', '-i', default=None,
                        help=f'dataset folder (train; default {consts.DEFAULT_DATASET})')
    parser.add_argument('--output', '-o', default='', help='results folder (default ./trained_models/<date>/<time>)')
    parser.add_argument('-z', dest='z_channels', default=50, type=int, help='length of z')
    parser.add_argument('--seed', default=0, type=int, help='seed for the validation split and shuffling')
    return parser


def setup_output(output, args):
    """Create the results folder with session_arguments.txt and a log file; InputError if not writable."""
    if not utils.is_writable_folder(output):
        raise utils.InputError(f'{output}: output folder is not writable')
    with open(os.path.join(output, 'session_arguments.txt'), 'a') as f:
        f.write(f'{datetime.datetime.now():%Y-%m-%d %H:%M:%S} ' + ' '.join(sys.argv) + '\n')
        f.write('\n'.join(f'{k}: {v}' for k, v in sorted(vars(args).items())) + '\n\n')
    handler = logging.FileHandler(os.path.join(output, 'log.txt'))
    handler.setFormatter(logging.Formatter('%(asctime)s %(levelname)s %(message)s'))
    utils.log.addHandler(handler)
    utils.log.setLevel(logging.INFO)


def init_distributed(args):
    """Join the torchrun process group when launched by torchrun; returns (rank, world_size, device)."""
    world_size = int(os.environ.get('WORLD_SIZE', 1))
    use_cuda = torch.cuda.is_available() and not args.cpu
    if world_size == 1:
        return 0, 1, torch.device('cuda' if use_cuda else 'cpu')
    torch.distributed.init_process_group('nccl' if use_cuda else 'gloo')
    local_rank = int(os.environ.get('LOCAL_RANK', 0))
    device = torch.device('cuda', local_rank) if use_cuda else torch.device('cpu')
    if use_cuda:
        torch.cuda.set_device(device)
    return torch.distributed.get_rank(), world_size, device


def resume_point(load_path):
    """(first epoch, loss history) when continuing from an epoch<N> folder."""
    match = re.search(r'epoch(\d+)$', os.path.normpath(load_path))
    return (int(match.group(1)) + 1 if match else 1), utils.LossTracker.load(load_path)


def train(args, net, rank=0, world_size=1):
    output = args.output or utils.default_where_to_save()
    if rank == 0:
        setup_output(output, args)
    first_epoch, history = resume_point(args.load) if args.load else (1, None)
    data = args.input or consts.DEFAULT_DATASET
    if world_size > 1:  # one process a machine labels and caches the data first, the others reuse it
        if int(os.environ.get('LOCAL_RANK', 0)) == 0:
            utils.FaceDataset.from_folder(data, show_progress=rank == 0)
        torch.distributed.barrier()
    if rank == 0:
        utils.print_timestamp(f'Training on {data} ({net.device}, '
                              f'{"bf16 autocast" if net.autocast_dtype else "fp32"}), results in {output}')
    tracker = net.teach(data, batch_size=args.batch_size, epochs=args.epochs, weight_decay=args.weight_decay,
                        lr=args.learning_rate, should_plot=args.shouldplot, betas=(args.b1, args.b2),
                        where_to_save=output, models_saving=args.models_saving, first_epoch=first_epoch,
                        loss_history=history, seed=args.seed, rank=rank, world_size=world_size)
    if rank == 0:
        utils.print_timestamp(f'Done: {tracker.summary()}; results in {output}')


def main(argv=None):
    args = build_parser().parse_args(argv)
    consts.NUM_Z_CHANNELS = args.z_channels
    from model import Net
    try:
        rank, world_size, device = init_distributed(args)
        net = Net(device=device, precision=args.precision)
        if args.load:
            net.load(args.load, slim=args.mode != 'train')
        train(args, net, rank, world_size)
    except utils.InputError as e:
        sys.exit(f'error: {e}')
    except KeyboardInterrupt:
        sys.exit('Interrupted: the networks of the current epoch were saved (unless --models-saving never).')
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


if __name__ == '__main__':
    main()
