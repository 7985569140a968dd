"""Files that must survive a killed run: atomic writes, state_dict I/O, epoch folders and the run record (run.json)."""
import datetime
import glob
import json
import os
import tempfile
from contextlib import contextmanager

import torch

import consts
from utils import CheckpointError

_UMASK = os.umask(0o022)
os.umask(_UMASK)


@contextmanager
def atomic_path(path):
    """Yield a temporary name beside `path`; rename it to `path` only if the block succeeds."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', suffix='.tmp', dir=folder)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; give them the usual permissions
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_json(data, path):
    with atomic_path(path) as tmp, open(tmp, 'w') as f:
        json.dump(data, f, indent=2)


def network_path(folder, name):
    return os.path.join(folder, name + consts.TRAINED_MODEL_EXT)


def save_state_dict(module, path, dtype=None):
    """Save a module's state_dict (floats optionally cast to `dtype`) atomically."""
    save_tensors({k: (v.to(dtype) if dtype is not None and v.is_floating_point() else v).contiguous().cpu()
                  for k, v in module.state_dict().items()}, path)


def save_tensors(state, path):
    """torch.save under a temporary name, then renamed: a killed run never leaves half a file."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def read_weights_only(path):
    """torch.load with weights_only=True; CheckpointError naming the file when it is missing or unsafe."""
    if not os.path.isfile(path):
        raise CheckpointError(f'{path}: no such checkpoint file')
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f'{path}: not a weights-only state_dict, refused ({reason})') from None


def load_state_dict(module, path):
    """Load a weights-only state_dict into `module`, converting dtypes; CheckpointError names any mismatch."""
    state = read_weights_only(path)
    if not isinstance(state, dict):
        raise CheckpointError(f'{path}: holds a {type(state).__name__}, not a state_dict')
    expected = module.state_dict()
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(f'{path}: keys do not match {type(module).__name__} '
                              f'(missing {missing[:3]}, unexpected {unexpected[:3]})')
    for key, value in state.items():
        if value.shape != expected[key].shape:
            raise CheckpointError(f'{path}: {key} has shape {list(value.shape)}, {type(module).__name__} expects '
                                  f'{list(expected[key].shape)}{_z_hint(key, value, expected[key])}')
    module.load_state_dict(state)


_Z_OF_KEY = {'fc_layer.e_fc_1.weight': lambda s: s[0], 'fc.0.weight': lambda s: s[1] - consts.LABEL_LEN,
             'layers.dz_fc_1.0.weight': lambda s: s[1]}


def _z_hint(key, saved, expected):
    if key not in _Z_OF_KEY:
        return ''
    saved_z, expected_z = _Z_OF_KEY[key](saved.shape), _Z_OF_KEY[key](expected.shape)
    return f' (saved with z length {saved_z}, this network has {expected_z})'


def z_length_of(folder):
    """The length of z that the E.dat in `folder` was trained with."""
    state = read_weights_only(network_path(folder, 'E'))
    weight = state.get('fc_layer.e_fc_1.weight') if isinstance(state, dict) else None
    if weight is None:
        raise CheckpointError(f'{network_path(folder, "E")}: not an encoder state_dict (no fc_layer.e_fc_1.weight)')
    return weight.shape[0]


def export_for_games(model_folder, dest, dtype=torch.float16):
    """E and G of a trained epoch as shipped: state_dicts in `dtype` (loading converts them back to fp32)."""
    for name in ('E', 'G'):
        state = read_weights_only(network_path(model_folder, name))
        save_tensors({k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()},
                     network_path(dest, name))
    return dest


def epoch_number(path):
    """N of an `epoch<N>` folder, or of a file inside one; -1 for anything else."""
    name = os.path.basename(os.path.dirname(path)) if os.path.isfile(path) or path.endswith('.png') \
        else os.path.basename(os.path.normpath(path))
    return int(name[len('epoch'):]) if name.startswith('epoch') and name[5:].isdigit() else -1


def epoch_folder(run_folder, epoch):
    return os.path.join(run_folder, f'epoch{epoch}')


def latest_epoch_with(run_folder, names):
    """The newest epoch<N> folder of a run holding every file in `names`; None when there is none."""
    complete = [f for f in glob.glob(epoch_folder(run_folder, '*'))
                if epoch_number(f) >= 0 and all(os.path.exists(os.path.join(f, n)) for n in names)]
    return max(complete, key=epoch_number, default=None)


def remove_networks_before(run_folder, epoch):
    """Delete the network files (and training state) of the run's epochs before `epoch`."""
    for folder in glob.glob(epoch_folder(run_folder, '*')):
        if 0 <= epoch_number(folder) < epoch:
            for name in consts.NETWORK_NAMES:
                _remove(network_path(folder, name))
            _remove(os.path.join(folder, consts.TRAINING_STATE))


def _remove(path):
    if os.path.exists(path):
        os.remove(path)


def default_where_to_save(start_time=None):
    start_time = start_time or datetime.datetime.now()
    return os.path.join(consts.DEFAULT_RESULTS, start_time.strftime('%Y_%m_%d'), start_time.strftime('%H_%M_%S'))


def save_training_state(state, folder):
    """The optimizers' and random generators' state beside the networks, for an exact continuation."""
    save_tensors(state, os.path.join(folder, consts.TRAINING_STATE))


def load_training_state(folder):
    """What save_training_state wrote into `folder`, or None when it is not there (an older run)."""
    path = os.path.join(folder, consts.TRAINING_STATE)
    return read_weights_only(path) if os.path.isfile(path) else None


def find_run_record(model_folder):
    """The run.json of a model: in its folder (a shipped model) or its run folder (an epoch<N>); None if absent."""
    for folder in (model_folder, os.path.dirname(os.path.abspath(model_folder))):
        path = os.path.join(folder, consts.RUN_RECORD)
        if os.path.isfile(path):
            with open(path) as f:
                return json.load(f)
    return None
