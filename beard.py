"""Facial hair in a photo's face (the padded 128-px face: age_shape.face_grid's pixels, dlib's landmarks): where the
beard is (beard_mask: what in the lower face is far from the cheeks' colour; hanging_beard: an elder's grey beard
where it hangs below the jaw), whether it is a full beard that greys with the hair (full_beard, beard_greyed), where
a child's skin replaces it and its edge (shaven), and what a child has under a full beard: the age's jaw line
(jaw_under), a neck, and beyond them what was around the beard (beyond_jaw). Its colours are judged as the hair's
are (hair.py).
"""
import functools

import cv2
import numpy as np

import consts
from age_shape import (OUTLINE, PAD, cheek_mask, eye_distance, face_outline, fit_similarity, landmark_turn,
                       lower_face_region, prototype, to_frame)
from age_texture import NECK, outlines
from hair import (BEARD_DISTANCE, HAIR_SKIN_SPREAD, HAIR_SPREAD, background_free, colour_distance, grain, greyed,
                  grey_hair, unlike_background)

BEARD_JAW = slice(1, 16)  # a beard is looked for up to the jaw line's landmarks at the nose's height (on the cheeks)
BEARD_BEYOND = 0.2  # a beard's own colour is looked for this many eye distances beyond the jaw line
BEARD_AREA = 0.3  # a beard is looked for beyond the jaw line when this share of the lower face is hair
BEARD_FULL = (0.5, 0.6)  # a beard covers this share of the lower face, this share of it hair-coloured (full_beard)
BEARD_SPREAD = (3.0, 1.5, 1.5)  # the least spread of the cheeks' L, a, b (uniformly lit skin)
BEARD_DARKER = 30.0  # Lab L: greying, beard pixels this much darker than the skin grey fully, lighter ones not
BEARD_LONG = (1.5, 0.3, 0.15)  # eye distances: a grey beard is followed this far under the chin, this far beyond the
# jaw, and grown this much (its loose strands) ...
BEARD_GREY = 0.35  # ... under this share of the skin's chroma (a pink collar was 0.43 of it, a white beard 0.25) ...
BEARD_GRAIN = 1.5  # ... where it is this many times grainier than the cheeks (its strands) ...
BEARD_CHIN = (0.2, 0.25)  # ... when it covers this share of the chin below the lips (at most 0.13 beardless) and
# closed over this many eye distances (dark strands between the white ones)
BEARD_GROW = 8  # face pixels: a child's skin replaces a beard this far around its core too (shaven)
JAW_FROM = slice(17, 48)  # the brows, nose and eyes: under a full beard the jaw line is fitted to these (jaw_under)
JAW_SHARE = np.interp(np.abs(np.arange(17) - 8), (3, 7), (1, 0))  # of each jaw point: the fitted jaw's share (the
# chin's all, the ears' none: a beard does not reach there, a child's fitted jaw cut into the cheeks)
JAW_TURN = 0.15  # age_shape.landmark_turn: a face turned further keeps dlib's jaw line (the fitted one is
# a frontal face's: it cut into the near cheek of FairFace 0152 and 0070)
NECK_FADE = 0.3  # eye distances: a child's neck under a shaved beard fades out over this much of its end
HANGING_FILL = 15  # face pixels: where a beard lay beyond a child's jaw and neck, it has what is this far around it


def beard_mask(face, points, pad=0):
    """float32 (128 + 2 pad)^2: where a uint8 face (face_grid's pixels, landmarks in the 128-px face's) has facial hair:
    the lower face (below the nostrils, inside the jaw line and a little beyond it, less the lips) where its colour is
    far from its upper cheeks' and nose's and from the background's (background_free: a jaw's soft edge was skin), a
    black fill no background (FairFace 0152's black chin beard, beside the fill around his turned photo, was left on
    his child as a dark blot)."""
    lab = cv2.cvtColor(cv2.GaussianBlur(face, (0, 0), 1), cv2.COLOR_RGB2LAB).astype(np.float32)
    cheeks = cheek_mask(points, pad)
    if cheeks.sum() < 20:
        return np.zeros(face.shape[:2], np.float32)
    distance = colour_distance(lab, lab[cheeks], BEARD_SPREAD)
    region = functools.partial(lower_face_region, points, pad, len(face), jaw=BEARD_JAW)
    hair = ((distance - BEARD_DISTANCE) / BEARD_DISTANCE).clip(0, 1) * region(0)
    if (hair > 0.5).sum() > BEARD_AREA * region(0).sum():  # a beard goes on beyond the jaw line in its colour
        like = (BEARD_DISTANCE - colour_distance(lab, lab[hair > 0.5], BEARD_SPREAD) / BEARD_DISTANCE).clip(0, 1)
        hair = np.maximum(hair, like * (distance > BEARD_DISTANCE) * region(BEARD_BEYOND))
    hair = cv2.GaussianBlur(cv2.dilate(hair, np.ones((3, 3), np.uint8)), (0, 0), 2.5)
    return hair * background_free(unlike_background(lab, pad, black=False))


