"""Two CPU processes train with DistributedDataParallel (gloo) and end with identical weights."""
import os
import shutil
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from conftest import SAMPLE

pytestmark = pytest.mark.slow  # every test here trains


def _train_rank(rank, world_size, port, data, output, result_path):
    """What `torchrun --nproc_per_node=2 main.py --mode train ...` runs in each process, then gathers the weights."""
    import main
    from model import Net
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size),
                      MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.set_num_threads(1)
    args = main.build_parser().parse_args(['--mode', 'train', '-i', data, '-o', output, '--bs', '4', '--cpu'])
    rank, world_size, device = main.init_distributed(args)
    try:
        torch.manual_seed(rank)  # different initial weights: DDP must start every rank from rank 0's
        net = Net(device=device, precision=args.precision)
        main.train_command(args, net, rank, world_size)
        # Parameters only: BatchNorm running statistics are each rank's own until DDP broadcasts rank 0's
        # at the next forward, and rank 0's are the ones saved.
        weights = torch.cat([p.detach().flatten().float() for network in net.networks.values()
                             for p in network.parameters()])
        gathered = [torch.empty_like(weights) for _ in range(world_size)]
        dist.all_gather(gathered, weights)
        if rank == 0:
            torch.save(gathered, result_path)
    finally:
        dist.destroy_process_group()


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_processes_keep_identical_weights(tmp_path):
    data = tmp_path / 'faces'
    data.mkdir()
    for name in sorted(os.listdir(SAMPLE))[::8][:24]:
        shutil.copy(os.path.join(SAMPLE, name), data / name)
    output, result = tmp_path / 'out', tmp_path / 'weights.pt'
    mp.spawn(_train_rank, args=(2, _free_port(), str(data), str(output), str(result)), nprocs=2)
    rank0, rank1 = torch.load(result)
    assert torch.equal(rank0, rank1)
    assert sorted(os.listdir(output / 'epoch1')) == [
        'Dimg.dat', 'Dz.dat', 'E.dat', 'G.dat', 'losses.json', 'losses.png', 'training_state.pt', 'validation.png']
