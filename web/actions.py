"""What the web page does, without gradio: reading and checking uploads, finding and loading models, framing
faces, loading a photo, lifespan animations and the games (the Aging tab's pictures: web.pictures).

The tabs (web.aging_tab, web.morph_tab, web.kids_tab) wire these functions to gradio components; tests call them
without a browser.
"""
import contextlib
import functools
import importlib.util
import os
import threading
import uuid
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

import align
import consts
import estimators
import games
import personalise
import photo_aging
import utils
from checkpoints import find_run_record, network_path
from data import age_to_group, parse_utkface_name
from images import (
    gif_beside,
    model_tensor_to_uint8,
    pil_to_model_tensor_transform,
    read_image,
    save_gif,
    thumbnail,
)
from model import Net
from web.pictures import DEFAULT_AGE, SHOW_MAX_SIDE, aged_view, lifespan_frames, show_face

REPO = Path(__file__).resolve().parents[1]
MODELS_DIR = REPO / 'trained_models'
WORK_MAX_SIDE = 1600  # photos are scaled down to this for detection and alignment (aged at SHOW_MAX_SIDE)
LIFESPAN_FRAMES = 41
GENDERS = ('male', 'female')


# ---------------------------------------------------------------- reading and checking an upload

class NoFaceInPhoto(utils.InputError):
    """The photo has no detectable face (the page offers to use the whole image); `preview`: the photo as searched,
    at most align.PREVIEW_MAX_SIDE, for the page to show."""

    def __init__(self, message, preview=None):
        super().__init__(message)
        self.preview = preview


def read_upload(path):
    """An uploaded file or webcam frame as an upright RGB PIL image (images.read_image, 16-bit refused), or
    utils.InputError with one sentence that names no path."""
    if path is None or str(path) == '':
        raise utils.InputError('Upload a photo first.')
    if not Path(path).is_file():
        raise utils.InputError('The upload did not arrive; please upload the photo again.')
    try:
        return read_image(path, allow_16_bit=False)
    except utils.InputError as e:
        raise utils.InputError(sentence(str(e))) from None


def sentence(clause):
    """A message clause (as images.read_image words it) as a sentence for the page."""
    return clause[:1].upper() + clause[1:] + '.'


def shrink(image, max_side=WORK_MAX_SIDE):
    """The image scaled down (never up) so that its longer side is at most max_side."""
    scale = max_side / max(image.size)
    if scale >= 1:
        return image
    return image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.LANCZOS)


def name_labels(name):
    """(age, gender) from a UTKFace file name, or (None, None)."""
    parsed = parse_utkface_name(os.path.basename(str(name or '')))
    return (parsed[0], parsed[1]) if parsed else (None, None)


class PreparedFace(NamedTuple):
    """A photo ready to play with: the photo (at its own size, at most SHOW_MAX_SIDE), the 128x128 face cut from it,
    the faces found (boxes in the WORK_MAX_SIDE copy, in align.find_faces' order), the one used, the crop's corners in the photo,
    the preview with the boxes drawn, the size of the photo as uploaded and whether the face is turned to one side."""
    photo: Image.Image
    crop: Image.Image
    boxes: list
    face_index: int
    crop_box: tuple
    preview: Image.Image
    upload_size: tuple
    turned: bool = False


def prepare_upload(path, face_index=0, whole_image=False):
    """Read an upload and frame its face as align.prepare_face does (UTKFace chips and whole_image: resized only),
    on a copy of at most WORK_MAX_SIDE, its faces found once; the crop's corners are those in the photo kept at
    SHOW_MAX_SIDE at most. `face_index`: which face (align.find_faces' order), the last one where it is past them.

    Raises utils.InputError for bad files and a face too small to age, NoFaceInPhoto when no face is found."""
    upload = read_upload(path)
    photo = shrink(upload, SHOW_MAX_SIDE)
    work = shrink(photo)
    if whole_image or align.is_utkface_chip(path):
        w, h = photo.size
        crop = work.resize((consts.IMAGE_LENGTH, consts.IMAGE_LENGTH), Image.BILINEAR)
        return PreparedFace(photo, crop, [], None, ((0, 0), (w, 0), (w, h), (0, h)), draw_faces(work, [], None, ()),
                            upload.size)
    faces = align.find_faces(work)
    if not faces:
        raise NoFaceInPhoto('No face found in this photo. Tick "Use the whole image" to age the picture as it '
                            'is, or upload a photo where the face is clearly visible.', draw_faces(work, [], None, ()))
    face_index = min(max(int(face_index), 0), len(faces) - 1)
    try:
        aligned = align.align_face(work, face_index, faces)
    except align.FaceTooSmallError as e:
        raise utils.InputError(sentence(str(e))) from None
    boxes = [tuple(round(v) for v in face.box) for face in faces]
    return PreparedFace(photo, aligned.crop, boxes, face_index, scaled_points(aligned.crop_box, work.size, photo.size),
                        draw_faces(work, boxes, face_index, aligned.crop_box), upload.size, align.is_turned(aligned))