def hanging_beard(face, points, pad, person):
    """float32 (128 + 2 pad)^2: an elder's grey or white beard where it hangs below the jaw line of a uint8 face
    (face_grid's pixels; dlib's chin lies on the beard, and the child kept it). Where grey hair (grey_hair, under
    BEARD_GREY of the cheeks' chroma, BEARD_GRAIN grainier than them) covers BEARD_CHIN's share of the chin below the
    lips, the grey hair joined to it on the person (`person`, person.person_map: of the background's colour too, a
    white beard before a white wall), from the lower lip down to BEARD_LONG's eye distances under the chin and beyond
    the jaw, its holes filled (dark strands) and its rim grown (loose strands)."""
    lab = cv2.cvtColor(cv2.GaussianBlur(face, (0, 0), 1), cv2.COLOR_RGB2LAB).astype(np.float32)
    cheeks, empty = cheek_mask(points, pad), np.zeros(face.shape[:2], np.float32)
    iod, rows, columns = eye_distance(points), *np.mgrid[:len(lab), :lab.shape[1]]
    chin = (lower_face_region(points, pad, len(lab), jaw=BEARD_JAW) > 0.5) & (rows > points[57, 1] + pad)
    if cheeks.sum() < 20:
        return empty
    grainy = cv2.GaussianBlur(grain(lab[..., 0]), (0, 0), 2.0)
    seed = chin & grey_hair(lab, lab[cheeks], BEARD_GREY) & (grainy > BEARD_GRAIN * np.median(grainy[cheeks]))
    if seed.sum() < BEARD_CHIN[0] * max(chin.sum(), 1):
        return empty
    jaw = points[BEARD_JAW, 0] + pad
    beard = (grey_hair(lab, lab[cheeks]) & (person > 0.5) & (rows > points[57, 1] + pad)
             & (rows < points[8, 1] + pad + BEARD_LONG[0] * iod) & (columns > jaw.min() - BEARD_LONG[1] * iod)
             & (columns < jaw.max() + BEARD_LONG[1] * iod))
    count, parts = cv2.connectedComponents((beard | seed).astype(np.uint8))
    beard = np.isin(parts, np.unique(parts[seed])) & (beard | seed)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(BEARD_CHIN[1] * iod) | 1,) * 2)
    beard = filled(cv2.morphologyEx(beard.astype(np.uint8), cv2.MORPH_CLOSE, disc))
    rim = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(BEARD_LONG[2] * iod) | 1,) * 2)
    return cv2.GaussianBlur(cv2.dilate(beard, rim).astype(np.float32), (0, 0), 2.5)


def filled(mask):
    """A uint8 0/1 mask with its holes (what the outside does not reach) filled: a beard's dark strands."""
    outside = np.pad(1 - mask, 1, constant_values=1)
    cv2.floodFill(outside, None, (0, 0), 2)
    return (outside[1:-1, 1:-1] != 2).astype(np.uint8)


def full_beard(face, points, beard, pad=0):
    """Whether the facial hair `beard` (beard_mask) of a uint8 face (face_grid's pixels) is a beard that greys with
    the hair: it covers BEARD_FULL[0] of the lower face and BEARD_FULL[1] of it is hair-coloured (far from the cheeks
    in colour, not only in light), not a stubble's shadow or a smile's folds (they greyed to a white muzzle)."""
    cheeks, strong = cheek_mask(points, pad), beard > 0.5
    if cheeks.sum() < 20 or not strong.any():
        return False
    region = lower_face_region(points, pad, len(face), jaw=BEARD_JAW)
    lab = cv2.cvtColor(cv2.GaussianBlur(face, (0, 0), 1), cv2.COLOR_RGB2LAB).astype(np.float32)
    hair_coloured = colour_distance(lab[strong], lab[cheeks], HAIR_SKIN_SPREAD) > BEARD_DISTANCE
    return bool(strong.sum() >= BEARD_FULL[0] * region.sum() and hair_coloured.mean() >= BEARD_FULL[1])


def beard_greyed(lab, amount, where, skin, white, sigma):
    """uint8 Lab beard pixels (float; `where` the beard) greyed as the hair is (greyed towards `white`), each as much
    as it is darker than the skin's lightness `skin` (fully BEARD_DARKER under it) and of the beard's colour, coarser
    than `sigma` pixels: the hairs grey, not the skin between and around them nor a wall behind the jaw (a grey halo
    on the cheeks, a white rim on a blue wall)."""
    coarse = cv2.GaussianBlur(lab, (0, 0), sigma)
    like = (2 - colour_distance(coarse, lab[where], HAIR_SPREAD) / BEARD_DISTANCE).clip(0, 1)
    share = (((skin - coarse[..., 0]) / BEARD_DARKER).clip(0, 1) * like)[..., None]
    return (lab + share * (greyed(lab, amount, lab[..., 0][where], white) - lab)).clip(0, 255).astype(np.uint8)


