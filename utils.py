"""Data, labels, checkpoints and plots: the one implementation of each that the rest of CAAE calls."""
import datetime
import glob
import hashlib
import json
import logging
import os
import random
import shutil
import tempfile
from contextlib import contextmanager
from multiprocessing.pool import ThreadPool

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont, ImageOps
from tqdm import tqdm

import consts

log = logging.getLogger('caae')


class InputError(ValueError):
    """A problem with the user's input, reported as one line without a traceback."""


class CheckpointError(InputError):
    """A checkpoint that is missing, unsafe or does not fit the network."""


# ---------------------------------------------------------------- labels

def age_to_group(age):
    """Age in years -> one of the 10 age groups (0: 0-5, ..., 9: 71 and over)."""
    a = int(age) - 1
    return max(a // 5, 0) if a < 20 else min(4 + (a - 20) // 10, consts.NUM_AGES - 1)


def label_tensor(age_groups, genders):
    """Age groups and genders (ints or 1-d tensors) -> +/-1 label vectors of LABEL_LEN values."""
    groups = torch.as_tensor(age_groups).long().reshape(-1)
    genders = torch.as_tensor(genders).long().reshape(-1)
    age_part = torch.nn.functional.one_hot(groups, consts.NUM_AGES)
    gender_part = torch.nn.functional.one_hot(genders, consts.NUM_GENDERS).repeat(1, consts.NUM_AGES // consts.NUM_GENDERS)
    labels = torch.cat((age_part, gender_part), dim=1).float() * 2 - 1
    return labels if groups.numel() != 1 or torch.as_tensor(age_groups).dim() else labels[0]


def class_name(age_group, gender):
    """Folder name of a class, e.g. `4.1` for age group 4, female."""
    return f'{age_group}.{gender}'


def parse_class_name(name):
    """`4.1` -> (4, 1); None for anything else."""
    parts = name.split('.')
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        group, gender = map(int, parts)
        if group < consts.NUM_AGES and gender < consts.NUM_GENDERS:
            return group, gender
    return None


def parse_utkface_name(name):
    """`[age]_[gender]_[race]_[date&time].jpg.chip.jpg` -> (age, gender, race); None when malformed."""
    match = consts.UTKFACE_NAME.match(os.path.basename(name))
    if match is None or int(match['age']) > consts.MAX_AGE:
        return None
    return int(match['age']), int(match['gender']), int(match['race'])


# ---------------------------------------------------------------- images

def pil_to_uint8(image):
    """Any PIL image -> 128x128x3 uint8 array, resized as torchvision's Resize does (bilinear)."""
    image = image.convert('RGB')
    if image.size != (consts.IMAGE_LENGTH, consts.IMAGE_LENGTH):
        image = image.resize((consts.IMAGE_LENGTH, consts.IMAGE_LENGTH), Image.BILINEAR)
    return np.asarray(image, dtype=np.uint8)


def to_model_range(images):
    """uint8 [0, 255] images -> float [-1, 1]; float images are taken to be in [-1, 1] already."""
    if images.dtype == torch.uint8:
        return images.float().div_(127.5).sub_(1)
    return images.float()


def pil_to_model_tensor_transform(image):
    """PIL image -> 3x128x128 float tensor in [-1, 1] (the model's input)."""
    return to_model_range(torch.from_numpy(pil_to_uint8(image).copy()).permute(2, 0, 1)).contiguous()


def model_tensor_to_uint8(images):
    """[-1, 1] tensor(s) CxHxW or NxCxHxW -> uint8 HxWxC array(s)."""
    images = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return images.movedim(-3, -1).numpy()


def load_image(path):
    """Read an image file as upright RGB (EXIF orientation applied); InputError naming the file otherwise."""
    try:
        with Image.open(path) as image:
            return _to_rgb(ImageOps.exif_transpose(image))
    except FileNotFoundError:
        raise InputError(f'{path}: no such file') from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        reason = ' '.join(str(e).split()) or type(e).__name__
        raise InputError(f'{path}: not a readable image ({reason})') from None


def _to_rgb(image):
    """Convert any PIL mode to RGB: transparent images laid on white, 16-bit grayscale scaled to 8 bits."""
    if image.mode.startswith('I;16') or image.mode == 'I':
        return Image.fromarray((np.asarray(image, np.float64) / 257).clip(0, 255).astype(np.uint8)).convert('RGB')
    if image.mode in ('RGBA', 'LA', 'PA') or (image.mode == 'P' and 'transparency' in image.info):
        image = image.convert('RGBA')
        return Image.alpha_composite(Image.new('RGBA', image.size, 'white'), image).convert('RGB')
    return image.convert('RGB')


def merge_images(batch1, batch2):
    """Interleave two batches: original 0, reconstruction 0, original 1, ..."""
    return torch.stack((batch1.float(), batch2.float()), dim=1).flatten(0, 1)


def image_grid(images, nrow, padding=2, pad_value=255):
    """[-1, 1] NxCxHxW tensor -> uint8 HxWx3 grid array with `nrow` images a row."""
    tiles = model_tensor_to_uint8(images)
    n, h, w, c = tiles.shape
    rows = -(-n // nrow)
    grid = np.full((rows * (h + padding) + padding, nrow * (w + padding) + padding, c), pad_value, np.uint8)
    for i, tile in enumerate(tiles):
        y, x = divmod(i, nrow)
        grid[padding + y * (h + padding):(y + 1) * (h + padding), padding + x * (w + padding):(x + 1) * (w + padding)] = tile
    return grid


def save_image_normalized(tensor, filename, nrow=8):
    """Save [-1, 1] images as one grid PNG, atomically."""
    save_png(Image.fromarray(image_grid(tensor, nrow)), filename)
    return filename


def save_png(image, filename):
    with atomic_path(filename) as tmp:
        image.save(tmp, format='PNG')


def label_frame(image, text):
    """Write `text` in the top-left corner of a PIL image (for GIF frames)."""
    image = image.copy()
    draw = ImageDraw.Draw(image)
    box = draw.textbbox((4, 4), text)
    draw.rectangle((box[0] - 3, box[1] - 3, box[2] + 3, box[3] + 3), fill='black')
    draw.text((4, 4), text, fill='white')
    return image


def save_gif(frames, filename, duration_ms=500):
    """Save PIL images as an endlessly looping animated GIF, each frame shown `duration_ms`, atomically."""
    import imageio.v2 as imageio
    with atomic_path(filename) as tmp:
        imageio.mimsave(tmp, [np.asarray(f.convert('RGB')) for f in frames], format='GIF', duration=duration_ms, loop=0)
    return filename


def image_strip(images, framed=(), padding=0, frame_width=2):
    """[-1, 1] NxCxHxW -> uint8 array of the images in one row on black, each padded by `padding`
    pixels, the ones at the indices `framed` inside a white frame drawn in that padding."""
    padded = torch.nn.functional.pad(images.detach().float().cpu(), (padding,) * 4, value=-1)
    for i in framed:
        padded[i, :, :frame_width] = padded[i, :, -frame_width:] = 1
        padded[i, :, :, :frame_width] = padded[i, :, :, -frame_width:] = 1
    return image_grid(padded, nrow=len(padded), pad_value=0)


def watermark(image, text):
    """Write `text` on a [-1, 1] 3xHxW face in dark green, a colour visible on most skin tones."""
    picture = Image.fromarray(model_tensor_to_uint8(image))
    ImageDraw.Draw(picture).text((3, 25), text, fill=(0, 128, 0), font=ImageFont.load_default(size=15), anchor='ls')
    return pil_to_model_tensor_transform(picture)


def gif_beside(png_path):
    """The animated GIF that a game writes beside its PNG."""
    return os.path.splitext(png_path)[0] + '.gif'


def save_game(dest, strip, faces, captions):
    """Save a game's strip (uint8 array) as the PNG `dest`, and its [-1, 1] faces, captioned, as the GIF beside it."""
    save_png(Image.fromarray(strip), dest)
    frames = [label_frame(Image.fromarray(face), caption) for face, caption in zip(model_tensor_to_uint8(faces), captions)]
    save_gif(frames, gif_beside(dest))
    return dest


def save_validation_gif(where_to_save, filename=None, box=None, max_side=1024, max_frames=None):
    """Animate the epochs' validation.png into `filename` (default where_to_save/validation.gif), each frame
    labelled; `box` crops the grids (pixels), `max_frames` keeps that many epochs, evenly spread, first and last."""
    paths = validation_grids(where_to_save, max_frames)
    grids = (top_left(Image.open(p), box) if box else Image.open(p) for p in paths)
    frames = [label_frame(thumbnail(g, max_side), f'epoch {_epoch_number(p)}') for g, p in zip(grids, paths)]
    if frames:
        return save_gif(frames, filename or os.path.join(where_to_save, 'validation.gif'))


def validation_grids(run_folder, max_count=None):
    """The run's epoch*/validation.png in epoch order; `max_count` keeps that many, evenly spread, first and last."""
    paths = sorted(glob.glob(os.path.join(run_folder, 'epoch*', 'validation.png')), key=_epoch_number)
    if max_count and len(paths) > max_count:
        paths = [paths[round(i * (len(paths) - 1) / (max_count - 1))] for i in range(max_count)]
    return paths


def top_left(image, box):
    """The top-left (width, height) of a PIL image, or all of it where it is smaller."""
    return image.crop((0, 0, min(box[0], image.width), min(box[1], image.height)))


def thumbnail(image, max_side=1024):
    """An RGB copy no larger than max_side (previews, GIF frames of large grids)."""
    image = image.convert('RGB')
    image.thumbnail((max_side, max_side), Image.BILINEAR)
    return image


def _epoch_number(path):
    name = os.path.basename(os.path.dirname(path)) if path.endswith('.png') else os.path.basename(path)
    return int(name[len('epoch'):]) if name.startswith('epoch') and name[5:].isdigit() else -1


# ---------------------------------------------------------------- files and checkpoints

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


def save_state_dict(module, path, dtype=None):
    """Save a module's state_dict (floats optionally cast to `dtype`) atomically."""
    state = {k: (v.to(dtype) if dtype is not None and v.is_floating_point() else v).contiguous().cpu()
             for k, v in module.state_dict().items()}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_state_dict(module, path):
    """Load a weights-only state_dict into `module`, converting dtypes; CheckpointError names any mismatch."""
    if not os.path.isfile(path):
        raise CheckpointError(f'{path}: no such checkpoint file')
    try:
        state = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f'{path}: not a weights-only state_dict, refused ({reason})') from None
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
                                  f'{list(expected[key].shape)}{_z_hint(key, value)}')
    module.load_state_dict(state)


def _z_hint(key, value):
    z_len = {'fc_layer.e_fc_1.weight': lambda s: s[0], 'fc.0.weight': lambda s: s[1] - consts.LABEL_LEN,
             'layers.dz_fc_1.0.weight': lambda s: s[1]}.get(key)
    if z_len is None:
        return ''
    n = z_len(value.shape)
    return f' (saved with z length {n}, this run uses {consts.NUM_Z_CHANNELS}: pass -z {n})'


def remove_older_checkpoints(where_to_save, epoch, models_saving):
    """With `--models-saving tail`, delete the network files of the epochs before `epoch`."""
    if models_saving != 'tail':
        return
    for folder in glob.glob(os.path.join(where_to_save, 'epoch*')):
        if 0 <= _epoch_number(folder) < epoch:
            for name in consts.NETWORK_NAMES:
                path = os.path.join(folder, name + consts.TRAINED_MODEL_EXT)
                if os.path.exists(path):
                    os.remove(path)


def default_where_to_save(start_time=None):
    start_time = start_time or datetime.datetime.now()
    return os.path.join(consts.DEFAULT_RESULTS, start_time.strftime('%Y_%m_%d'), start_time.strftime('%H_%M_%S'))


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


# ---------------------------------------------------------------- dataset

def random_face(folder, age=None, gender=None, race=None):
    """A random UTKFace image in `folder` in the age group of `age`, of `gender` and of `race` (None: any)."""
    if not os.path.isdir(folder):
        raise InputError(f'{folder}: no such folder')
    wanted = (None if age is None else age_to_group(age), gender, race)
    matches = []
    for name in sorted(os.listdir(folder)):
        parsed = parse_utkface_name(name)
        if parsed is None:
            continue
        found = (age_to_group(parsed[0]), *parsed[1:])
        if all(w is None or w == f for w, f in zip(wanted, found)):
            matches.append(os.path.join(folder, name))
    if not matches:
        group = 'any age' if age is None else f'ages {consts.AGE_GROUP_NAMES[wanted[0]]}'
        raise InputError(f'{folder}: no UTKFace image of {group}, gender {gender}, race {race} (None: any)')
    return random.choice(matches)


def sort_to_classes(source, dest, progress=True):
    """Copy raw UTKFace files from `source` into `dest/<age_group>.<gender>/`; never touches `source`.

    Returns counts {'sorted', 'already there', 'skipped'} and the skipped names."""
    if not os.path.isdir(source):
        raise InputError(f'{source}: no such folder')
    names = sorted(n for n in os.listdir(source) if os.path.isfile(os.path.join(source, n)))
    counts, skipped = {'sorted': 0, 'already there': 0, 'skipped': 0}, []
    for name in tqdm(names, desc='Labeling', unit='img', disable=not progress or not names, leave=False):
        parsed = parse_utkface_name(name)
        if parsed is None:
            counts['skipped'] += 1
            skipped.append(name)
            continue
        age, gender, _ = parsed
        target = os.path.join(dest, class_name(age_to_group(age), gender), name)
        source_path = os.path.join(source, name)
        if os.path.exists(target) and os.path.getsize(target) == os.path.getsize(source_path):
            counts['already there'] += 1
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with atomic_path(target) as tmp:
            shutil.copyfile(source_path, tmp)
        counts['sorted'] += 1
    for name in skipped:
        log.info('skipped (not a UTKFace name): %s', name)
    return counts, skipped


def resolve_labeled_folder(path, work_dir=consts.DEFAULT_CACHE):
    """Find or make the `labeled/` class folders for a dataset folder (see README, 'Data').

    Raw files (in `path/unlabeled/` or `path` itself) are sorted first, into `path/labeled/`, or into
    `work_dir` when `path` is read-only; already sorted files are not copied again."""
    if not os.path.isdir(path):
        raise InputError(f'{path}: input folder does not exist')
    raw = os.path.join(path, 'unlabeled') if os.path.isdir(os.path.join(path, 'unlabeled')) else path
    if not any(n.lower().endswith(consts.IMAGE_EXTENSIONS) for n in os.listdir(raw)):
        if os.path.isdir(os.path.join(path, 'labeled')):
            return os.path.join(path, 'labeled')
        return path
    dest = os.path.join(path, 'labeled')
    if not is_writable_folder(path):
        digest = hashlib.sha1(os.path.abspath(raw).encode()).hexdigest()[:8]
        dest = os.path.join(work_dir, f'{os.path.basename(os.path.abspath(path))}-{digest}', 'labeled')
    counts, _ = sort_to_classes(raw, dest)
    print_timestamp(f'Labeled {raw} into {dest}: ' + ', '.join(f'{v} {k}' for k, v in counts.items()))
    return dest


def list_labeled_images(labeled):
    """All image files in `<labeled>/<age_group>.<gender>/` -> sorted list of (path, age_group, gender)."""
    items = []
    for folder in sorted(os.listdir(labeled)) if os.path.isdir(labeled) else []:
        parsed = parse_class_name(folder)
        if parsed is None or not os.path.isdir(os.path.join(labeled, folder)):
            continue
        for name in sorted(os.listdir(os.path.join(labeled, folder))):
            if name.lower().endswith(consts.IMAGE_EXTENSIONS):
                items.append((os.path.join(labeled, folder, name), *parsed))
    return items


def _decode(path):
    try:
        return pil_to_uint8(load_image(path))
    except InputError:
        return None


def _cache_key(items):
    digest = hashlib.sha1()
    for path, group, gender in items:
        stat = os.stat(path)
        digest.update(f'{os.path.basename(path)}|{group}|{gender}|{stat.st_size}|{stat.st_mtime_ns}\n'.encode())
    return digest.hexdigest()[:16]


def _decode_into(images, items, show_progress):
    """Decode `items` into consecutive rows of `images`; returns the items kept, logs and counts the rest."""
    kept, skipped = [], []
    with ThreadPool(max(1, min(4, os.cpu_count() or 1))) as pool:
        decoded = pool.imap(_decode, [path for path, _, _ in items], chunksize=32)
        for item, array in tqdm(zip(items, decoded), total=len(items), desc='Decoding faces', unit='img',
                                disable=not show_progress, leave=False):
            if array is None:
                skipped.append(item[0])
            else:
                images[len(kept)] = array
                kept.append(item)
    for path in skipped:
        log.warning('skipped unreadable image: %s', path)
    if skipped:
        print_timestamp(f'Skipped {len(skipped)} unreadable image(s), named in the log')
    if not kept:
        raise InputError(f'none of the {len(items)} images could be read')
    return kept


class FaceDataset:
    """Faces decoded once into a uint8 NxHxWxC array (memory-mapped from a cache file) and their labels."""

    def __init__(self, images, age_groups, genders, names):
        self.images = images
        self.age_groups = torch.as_tensor(age_groups, dtype=torch.long)
        self.genders = torch.as_tensor(genders, dtype=torch.long)
        self.names = names
        self.labels = label_tensor(self.age_groups, self.genders).reshape(-1, consts.LABEL_LEN)

    def __len__(self):
        return len(self.names)

    @classmethod
    def from_folder(cls, path, cache_dirs=None, show_progress=True):
        """Label if needed, then decode every image once into a cache reused while the files stay the same."""
        labeled = resolve_labeled_folder(path)
        items = list_labeled_images(labeled)
        if not items:
            raise InputError(f'{path}: no images found (expected UTKFace files or <age_group>.<gender> folders)')
        key = _cache_key(items)
        for folder in cache_dirs or (os.path.join(os.path.dirname(labeled), 'cache'), consts.DEFAULT_CACHE):
            array_path, index_path = (os.path.join(folder, f'faces-{key}{ext}') for ext in ('.npy', '.json'))
            if os.path.exists(array_path) and os.path.exists(index_path):
                return cls._from_cache(array_path, index_path)
            if is_writable_folder(folder):
                return cls._build(items, array_path, index_path, show_progress)
        return cls._build(items, None, None, show_progress)

    @classmethod
    def _from_cache(cls, array_path, index_path):
        with open(index_path) as f:
            index = json.load(f)
        images = np.load(array_path, mmap_mode='r')[:len(index['names'])]
        return cls(images, index['age_groups'], index['genders'], index['names'])

    @classmethod
    def _build(cls, items, array_path, index_path, show_progress):
        shape = (len(items), consts.IMAGE_LENGTH, consts.IMAGE_LENGTH, consts.IMAGE_DEPTH)
        if array_path is None:
            images = np.empty(shape, np.uint8)
            kept = _decode_into(images, items, show_progress)
            return cls(images[:len(kept)], *zip(*[(g, s, os.path.basename(p)) for p, g, s in kept]))
        with atomic_path(array_path) as tmp:
            images = np.lib.format.open_memmap(tmp, 'w+', np.uint8, shape)
            kept = _decode_into(images, items, show_progress)
            images.flush()
            del images
        index = {'names': [os.path.basename(p) for p, _, _ in kept], 'age_groups': [g for _, g, _ in kept],
                 'genders': [s for _, _, s in kept]}
        with atomic_path(index_path) as tmp:
            with open(tmp, 'w') as f:
                json.dump(index, f)
        return cls._from_cache(array_path, index_path)

    def split(self, valid_size, min_train, seed=0):
        """A random validation set of `valid_size` and the rest for training, the same for the same seed."""
        if len(self) < valid_size + min_train:
            raise InputError(f'{len(self)} usable images, but training needs at least {valid_size + min_train} '
                             f'(a validation batch of {valid_size} plus one training batch of {min_train}); '
                             f'use more images or a smaller --batch-size')
        order = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))
        return order[:valid_size], order[valid_size:]

    def to(self, device):
        """Keep every image and label on `device` (a GPU), so that batches are indexed there."""
        self.images = torch.from_numpy(np.array(self.images)).to(device)
        self.labels = self.labels.to(device)
        return self

    def images_tensor(self, idx=None):
        """uint8 Nx3xHxW tensor (channels_last memory) of the images at `idx` (all when None)."""
        if isinstance(self.images, torch.Tensor):
            images = self.images if idx is None else self.images[torch.as_tensor(idx, device=self.images.device)]
        else:
            idx = np.arange(len(self)) if idx is None else np.asarray(idx)
            images = torch.from_numpy(np.ascontiguousarray(self.images[idx]))
        return images.permute(0, 3, 1, 2)

    def labels_tensor(self, idx=None):
        return self.labels if idx is None else self.labels[torch.as_tensor(idx, device=self.labels.device)]


