"""The games of a trained model: aging (one face at every age group), morph (one face into another) and kids
(random mixtures of two faces, drawn as children), each saving a PNG strip and an animated GIF beside it; and
continuous ages, for the web page's slider and smooth aging GIFs.

Continuous ages: the generator is conditioned on a one-hot age group. An age between two group centres is rendered
with the labels of the two neighbouring groups blended linearly (their one-hot parts; the gender part is unchanged),
so the face changes smoothly as the age slides. At a group's centre the label is exactly `data.label_tensor(group,
gender)`, so the render is the aging game's face for that group; below the first centre and above the last the
label is clamped to the first and last group.

    python main.py --mode test --input face.jpg --age 38 --gender f --smooth 41    # also a smooth aging GIF
"""
import os
from dataclasses import dataclass
from typing import Callable

import torch
from PIL import Image

import consts
from data import age_to_group, label_tensor
from images import (face_mask, gaussian_blur, image_strip, label_frame, model_tensor_to_uint8, save_game, save_gif,
                    to_model_range, watermark as write_watermark)
from utils import InputError

AGE_GROUP_CENTRES = consts.AGE_GROUP_CENTRES
MIN_YEARS, MAX_YEARS = 0, 100
DETAIL_SIGMA = 3  # pixels: the photo's detail finer than this fades from younger keep-details renders
DETAIL_FADE_GROUPS = 4  # a keep-details render this many age groups younger keeps none of it
MAX_SEED = 2 ** 63 - 1  # the kids game's seeds: what torch.Generator.manual_seed takes


def age_weights(years):
    """Weights of the ten age groups (summing to 1) for an age in years: at most two neighbours are non-zero."""
    centres = AGE_GROUP_CENTRES
    years = min(max(float(years), centres[0]), centres[-1])
    weights = torch.zeros(consts.NUM_AGES)
    upper = next(i for i, c in enumerate(centres) if c >= years)
    if centres[upper] == years:
        weights[upper] = 1.0
    else:
        t = (years - centres[upper - 1]) / (centres[upper] - centres[upper - 1])
        weights[upper - 1], weights[upper] = 1.0 - t, t
    return weights


def group_position(years):
    """An age in years on the scale of the group indices (2.5 years -> 0, 5.25 -> 0.5, 80 -> 9): age_weights' mean."""
    return float((age_weights(years) * torch.arange(consts.NUM_AGES)).sum())


def age_label(years, gender):
    """A LABEL_LEN +/-1 label for an age in years (0-100) and a gender: the one-hot age parts of the two
    neighbouring groups blended linearly between their centres; exactly label_tensor at a centre."""
    if not 0 <= int(gender) < consts.NUM_GENDERS:
        raise ValueError(f'gender must be 0 (male) or 1 (female), got {gender!r}')
    weights = age_weights(years)
    group = int(weights.argmax())
    label = label_tensor(group, int(gender)).clone()
    label[:consts.NUM_AGES] = weights * 2 - 1
    return label


def age_labels(ages, gender):
    """age_label for each age in a list: an N x LABEL_LEN tensor."""
    return torch.stack([age_label(years, gender) for years in ages])


def encode_face(net, face):
    """z (1 x z length, on the CPU) of one 3x128x128 face ([-1, 1] float or uint8)."""
    net.eval()
    return net.encode(torch.as_tensor(face)[None]).cpu()


def render_ages(net, face_or_z, ages, gender):
    """The face at each age in years (a list): [-1, 1] N x 3 x 128 x 128 on the CPU.

    `face_or_z`: a 3x128x128 face, or its z from encode_face (encode once, render many ages)."""
    z = face_or_z if face_or_z.dim() == 2 else encode_face(net, face_or_z)
    net.eval()
    return net.generate(z.expand(len(ages), -1), age_labels(ages, gender)).cpu()


def smooth_ages(frames, start=MIN_YEARS, stop=MAX_YEARS):
    """`frames` ages evenly spaced from start to stop years."""
    if frames < 2:
        return [float(start)]
    return [start + (stop - start) * i / (frames - 1) for i in range(frames)]