def shaven(beard, points, grow=1.0):
    """float32: where a child's skin replaces the `beard` (beard_mask of the padded face) and BEARD_GROW face pixels
    around its core in the lower face (landmarks `points`; G's child kept the beard's edge: dark patches on cheeks),
    times `grow` (a map)."""
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * BEARD_GROW + 1,) * 2)
    core = cv2.dilate((beard > 0.5).astype(np.uint8), disc).astype(np.float32)
    core *= lower_face_region(points, PAD, len(beard), jaw=BEARD_JAW)
    return np.maximum(beard, grow * cv2.GaussianBlur(core, (0, 0), BEARD_GROW / 2))


def faces_camera(points):
    """Whether a face (dlib's landmarks `points`) is turned at most JAW_TURN: a full beard's jaw line is fitted."""
    return landmark_turn(points) <= JAW_TURN


def jaw_under(points, position, gender):
    """The landmarks `points` with the jaw line of the prototype at `position` (age_shape.prototype) fitted to their
    brows, eyes and nose where it lies nearer the nose: on a full beard dlib's jaw line follows the beard's edge (a
    child as wide as the beard); where dlib's lies nearer, it found the jaw (a chin lower than it read older)."""
    shape, under = prototype(position, gender), points.copy()
    fitted = to_frame(shape[OUTLINE], fit_similarity(shape[JAW_FROM], points[JAW_FROM]))
    nearer = np.linalg.norm(fitted - points[30], axis=1) < np.linalg.norm(points[OUTLINE] - points[30], axis=1)
    under[OUTLINE] += (JAW_SHARE * nearer)[:, None] * (fitted - points[OUTLINE])
    return under


def neck(points, pad):
    """float32 (128 + 2 pad)^2: a child's neck under the jaw line (landmarks `points`): the old skin's
    (age_texture.outlines: NECK_WIDTH of the jaw's width NECK eye distances below the chin), fading out over the last
    NECK_FADE of it (its hard end was a cut)."""
    iod, pad_rows = eye_distance(points), np.arange(consts.IMAGE_LENGTH + 2 * pad, dtype=np.float32)[:, None] - pad
    outline, depth = outlines(points / iod)[2] * iod, points[8, 1] + NECK * iod
    mask = np.zeros((consts.IMAGE_LENGTH + 2 * pad,) * 2, np.float32)
    cv2.fillPoly(mask, [np.round((outline + pad) * 16).astype(np.int32)], 1, cv2.LINE_AA, 4)
    return mask * ((depth - pad_rows) / (NECK_FADE * iod)).clip(0, 1)


def beyond_jaw(face, skin, beard, points, pad):
    """(skin, beyond): the float `skin` a shaved beard leaves on a padded `face` (float, landmarks `points`), but
    where the `beard` lay beyond the jaw line and a child's neck (`beyond`, float32), what is around it there
    (inpainted: the clothes, the wall; the cheeks' colour there was a bib of skin, a child as wide as the beard)."""
    if not beard.any():
        return skin, np.zeros(beard.shape, np.float32)
    inside = cv2.GaussianBlur(np.maximum(np.float32(face_outline(points, pad)), neck(points, pad)), (0, 0), 1)
    hole = cv2.dilate(np.uint8(beard > 0.05), np.ones((9, 9), np.uint8))
    around = inpainted(face, np.maximum(hole, np.uint8(inside > 0.01)))  # not from the face: a pale rim of skin
    skin = skin + (1 - inside)[..., None] * (around - skin)  # beyond the hole the photo: no dark rim
    edge = cv2.GaussianBlur(np.float32(hole), (0, 0), 1)  # soft by a face pixel: a hard one stepped along a collar
    return skin, (1 - inside) * edge  # not the beard's softer edge: it left the beard's ghost


def inpainted(face, hole):
    """The float `face` with `hole` (uint8) filled from what is around it (cv2's Telea, HANGING_FILL face pixels) at
    half its resolution: a smooth fill (a wall, clothes) in 14 ms, not 190."""
    half = lambda image, how: cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=how)
    small = cv2.dilate(half(hole, cv2.INTER_NEAREST), np.ones((3, 3), np.uint8))  # all the hole's pixels' too
    fill = cv2.inpaint(half(face.clip(0, 255).astype(np.uint8), cv2.INTER_AREA), small, HANGING_FILL / 2,
                       cv2.INPAINT_TELEA)
    fill = cv2.resize(fill, face.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    return np.where(hole[..., None] > 0, np.float32(fill), face)
