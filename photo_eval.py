"""Measuring the aged photo at its own size (`python main.py --mode eval --input FOLDER`, FOLDER holding photos.csv):
each photo is personalised to, aged to the ten groups (photo_aging) and judged per group: sharpness (the variance of
the Laplacian in the face box against the photo's), the age estimator's years, and dlib's verdict on the person.
Writes eval.json (per group, over the photos), photo_eval.csv (per photo and group) and contact_sheet.jpg (one row
per photo: the photo's face region, then its ten ages, at the photo's resolution scaled to SHEET_HEIGHT)."""
import csv
import os
import time

import cv2
import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont, ImageOps
from tqdm import tqdm

import align
import age_shape
import composition
import consts
import estimators
import metrics
import personalise
import photo_aging
import utils
from checkpoints import atomic_path, save_json
from data import age_to_group
from face_region import face_region
from games import encode_face
from images import load_image, pil_to_model_tensor_transform, pil_to_uint8, save_jpeg

PHOTOS_CSV = 'photos.csv'  # file,age,gender[,...]: the photo's file name in the folder, its age in years, m or f
SHEET_HEIGHT = 192


def is_photo_folder(folder):
    """Whether --mode eval's input is a folder of photos (it holds PHOTOS_CSV) rather than UTKFace chips."""
    return os.path.isfile(os.path.join(folder, PHOTOS_CSV))


def photo_rows(folder):
    """[(path, age, gender)] of the folder's PHOTOS_CSV; utils.InputError naming the first bad row."""
    with open(os.path.join(folder, PHOTOS_CSV), newline='') as f:
        rows = list(csv.DictReader(f))
    photos = []
    for line, row in enumerate(rows, start=2):
        try:
            age, gender = int(row['age']), {'m': consts.MALE, 'f': consts.FEMALE}[row['gender'].strip().lower()]
            photos.append((os.path.join(folder, os.path.basename(row['file'])), age, gender))
        except (KeyError, ValueError, TypeError, AttributeError):
            raise utils.InputError(f'{os.path.join(folder, PHOTOS_CSV)}, line {line}: give file,age,gender with the '
                                   f'age in years and the gender m or f, not {dict(row)}') from None
    if not photos:
        raise utils.InputError(f'{os.path.join(folder, PHOTOS_CSV)}: no photos listed (give file,age,gender rows)')
    return photos


