"""UTKFace data: age groups and labels, file names, the labeler, and the decoded-once face cache."""
import errno
import hashlib
import json
import os
import random
import shutil
from multiprocessing.pool import ThreadPool

import numpy as np
import torch
from tqdm import tqdm

import consts
from checkpoints import atomic_path
from images import load_image, pil_to_uint8
from utils import InputError, is_writable_folder, log, print_timestamp


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


def _reserved_memmap(path, shape):
    """A writable .npy memmap whose disk blocks are reserved first: a full disk is an OSError, not a SIGBUS later."""
    images = np.lib.format.open_memmap(path, 'w+', np.uint8, shape)
    with open(path, 'r+b') as f:
        os.posix_fallocate(f.fileno(), 0, os.path.getsize(path))
    return images


class FaceDataset:
    """Faces decoded once into a uint8 NxHxWxC array (memory-mapped from a cache file) and their labels."""

    def __init__(self, images, age_groups, genders, names):
        self.images = images
        self.age_groups = torch.as_tensor(age_groups, dtype=torch.long)
        self.genders = torch.as_tensor(genders, dtype=torch.long)
        self.names = list(names)
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
        if array_path is not None:
            try:
                return cls._build_cache(items, shape, array_path, index_path, show_progress)
            except OSError as e:
                if e.errno not in (errno.ENOSPC, errno.EDQUOT):
                    raise
                print_timestamp(f'Not enough disk space for a {np.prod(shape) / 1e9:.1f} GB face cache in '
                                f'{os.path.dirname(array_path)}; decoding into memory instead')
        images = np.empty(shape, np.uint8)
        kept = _decode_into(images, items, show_progress)
        return cls(images[:len(kept)], *zip(*[(g, s, os.path.basename(p)) for p, g, s in kept]))

    @classmethod
    def _build_cache(cls, items, shape, array_path, index_path, show_progress):
        with atomic_path(array_path) as tmp:
            images = _reserved_memmap(tmp, shape)
            kept = _decode_into(images, items, show_progress)
            images.flush()
            del images
        index = {'names': [os.path.basename(p) for p, _, _ in kept], 'age_groups': [g for _, g, _ in kept],
                 'genders': [s for _, _, s in kept]}
        with atomic_path(index_path) as tmp, open(tmp, 'w') as f:
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

    def rows_except(self, rows):
        """Every row but `rows`, in order (so that a continued run shuffles the same rows)."""
        keep = torch.ones(len(self), dtype=torch.bool)
        keep[rows] = False
        return keep.nonzero().flatten()

    def fingerprint(self):
        """A digest of the faces' names and labels in order: the same dataset on any machine gives the same one."""
        digest = hashlib.sha1()
        for name, group, gender in zip(self.names, self.age_groups.tolist(), self.genders.tolist()):
            digest.update(f'{name}|{group}|{gender}\n'.encode())
        return digest.hexdigest()[:16]

    def rows_of(self, names):
        """The rows of the faces named `names`, in that order; InputError naming how many are missing."""
        row = {name: i for i, name in enumerate(self.names)}
        missing = [name for name in names if name not in row]
        if missing:
            raise InputError(f'{len(missing)} of the {len(names)} validation faces (e.g. {missing[0]}) are not in '
                             f'this dataset: is it the one the run trained on?')
        return torch.tensor([row[name] for name in names], dtype=torch.long)

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
