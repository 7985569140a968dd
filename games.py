"""The three games of a trained model: aging (one face at every age group), morph (one face into another) and
kids (random mixtures of two faces, drawn as children). Each saves a PNG strip and an animated GIF beside it."""
import os

import torch

import consts
from data import age_to_group, label_tensor
from images import image_strip, save_game, to_model_range, watermark as write_watermark


def aging(net, image_tensor, age, gender, target, watermark=False, keep_details=False):
    """One face at all 10 age groups with its gender; saves out_<gender>_<age>.png in `target`.

    The row is the input and the 10 generated faces; the input and the face of its own age group
    are framed in white. `keep_details`: see with_details."""
    net.eval()
    face = to_model_range(image_tensor).cpu()
    groups = torch.arange(consts.NUM_AGES)
    z = net.encode(face[None]).expand(consts.NUM_AGES, -1)
    generated = net.generate(z, label_tensor(groups, torch.full_like(groups, int(gender)))).cpu()
    if keep_details:
        generated = with_details(face, generated, generated[age_to_group(age)])
    gender_name = consts.GENDER_NAMES[int(gender)]
    if watermark:
        face = write_watermark(face, f'{gender_name}, {age}')
    own_group = age_to_group(age) + 1  # its index in the row, after the input
    strip = image_strip(torch.cat((face[None], generated)), framed=(0, own_group), padding=4)
    dest = os.path.join(target, f'out_{gender_name.lower()}_{age}.png')
    return save_game(dest, strip, generated, consts.AGE_GROUP_NAMES)


def morph(net, image_tensors, ages, genders, length, target):
    """`length` + 1 faces from face 1 to face 2, each z joined with its own label; saves morph.png."""
    net.eval()
    z = net.encode(torch.stack(tuple(image_tensors))).cpu()
    labels = label_tensor([age_to_group(age) for age in ages], genders)
    i = torch.arange(length + 1.0)[:, None]
    z_steps, label_steps = (((length - i) * first + i * second) / length for first, second in (z, labels))
    generated = net.generate(z_steps, label_steps).cpu()
    captions = [f'{step}/{length}' for step in range(length + 1)]
    return save_game(os.path.join(target, 'morph.png'), image_strip(generated), generated, captions)


def kids(net, image_tensors, length, target, seed=None):
    """`length` children of the youngest age group and a random gender; saves kids.png.

    Each element i of a child's z is r * z1[i] + (1 - r) * z2[i], with its own r uniform in [0, 1)."""
    net.eval()
    z1, z2 = net.encode(torch.stack(tuple(image_tensors))).cpu()
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    r = torch.rand(length, z1.numel(), generator=generator)
    genders = torch.randint(consts.NUM_GENDERS, (length,), generator=generator)
    generated = net.generate(r * z1 + (1 - r) * z2, label_tensor(torch.zeros_like(genders), genders)).cpu()
    captions = [consts.GENDER_NAMES[int(gender)] for gender in genders]
    return save_game(os.path.join(target, 'kids.png'), image_strip(generated), generated, captions)


def with_details(face, renders, own_render):
    """The input face plus what the age label changes: each render minus the render at the face's own age, added
    to the photo, so its sharpness, skin and background stay and only the age change is added."""
    return (face + renders - own_render).clamp(-1, 1)