def scaled_points(points, size, new_size):
    """Pixel coordinates (x, y) in an image of `size` moved onto the same image resized to `new_size`."""
    sx, sy = (new / old for new, old in zip(new_size, size))
    return tuple(((x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5) for x, y in points)


def draw_faces(photo, boxes, chosen, crop_box):
    """The photo (at most align.PREVIEW_MAX_SIDE) with every face box numbered, the chosen one green with its crop."""
    preview = thumbnail(photo, align.PREVIEW_MAX_SIDE)
    scale = preview.width / photo.width
    draw = ImageDraw.Draw(preview)
    font = ImageFont.load_default(size=max(14, preview.width // 30))
    if boxes:
        draw.polygon([(u * scale, v * scale) for u, v in crop_box], outline=(255, 220, 0), width=2)
    for i, box in enumerate(boxes):
        x, y, w, h = (v * scale for v in box)
        colour = (0, 255, 0) if i == chosen else (255, 80, 80)
        draw.rectangle((x, y, x + w, y + h), outline=colour, width=3)
        draw.text((x + 4, y + 2), str(i + 1), fill=colour, font=font, stroke_width=2, stroke_fill='black')
    return preview


def gender_index(value):
    """The gender code of a gender word of the page (GENDERS); the first for anything else."""
    return GENDERS.index(value) if value in GENDERS else 0


def face_choices(count):
    """The face menu's entries for `count` faces found (align.find_faces' order): '1 (largest, most central)', '2',
    ..."""
    return [f'{i + 1}' + (' (largest, most central)' if i == 0 else '') for i in range(count)]


def known_age(value):
    """The photo's age as the page's field gives it (years): DEFAULT_AGE when the field is empty."""
    return DEFAULT_AGE if value is None else float(value)


def chosen_face(choice):
    """The face index (0: the first) of a face menu entry ('1 (largest, most central)', '2', ...); 0 for none or
    anything else."""
    words = str(choice or '').split()
    return int(words[0]) - 1 if words and words[0].isdigit() else 0


class LoadedPhoto(NamedTuple):
    """What the Aging tab shows once a photo is loaded: the session's state, the photo with its faces, the framed
    face, the photo and the face at the slider's age, the face menu (entries, the chosen one), the labels and a
    message."""
    state: dict
    preview: Image.Image
    face: Image.Image
    aged: Image.Image
    aged_face: Image.Image
    choices: list
    chosen: str
    age: float
    gender: str
    photo_age: float
    message: str


def load_photo(models, path, model_name, face_choice=None, whole=False, labels=None, details=False,
               photo_age=DEFAULT_AGE, personal=False):
    """An upload (or a new face, model or Personalise for it) made ready to play: framed, encoded, personalised
    when `personal`, and shown at the slider's age. `labels`: the (age, gender) to keep; None: read from a UTKFace
    name (else DEFAULT_AGE, the first gender), the photo's age too. Raises utils.InputError, NoFaceInPhoto."""
    prepared = prepare_upload(path, chosen_face(face_choice), whole)
    net = models.get(model_name)
    estimate = None
    if labels is None:
        name_age, name_gender = name_labels(path)
        if name_age is None:
            estimate = estimated_age(prepared.crop)
        age = photo_age = float(name_age if name_age is not None else estimate or DEFAULT_AGE)
        gender = GENDERS[name_gender] if name_gender is not None else GENDERS[0]
    else:
        age, gender = labels
    state = {'path': path, 'photo': prepared.photo, 'crop': prepared.crop, 'crop_box': prepared.crop_box,
             'z': encode(net, prepared.crop), 'model': model_name}
    if personal:
        with all_cores():  # rare and long: 5 s instead of 10 on two cores
            state['net'] = net = personalised_net(net, prepared.crop, photo_age, gender_index(gender))
    choices = face_choices(len(prepared.boxes))
    views = aged_view(net, state, age, gender_index(gender), details, photo_age)
    return LoadedPhoto(state, prepared.preview, show_face(np.asarray(prepared.crop)), *views, choices,
                       choices[prepared.face_index] if choices else None, min(max(age, 0), 100), gender, photo_age,
                       f'Ready: {what_was_found(prepared, path, whole)}. Drag the age slider.'
                       + (f' The person looks about {estimate:.0f} to the shipped age estimator (an estimate: '
                          'correct "Age of the person in the photo" if you know it; aging the photo and '
                          'personalising use it).' if estimate else ''))


def what_was_found(prepared, path, whole):
    """The page's words for the faces found in a prepared upload, and for its scaling."""
    found = ('a UTKFace chip, used as it is' if align.is_utkface_chip(path) and not whole else
             'the whole image is used' if not prepared.boxes else
             f'{len(prepared.boxes)} faces found; showing face {prepared.face_index + 1}'
             + (' (the largest, most central)' if prepared.face_index == 0 else '') + '; the Face menu picks another'
             if len(prepared.boxes) > 1 else 'one face found')
    if prepared.turned:
        found += '; ' + align.TURNED_NOTE
    if prepared.photo.size != prepared.upload_size:
        found += ' (the photo, {}x{}, is shown aged at {}x{})'.format(*prepared.upload_size, *prepared.photo.size)
    return found


@functools.lru_cache(maxsize=1)
def age_estimator(folder=consts.AGE_ESTIMATORS):
    """The shipped evaluation age estimator (estimators.py), loaded once; None where it is missing."""
    return estimators.load_if_present(folder)[1]


def estimated_age(crop):
    """The age in whole years the shipped estimator gives a framed face (PIL), or None without the estimator."""
    estimator = age_estimator()
    if estimator is None:
        return None
    logits = estimators.predict(estimator, pil_to_model_tensor_transform(crop)[None])
    return float(round(estimator.ages(logits).item()))


@contextlib.contextmanager
def all_cores():
    """Torch on every core for the block (the page renders on one thread a request), then as it was."""
    threads = torch.get_num_threads()
    torch.set_num_threads(os.cpu_count() or 1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


# ---------------------------------------------------------------- models

def find_models(extra=()):
    """{name: folder} of the models to pick from: every subfolder of trained_models/ holding E.dat and G.dat,
    then the `extra` folders (--load), named by their path."""
    def has_model(folder):
        return all(os.path.isfile(network_path(folder, n)) for n in ('E', 'G'))
    found = {}
    if MODELS_DIR.is_dir():
        for folder in sorted(MODELS_DIR.iterdir()):
            if folder.is_dir() and has_model(folder):
                found[folder.name] = str(folder)
    for folder in extra:
        if not has_model(folder):
            raise utils.InputError(f'{folder}: no E.dat and G.dat there')
        found[str(folder)] = str(folder)
    return found


RECIPE_WORDS = {'plus': 'ages visibly', 'reference': "the paper's recipe"}  # the model menu's words for each


def model_label(name, folder, default=False):
    """The model menu's words for a model: its name and what its recipe does (from its run.json, where readable)."""
    try:
        recipe = (find_run_record(folder) or {}).get('config', {}).get('recipe')
    except (OSError, ValueError, AttributeError):
        recipe = None
    words = f'{name}: {recipe}, {RECIPE_WORDS[recipe]}' if recipe in RECIPE_WORDS else name
    return words + (' (default)' if default else '')


class Models:
    """The networks, each loaded once (on first use) and kept: a slider move only runs the generator."""

    def __init__(self, folders):
        self.folders = dict(folders)
        self._nets = {}
        self._lock = threading.Lock()

    def names(self):
        return list(self.folders)

    def choices(self):
        """(words, name) of each model for the page's menu, the default one said so."""
        default = self.default()
        return [(model_label(name, folder, name == default), name) for name, folder in self.folders.items()]

    def default(self):
        """The shipped model the games use (consts.SHIPPED_MODEL) when it is listed, else the first one."""
        shipped = os.path.basename(os.path.normpath(consts.SHIPPED_MODEL))
        return shipped if shipped in self.folders else next(iter(self.folders), None)

    def get(self, name):
        if name not in self.folders:
            raise utils.InputError(f'No model named {name!r}; pick one of {", ".join(self.folders) or "(none)"}.')
        with self._lock:
            if name not in self._nets:
                net = Net.from_checkpoint(self.folders[name])
                net.eval()
                self._nets[name] = net
            return self._nets[name]


# ---------------------------------------------------------------- rendering

def personalised_net(net, crop, photo_age, gender, classifier_folder=consts.AGE_ESTIMATORS):
    """`net` with a G personalised to the framed face (PIL; personalise.py), the person in it being `photo_age`
    years old; the age classifier of `classifier_folder` judges the other ages."""
    classifier = estimators.load_or_explain('classifier', classifier_folder, 'Personalising needs the age classifier.')
    return personalise.personalised(net, pil_to_model_tensor_transform(crop), age_to_group(round(photo_age)), gender,
                                    classifier, photo_aging.PERSONALISE_STEPS)


def encode(net, crop):
    """z of a prepared 128x128 face (PIL)."""
    return games.encode_face(net, pil_to_model_tensor_transform(crop))


def lifespan_animation(net, state, gender, folder, kind='gif', frames=LIFESPAN_FRAMES, photo_age=DEFAULT_AGE):
    """The photo's face region aging from 0 to 100 years (web.pictures.lifespan_frames), written into `folder` as an
    animated GIF or an MP4; returns its path."""
    pictures = lifespan_frames(net, state, gender, frames, photo_age)
    path = Path(folder) / f'lifespan_{uuid.uuid4().hex[:8]}.{kind}'
    if kind == 'gif':
        save_gif(pictures, str(path), duration_ms=100)
    elif kind == 'mp4':
        if not ffmpeg_available():
            raise utils.InputError('The MP4 needs the imageio-ffmpeg package (pip install imageio-ffmpeg); '
                                   'the GIF works without it.')
        import imageio.v2 as imageio
        imageio.mimsave(str(path), [np.asarray(p) for p in pictures], format='FFMPEG', fps=10, macro_block_size=16)
    else:
        raise ValueError(f'kind must be gif or mp4, not {kind!r}')
    return str(path)


def ffmpeg_available():
    """Whether imageio can write MP4s (imageio-ffmpeg brings its own ffmpeg); without it imageio would pick
    another writer for .mp4 and fail with an unrelated TypeError."""
    return importlib.util.find_spec('imageio_ffmpeg') is not None


def prepare_pair(paths, whole=False):
    """Two uploads framed (each detected once): (their 128x128 faces, their (age, gender) from UTKFace names).
    Raises utils.InputError naming the photo."""
    crops, labels = [], []
    for i, path in enumerate(paths, 1):
        try:
            crops.append(prepare_upload(path, whole_image=whole).crop)
        except utils.InputError as e:
            raise utils.InputError(f'Photo {i}: {e}') from None
        labels.append(name_labels(path))
    return crops, labels


def morph_state(net, crops, model_name, ages, genders, z=None):
    """The Morph tab's state: the two faces' z (`z` where `net` has already encoded them) and their labels at the
    given ages (years) and genders (words)."""
    z = z or tuple(encode(net, crop)[0] for crop in crops)
    labels = tuple(games.age_label(age, gender_index(gender)) for age, gender in zip(ages, genders))
    return {'crops': crops, 'z': z, 'labels': labels, 'model': model_name}


def morph_view(net, z_pair, labels, t):
    """The face a fraction t (0: the first face, 1: the second) of the way between two faces, z and label blended."""
    z = (1 - t) * z_pair[0] + t * z_pair[1]
    label = (1 - t) * labels[0] + t * labels[1]
    return show_face(model_tensor_to_uint8(net.generate(z[None], label[None]).cpu())[0])


def play_game(net, game, crops, folder, ages=None, genders=None, **options):
    """Play a game of games.GAMES on prepared faces into a new subfolder: (strip PNG, GIF)."""
    target = Path(folder) / f'{game}_{uuid.uuid4().hex[:8]}'
    target.mkdir(parents=True)
    faces = [pil_to_model_tensor_transform(c) for c in crops]
    png = games.GAMES[game].play(net, faces, ages, genders, str(target), games.GameOptions(**options))
    return png, gif_beside(png)