# ---------------------------------------------------------------- precision

def autocast_dtype(device, precision='auto'):
    """bf16 where the hardware runs it faster than fp32 (CUDA with bf16, CPU: cpu_has_fast_bf16), else None (fp32)."""
    device = torch.device(device)
    if precision == 'fp32':
        return None
    if device.type == 'cuda':
        fast = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    else:
        fast = cpu_has_fast_bf16()
    if precision == 'bf16' or fast:
        return torch.bfloat16
    return None


def cpu_has_fast_bf16():
    """AMX, or AVX512-BF16 on a core without AVX512-FP16 (Cooper Lake, Zen 4), where bf16 dot products run at twice
    the fp32 rate. Sapphire Rapids and later cores run them at the fp32 rate and count on AMX for bf16: in a VM
    that hides AMX, bf16 convolutions and matmuls measured 40% slower than fp32 (BENCHMARKS.md)."""
    if torch.cpu._is_amx_tile_supported():
        return True
    return torch.cpu._is_avx512_bf16_supported() and 'avx512_fp16' not in _cpu_flags()


def _cpu_flags():
    try:
        with open('/proc/cpuinfo') as f:
            return next((line.split(':', 1)[1].split() for line in f if line.startswith('flags')), [])
    except OSError:
        return []


# ---------------------------------------------------------------- losses