def smooth_aging_frames(net, face_or_z, gender, frames=41, start=MIN_YEARS, stop=MAX_YEARS, size=None):
    """PIL frames of the face aging smoothly from start to stop years, each captioned with its age."""
    ages = smooth_ages(frames, start, stop)
    faces = model_tensor_to_uint8(render_ages(net, face_or_z, ages, gender))
    pictures = [Image.fromarray(face) for face in faces]
    if size:
        pictures = [p.resize((size, size), Image.BICUBIC) for p in pictures]
    return [label_frame(p, f'{age:.0f} years') for p, age in zip(pictures, ages)]


def save_smooth_aging_gif(net, face_or_z, gender, path, frames=41, start=MIN_YEARS, stop=MAX_YEARS, duration_ms=100):
    """Write an animated GIF of the face aging smoothly (`frames` frames from start to stop years); returns path."""
    return save_gif(smooth_aging_frames(net, face_or_z, gender, frames, start, stop), path, duration_ms)


def lifespan_frames(ager, renders, own, ages, region, max_side=None):
    """The photo's face `region` aged by `ager` to each of `ages` (G's `renders` at those ages, `own` at the photo's),
    scaled down to at most `max_side` and captioned with its age: PIL frames, one whole aged photo in memory at a time
    (the command line's --smooth GIF and the page's lifespan; 41 whole 3000-px photos were over 1 GB)."""
    frames = []
    for render, years in zip(renders, ages):
        face = ager.aged(render, own, years).crop(region)
        if max_side:
            face.thumbnail((max_side, max_side), Image.LANCZOS, reducing_gap=None)  # smaller only, its shape kept
        frames.append(label_frame(face, f'{years:.0f} years'))
    return frames


def render_every_age(net, images, genders):
    """Each uint8 face drawn at every age group with its gender: float [-1, 1] N x NUM_AGES x 3 x H x W."""
    renders = []
    for start in range(0, len(images), 64):
        z = net.encode(images[start:start + 64])
        batch_genders = genders[start:start + 64]
        renders.append(torch.stack([net.generate(z, label_tensor(torch.full_like(batch_genders, g), batch_genders)).cpu()
                                    for g in range(consts.NUM_AGES)], dim=1))
    return torch.cat(renders)


def aging(net, image_tensor, age, gender, target, watermark=False, keep_details=False):
    """One face at all 10 age groups with its gender; saves out_<gender>_<age>.png in `target`.

    The row is the input and the 10 generated faces; the input and the face of its own age group
    are framed in white. `keep_details`: see with_details."""
    net.eval()
    face = to_model_range(image_tensor).cpu()
    groups, own_group = torch.arange(consts.NUM_AGES), age_to_group(age)
    z = net.encode(face[None]).expand(consts.NUM_AGES, -1)
    generated = net.generate(z, label_tensor(groups, torch.full_like(groups, int(gender)))).cpu()
    if keep_details:
        generated = with_details(face, generated, generated[own_group], own_group - groups)
    gender_name = consts.GENDER_NAMES[int(gender)]
    if watermark:
        face = write_watermark(face, f'{gender_name}, {age}')
    strip = image_strip(torch.cat((face[None], generated)), framed=(0, own_group + 1), padding=4)  # after the input
    dest = os.path.join(target, f'out_{gender_name.lower()}_{age}.png')
    return save_game(dest, strip, generated, consts.AGE_GROUP_NAMES)


def morph(net, image_tensors, ages, genders, length, target):
    """`length` + 1 faces from face 1 to face 2, each z joined with its own label; saves morph.png."""
    net.eval()
    z = net.encode(torch.stack(tuple(image_tensors))).cpu()
    labels = label_tensor([age_to_group(age) for age in ages], genders)
    return morph_between(net, z, labels, length, target)