def laplacian_variance(photo, box):
    """The variance of the Laplacian of the photo's grey levels inside the box (x, y, w, h): its sharpness."""
    x, y, w, h = box
    grey = cv2.cvtColor(np.ascontiguousarray(np.asarray(photo)[max(y, 0):y + h, max(x, 0):x + w]), cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def age_one_photo(net, path, age, gender, classifier, steps, method):
    """(framed photo, its ten aged versions, seconds taken: personalising, encoding and composing)."""
    framed = align.align_face(load_image(path))
    start = time.perf_counter()
    face = pil_to_model_tensor_transform(framed.crop)
    tuned = personalise.personalised(net, face, age_to_group(age), gender, classifier, steps) if steps else net
    aged = photo_aging.aged_photos(tuned, framed, encode_face(tuned, face), age, gender, method=method)
    return framed, aged, time.perf_counter() - start


def chip_tensor(chip):
    """A 128-px PIL face as the uint8 3 x 128 x 128 tensor the estimators and dlib read."""
    return torch.from_numpy(np.array(pil_to_uint8(chip))).permute(2, 0, 1)


def judge(framed, aged, estimator, identity_model):
    """Per group: sharpness against the photo's, estimated years, dlib's distance to the photo's face (or None), and
    the face's shape (age_shape.lower_face; None without dlib)."""
    chips = torch.stack([chip_tensor(align.face_chip(framed, photo)) for photo in aged])
    years = estimator.ages(estimators.predict(estimator, chips)).tolist()
    base = laplacian_variance(framed.photo, framed.box)
    sharpness = [laplacian_variance(photo, framed.box) / base for photo in aged]
    distances, shapes = [None] * len(aged), [None] * len(aged)
    if identity_model is not None:
        own = metrics.face_descriptors(identity_model, chip_tensor(framed.crop)[None])
        distances = (metrics.face_descriptors(identity_model, chips) - own).norm(dim=1).tolist()
        shapes = [age_shape.lower_face(age_shape.landmarks(chip.permute(1, 2, 0).numpy())) for chip in chips]
    return sharpness, years, distances, shapes


def sheet_row(framed, aged):
    """The photo's face region, then each aged version's, side by side in SHEET_HEIGHT squares: a uint8 array."""
    region = face_region(framed.crop_box, framed.photo.size)
    side = (SHEET_HEIGHT, SHEET_HEIGHT)
    return np.concatenate([np.asarray(ImageOps.fit(photo.crop(region), side, Image.LANCZOS))
                           for photo in [framed.photo] + list(aged)], axis=1)


def sheet_header(width):
    """The contact sheet's first row: 'photo', then the ten groups' names over their columns."""
    header = Image.new('RGB', (width, 24), 'white')
    draw = ImageDraw.Draw(header)
    for column, name in enumerate(('photo',) + consts.AGE_GROUP_NAMES):
        draw.text((column * SHEET_HEIGHT + SHEET_HEIGHT // 2, 12), name, fill='black', anchor='mm',
                  font=ImageFont.load_default(size=16))
    return np.asarray(header)


def spearman(values):
    """The rank correlation of values with their order (ties take their first rank)."""
    ranks = np.argsort(np.argsort(values))
    return float(np.corrcoef(ranks, np.arange(len(values)))[0, 1])


def shape_summary(rows):
    """The aged faces' lower face (age_shape.lower_face) per group, the photos' mean, beside UTKFace's faces'."""
    shapes = np.array([r['lower_face'] for r in rows], dtype=float).reshape(-1, consts.NUM_AGES)
    real = [np.mean([age_shape.lower_face(p) for p in group]) for group in age_shape.prototypes()]
    return {'lower_face_per_group': np.round(np.nanmean(shapes, 0), 3).tolist(),
            'lower_face_utkface_per_group': np.round(real, 3).tolist()}


def per_group_summary(rows, seconds, ages):
    """eval.json's numbers: per group means over the photos, and the targets' figures."""
    table = np.array([[r['sharpness'], r['years']] for r in rows], dtype=float).reshape(-1, consts.NUM_AGES, 2)
    verified = [r['distance'] < metrics.IDENTITY_THRESHOLD for r in rows
                if r['distance'] is not None and r['group'] >= consts.ADULT_GROUP]
    return {'photos': len(table), 'photo_ages': ages,
            'sharpness_per_group': table[:, :, 0].mean(0).round(3).tolist(),
            'sharpness_min_over_photos_per_group': table[:, :, 0].min(0).round(3).tolist(),
            'estimated_years_per_group': table[:, :, 1].mean(0).round(1).tolist(),
            'identity_adult_groups_verified': float(np.mean(verified)) if verified else None,
            'rank_correlation_years_per_photo': round(float(np.mean([spearman(row) for row in table[:, :, 1]])), 3),
            'seconds_per_photo_ten_ages': round(float(np.mean(seconds)), 2)}


def evaluate_photos(net, folder, output, estimators_folder=estimators.DEFAULT_FOLDER, steps=photo_aging.PERSONALISE_STEPS,
                    method=composition.DEFAULT_METHOD):
    """Age every photo of `folder` (PHOTOS_CSV) to the ten groups and judge it; write eval.json, photo_eval.csv and
    contact_sheet.jpg into `output`; returns eval.json's dict."""
    photos = photo_rows(folder)
    estimator = estimators.load_or_explain('estimator', estimators_folder, 'judging the aged photos needs it')
    classifier = estimators.load_or_explain('classifier', estimators_folder, 'personalising needs it') if steps else None
    identity_model, reason = metrics.identity_model()
    rows, seconds, sheet, ages, missed = [], [], [], [], []
    for path, age, gender in tqdm(photos, desc='Aging photos', unit='photo'):
        try:
            framed, aged, took = age_one_photo(net, path, age, gender, classifier, steps, method)
        except (align.NoFaceError, align.FaceTooSmallError) as error:
            missed.append(f'{os.path.basename(path)}: {error}')
            continue
        ages.append(age)
        for group, numbers in enumerate(zip(*judge(framed, aged, estimator, identity_model))):
            rows.append(dict(zip(('photo', 'age', 'gender', 'group', 'sharpness', 'years', 'distance', 'lower_face'),
                                 (os.path.basename(path), age, gender, group) + numbers)))
        seconds.append(took)
        sheet.append(sheet_row(framed, aged))
    if not rows:
        raise utils.InputError(f'{folder}: no face found in any of its {len(photos)} photos')
    result = {'method': method, 'personalise_steps': steps, 'faces_found': f'{len(ages)} of {len(photos)} photos',
              'no_face': missed, **per_group_summary(rows, seconds, ages)}
    if identity_model is None:
        result['identity'] = reason
    else:
        result.update(shape_summary(rows))
    write_outputs(result, rows, sheet, output)
    return result


def write_outputs(result, rows, sheet, output):
    """eval.json, photo_eval.csv and contact_sheet.jpg in `output`."""
    save_json(result, os.path.join(output, 'eval.json'))
    with atomic_path(os.path.join(output, 'photo_eval.csv')) as tmp, open(tmp, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    rows = [sheet_header(sheet[0].shape[1])] + [np.pad(row, ((0, 4), (0, 0), (0, 0))) for row in sheet]
    save_jpeg(Image.fromarray(np.concatenate(rows)), os.path.join(output, 'contact_sheet.jpg'), quality=90)