class LossTracker:
    """Per-epoch means of every loss, their plot, and a verdict on how the fit is going.

    The verdict compares the last FIT_WINDOW epochs of the training reconstruction loss (`eg`) and
    the validation loss (`valid`). A trend is 'down' or 'up' when the least-squares slope, divided by
    the mean of the window, is beyond -FIT_TOLERANCE or +FIT_TOLERANCE per epoch, else 'flat'.
    - unknown fitting: fewer than FIT_WINDOW epochs, a non-finite loss, or training flat while
      validation falls (no rule explains it).
    - good fit: training and validation both down.
    - overfitting: training down while validation is flat or up, or training flat while validation is up.
    - drift: training up (the adversarial terms are pulling the autoencoder away).
    - saturation: both flat after training fell below half of its first epoch's value (learned what it can).
    - underfitting: both flat while training is still above half of its first epoch's value.
    """
    TRAIN_LOSSES = ('eg', 'reg', 'dz', 'ez', 'di', 'dg')
    ALL_LOSSES = TRAIN_LOSSES + ('valid',)
    FIT_WINDOW = 3
    FIT_TOLERANCE = 0.01

    def __init__(self, plot=False, history=None):
        self.losses = {name: list((history or {}).get(name, [])) for name in self.ALL_LOSSES}
        self.verdicts = list((history or {}).get('verdicts', []))
        self.epochs = list((history or {}).get('epochs', range(1, len(self.losses['eg']) + 1)))
        self.live_plot = plot
        self._figure = None

    @classmethod
    def named(cls, values):
        return {name: float(v) for name, v in zip(cls.TRAIN_LOSSES, values.tolist())}

    @classmethod
    def load(cls, folder):
        """The history saved in an epoch folder (losses.json), or an empty one."""
        path = os.path.join(folder, 'losses.json')
        if not os.path.exists(path):
            return None
        with open(path) as f:
            return json.load(f)

    def append_many(self, epoch=None, **losses):
        for name in self.ALL_LOSSES:
            self.losses[name].append(float(losses.get(name, float('nan'))))
        self.epochs.append(epoch if epoch is not None else (self.epochs[-1] + 1 if self.epochs else 1))
        self.verdicts.append(self.fit_verdict())
        log.info('epoch %d losses %s: %s', self.epochs[-1], self.latest(), self.verdicts[-1])
        if self.live_plot:
            self.plot()

    def latest(self):
        return {name: values[-1] for name, values in self.losses.items() if values}

    def summary(self):
        return ' '.join(f'{k}={v:.4g}' for k, v in self.latest().items()) + f' | {self.verdicts[-1]}'

    @classmethod
    def _trend(cls, values):
        values = np.asarray(values[-cls.FIT_WINDOW:], dtype=float)
        slope = np.polyfit(np.arange(len(values)), values, 1)[0] / max(abs(values.mean()), 1e-12)
        return 'down' if slope < -cls.FIT_TOLERANCE else 'up' if slope > cls.FIT_TOLERANCE else 'flat'

    def fit_verdict(self):
        train, valid = self.losses['eg'], self.losses['valid']
        recent = train[-self.FIT_WINDOW:] + valid[-self.FIT_WINDOW:]
        if len(train) < self.FIT_WINDOW or not np.all(np.isfinite(recent)):
            return 'unknown fitting'
        t, v = self._trend(train), self._trend(valid)
        if t == 'up':
            return 'drift'
        if t == 'down':
            return 'good fit' if v == 'down' else 'overfitting'
        if v == 'up':
            return 'overfitting'
        if v == 'down':
            return 'unknown fitting'
        return 'saturation' if train[-1] < 0.5 * train[0] else 'underfitting'

    def _draw(self, figure):
        from matplotlib.ticker import MaxNLocator
        axes = figure.gca()
        axes.clear()
        for name, values in self.losses.items():
            axes.plot(self.epochs, values, marker='o', markersize=3, label=name)
        axes.set_xlabel('epoch')
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylabel('averaged loss')
        axes.set_title(f'CAAE losses ({self.verdicts[-1]})' if self.verdicts else 'CAAE losses')
        axes.grid(True, alpha=0.4)
        axes.legend(loc='upper right')
        figure.tight_layout()

    def plot(self):
        """Redraw the live window (only with --shouldplot)."""
        import matplotlib.pyplot as plt
        if self._figure is None:
            plt.ion()
            self._figure = plt.figure(figsize=(8, 5))
        self._draw(self._figure)
        plt.pause(0.001)

    def save(self, folder):
        """Write losses.png and losses.json (the history, used to resume) into `folder`."""
        from matplotlib.figure import Figure
        figure = Figure(figsize=(8, 5), dpi=100)
        self._draw(figure)
        with atomic_path(os.path.join(folder, 'losses.png')) as tmp:
            figure.savefig(tmp, format='png')
        with atomic_path(os.path.join(folder, 'losses.json')) as tmp:
            with open(tmp, 'w') as f:
                json.dump({**self.losses, 'epochs': self.epochs, 'verdicts': self.verdicts}, f)