def morph_between(net, z, labels, length, target):
    """`length` + 1 faces between two (z, label) pairs (z: 2 x z length, labels: 2 x LABEL_LEN, any ages, also
    continuous ones), blended in equal steps; saves morph.png in `target`."""
    i = torch.arange(length + 1.0)[:, None]
    z_steps, label_steps = (((length - i) * first + i * second) / length for first, second in (z, labels))
    generated = net.generate(z_steps, label_steps).cpu()
    captions = [f'{step}/{length}' for step in range(length + 1)]
    return save_game(os.path.join(target, 'morph.png'), image_strip(generated), generated, captions)


def kids(net, image_tensors, length, target, seed=None):
    """`length` children of the youngest age group and a random gender; saves kids.png.

    Each element i of a child's z is r * z1[i] + (1 - r) * z2[i], with its own r uniform in [0, 1)."""
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise InputError(f'the seed must be a whole number from 0 to {MAX_SEED}, not {seed}')
    net.eval()
    z1, z2 = net.encode(torch.stack(tuple(image_tensors))).cpu()
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    r = torch.rand(length, z1.numel(), generator=generator)
    genders = torch.randint(consts.NUM_GENDERS, (length,), generator=generator)
    generated = net.generate(r * z1 + (1 - r) * z2, label_tensor(torch.zeros_like(genders), genders)).cpu()
    captions = [consts.GENDER_NAMES[int(gender)] for gender in genders]
    return save_game(os.path.join(target, 'kids.png'), image_strip(generated), generated, captions)


def with_details(face, renders, own_render, younger_by):
    """The input face plus what the age label changes: each render minus the render at the face's own age, added
    to the photo, so its sharpness, skin and background stay and only the age change is added.

    In renders younger than the face, the photo's fine detail inside the face (finer than DETAIL_SIGMA pixels:
    wrinkles, skin texture, the edges of its own eyes) fades, by 1 / DETAIL_FADE_GROUPS per group, so an old face
    can become a child rather than a child's features over its wrinkles. Colour, light, hair and background stay at
    every age. `younger_by`: the face's age group minus each render's (broadcast over the renders' leading dims)."""
    residual = (face - own_render).expand_as(renders)
    flat = residual.reshape(-1, *residual.shape[-3:])
    coarse = gaussian_blur(flat, DETAIL_SIGMA, radius=round(3 * DETAIL_SIGMA))
    fine = ((flat - coarse) * face_mask()).view_as(residual)
    fade = (torch.as_tensor(younger_by, dtype=renders.dtype) / DETAIL_FADE_GROUPS).clamp(0, 1)
    return (renders + residual - fade[..., None, None, None] * fine).clamp(-1, 1)


# ---------------------------------------------------------------- the registry that main.py, Net and the page read

@dataclass(frozen=True)
class GameOptions:
    """What the command line (or the page) may ask of a game; each game reads the options it has."""
    watermark: bool = False
    keep_details: bool = False
    length: int = 10
    seed: int = None


@dataclass(frozen=True)
class Game:
    """A game: play(net, faces, ages, genders, target, options) saves its PNG (and the GIF beside it) in `target` and
    returns the PNG's path; `faces` [-1, 1] 3x128x128 tensors, `ages` and `genders` one each (None without labels)."""
    name: str  # its --mode
    play: Callable
    faces: int  # how many input faces it takes
    needs_labels: bool = True  # it needs each face's age and gender (--age, --gender or UTKFace names)
    ages_a_face: bool = False  # it ages one face: the command line first tunes G to it, --smooth adds a GIF


GAMES = {}


def register(game):
    GAMES[game.name] = game
    return game


register(Game('test', lambda net, faces, ages, genders, target, options: aging(
    net, faces[0], ages[0], genders[0], target, options.watermark, options.keep_details), faces=1, ages_a_face=True))
register(Game('morph', lambda net, faces, ages, genders, target, options: morph(
    net, faces, ages, genders, options.length, target), faces=2))
register(Game('kids', lambda net, faces, ages, genders, target, options: kids(
    net, faces, options.length, target, options.seed), faces=2, needs_labels=False))
