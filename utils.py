"""What every module shares: the one-line errors, the log and folder checks.

The rest of what the reference kept in utils now lives in modules named for it (data, images, checkpoints,
loss_tracker); their names stay importable from here, so `utils.pil_to_model_tensor_transform` and the
other names the reference's notebooks use keep working.
"""
import datetime
import importlib
import logging
import os
import tempfile

from tqdm import tqdm

log = logging.getLogger('caae')


class InputError(ValueError):
    """A problem with the user's input, reported as one line without a traceback."""


class CheckpointError(InputError):
    """A checkpoint that is missing, unsafe or does not fit the network."""


def print_timestamp(message):
    line = f'[{datetime.datetime.now():%H:%M:%S}] {message}'
    tqdm.write(line)
    log.info(message)


def is_writable_folder(path):
    """True if files can be created in `path` (created if missing).

    A folder without write bits counts as read-only even for root (who could write there anyway),
    so that read-only data such as ../shared/UTKFace is never written to."""
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing) or not os.stat(existing).st_mode & 0o222:
        return False
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            return True
    except OSError:
        return False


_MOVED = {
    'data': ('age_to_group', 'label_tensor', 'class_name', 'parse_class_name', 'parse_utkface_name', 'random_face',
             'sort_to_classes', 'resolve_labeled_folder', 'list_labeled_images', 'FaceDataset'),
    'images': ('pil_to_uint8', 'to_model_range', 'pil_to_model_tensor_transform', 'model_tensor_to_uint8',
               'load_image', 'merge_images', 'image_grid', 'save_image_normalized', 'save_png', 'label_frame',
               'save_gif', 'image_strip', 'watermark', 'gif_beside', 'save_game', 'save_validation_gif',
               'validation_grids', 'top_left', 'thumbnail'),
    'checkpoints': ('atomic_path', 'save_state_dict', 'load_state_dict', 'default_where_to_save'),
    'loss_tracker': ('LossTracker',),
}


def __getattr__(name):
    """The reference's utils names, from the module that holds each now (imported on first use: no cycles)."""
    for module, names in _MOVED.items():
        if name in names:
            return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module 'utils' has no attribute {name!r}")
