"""The Aging tab's pictures: the photo at the slider's age at its own size (photo_aging.PhotoAger), the 128-px face
at that age, and the ten age groups as the aged photo's face region.

A photo's state (web.actions.load_photo) holds the photo, its framed 128-px face ('crop'), the crop's corners in the
photo ('crop_box') and z. The PhotoAger (one per photo and photo age) and the render at the photo's own age (one per
net, photo age and gender) join it on first use, so a slider move runs the generator once and warps one change.
"""
import numpy as np
import torch
from PIL import Image

import games
import face_region as regions
import photo_aging
from images import model_tensor_to_uint8, pil_to_model_tensor_transform

SHOW_MAX_SIDE = 3000  # the aged photo is shown (and downloaded) at its own size, scaled down to this at most
FACE_SHOW_SIDE = 256  # the rendered 128x128 face is shown (and downloaded) at this size
STRIP_HEIGHT = 160  # each tile of the ten groups' strip: the face region at this height
STRIP_PADDING = 2
LIFESPAN_MAX_SIDE = 768  # the lifespan animation: the aged photo's face region, scaled down to this at most
DEFAULT_AGE = 30.0


def show_face(face):
    """A rendered 128x128 face as the PIL image the page shows (FACE_SHOW_SIDE, bicubic)."""
    return Image.fromarray(face).resize((FACE_SHOW_SIDE, FACE_SHOW_SIDE), Image.BICUBIC)


def photo_ager(state, photo_age, gender):
    """The state's PhotoAger for the person in the photo being `photo_age` years old, of `gender` (the shape of age
    and a beard depend on it), built once per age and gender."""
    if state.get('ager_key') != (float(photo_age), gender):
        state['ager'] = photo_aging.PhotoAger(state['photo'], state['crop_box'], float(photo_age), gender=gender)
        state['ager_key'] = (float(photo_age), gender)
    return state['ager']


def own_render(net, state, photo_age, gender):
    """The face at the photo's own age ([-1, 1] 1x3x128x128), kept for each gender until the net or that age
    change."""
    if state.get('own_key') != (id(net), float(photo_age)):
        state['own'], state['own_key'] = {}, (id(net), float(photo_age))
    if gender not in state['own']:
        state['own'][gender] = games.render_ages(net, state['z'], [float(photo_age)], gender)
    return state['own'][gender]


def aged_view(net, state, years, gender, details=False, photo_age=DEFAULT_AGE):
    """What the page shows for a slider position: (the photo at that age at its own size, the 128-px face at that age
    at FACE_SHOW_SIDE), the person in the photo being `photo_age`; `details`: the face keeps the photo's details
    (games.with_details)."""
    render, own = games.render_ages(net, state['z'], [years], gender), own_render(net, state, photo_age, gender)
    photo = photo_ager(state, photo_age, gender).aged(*model_tensor_to_uint8(torch.cat((render, own))), years)
    if details:
        younger_by = torch.tensor([games.group_position(photo_age) - games.group_position(years)])
        render = games.with_details(pil_to_model_tensor_transform(state['crop']), render, own, younger_by)
    return photo, show_face(model_tensor_to_uint8(render)[0])


def face_region(state):
    """The box (left, top, right, bottom) of the state's photo that the strip shows (face_region.face_region)."""
    return regions.face_region(state['crop_box'], state['photo'].size)


def aged_regions(net, state, gender, ages, photo_age=DEFAULT_AGE):
    """The photo's face region (face_region) aged to each of `ages` years, at the photo's resolution: PIL images."""
    renders = model_tensor_to_uint8(games.render_ages(net, state['z'], list(ages), gender))
    own = model_tensor_to_uint8(own_render(net, state, photo_age, gender))[0]
    ager, region = photo_ager(state, photo_age, gender), face_region(state)
    return [ager.aged(render, own, years).crop(region) for render, years in zip(renders, ages)]


def group_strip(net, state, gender, photo_age=DEFAULT_AGE):
    """The aged photo's face region at the ten age groups' centres, the photo's own first (framed in white), in one
    row: a uint8 array (tile_row)."""
    aged = aged_regions(net, state, gender, games.AGE_GROUP_CENTRES, photo_age)
    return tile_row([state['photo'].crop(face_region(state))] + aged)


def lifespan_frames(net, state, gender, frames, photo_age=DEFAULT_AGE):
    """The photo's face region aging from 0 to 100 years in `frames` steps, at the photo's resolution (at most
    LIFESPAN_MAX_SIDE), each captioned with its age (games.lifespan_frames): PIL frames."""
    ages = games.smooth_ages(frames)
    renders = model_tensor_to_uint8(games.render_ages(net, state['z'], list(ages), gender))
    own = model_tensor_to_uint8(own_render(net, state, photo_age, gender))[0]
    return games.lifespan_frames(photo_ager(state, photo_age, gender), renders, own, ages, face_region(state),
                                 LIFESPAN_MAX_SIDE)


def tile_row(pictures, height=STRIP_HEIGHT, padding=STRIP_PADDING):
    """PIL pictures of one size, each scaled to `height`, in one row on black `padding` px apart, the first inside
    a white frame drawn in that padding: a uint8 array."""
    width = max(1, round(pictures[0].width * height / pictures[0].height))
    row = np.zeros((height + 2 * padding, len(pictures) * (width + padding) + padding, 3), np.uint8)
    row[:, :width + 2 * padding] = 255
    for i, picture in enumerate(pictures):
        x = padding + i * (width + padding)
        row[padding:padding + height, x:x + width] = np.asarray(picture.resize((width, height), Image.LANCZOS))
    return row
