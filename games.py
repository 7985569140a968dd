"""Continuous ages: a face at any age in years, not only at the ten age groups.

The generator is conditioned on a one-hot age group. An age between two group centres is rendered with
the labels of the two neighbouring groups blended linearly (their one-hot parts; the gender part is
unchanged), so the face changes smoothly as the age slides. At a group's centre the label is exactly
`utils.label_tensor(group, gender)`, so the render is the aging game's face for that group; below the
first centre and above the last the label is clamped to the first and last group.

A smooth aging GIF from the command line (`python app.py --help`):
    python app.py --gif data/UTKFace/unlabeled/5_0_1_20170103205158426.jpg.chip.jpg --frames 41 -o smooth.gif
"""
import torch
from PIL import Image

import consts
import utils

# The middle of each group's years (0-5 -> 2.5, ..., 61-70 -> 65.5); 71+ is open-ended: 80 is taken as its centre.
AGE_GROUP_CENTRES = (2.5, 8.0, 13.0, 18.0, 25.5, 35.5, 45.5, 55.5, 65.5, 80.0)
MIN_YEARS, MAX_YEARS = 0, 100


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


def age_label(years, gender):
    """A LABEL_LEN +/-1 label for an age in years (0-100) and a gender: the one-hot age parts of the two
    neighbouring groups blended linearly between their centres; exactly utils.label_tensor at a centre."""
    if not 0 <= int(gender) < consts.NUM_GENDERS:
        raise ValueError(f'gender must be 0 (male) or 1 (female), got {gender!r}')
    weights = age_weights(years)
    group = int(weights.argmax())
    label = utils.label_tensor(group, int(gender)).clone()
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
    faces = utils.model_tensor_to_uint8(render_ages(net, face_or_z, ages, gender))
    pictures = [Image.fromarray(face) for face in faces]
    if size:
        pictures = [p.resize((size, size), Image.BICUBIC) for p in pictures]
    return [utils.label_frame(p, f'{age:.0f} years') for p, age in zip(pictures, ages)]


def save_smooth_aging_gif(net, face_or_z, gender, path, frames=41, start=MIN_YEARS, stop=MAX_YEARS, duration_ms=100):
    """Write an animated GIF of the face aging smoothly (`frames` frames from start to stop years); returns path."""
    return utils.save_gif(smooth_aging_frames(net, face_or_z, gender, frames, start, stop), path, duration_ms)

