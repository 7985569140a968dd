"""The photo itself aged, at its own size: the photo plus the age change the generator draws, split by frequency.

The generator draws 128-px faces; pasting such a face back into a 1000-2000 px photo gives a soft patch (the
variance of the Laplacian in the face box was 0.5 of the photo's). Here the photo stays and only what the age label
changes is added to it, in the face mask (align.paste_mask), band by band, at the photo's own scale:

- coarse shape and light: G(z, target) - G(z, own age), warped onto the photo (the inverse of the alignment) and
  sharpened once there (Composition.sharpen), so a wrinkle drawn at 128 px is not a 5-px smear;
- colour: only the change's coarse colour (finer than chroma_sigma face pixels is dropped, the rest scaled by
  chroma_gain): skin tone and grey hair come through, the generator's blue eyes and colour blotches do not;
- strength: the change grows to old_gain (young_gain) three groups or more away from the photo's age, since an
  age estimator read the plain change as too little (71+ at 22-41 years on the astronaut);
- the photo itself towards childhood: what the photo has beyond G's drawing of it at its own age (the photo minus
  G(z, own age), but for its fine detail, finer than FINE_SIGMA face pixels: pores, lashes, grain) fades in renders
  younger than the photo and than 21 (consts.ADULT_GROUP), 1 / games.DETAIL_FADE_GROUPS per group, so a child is
  G's child with the photo's grain, not a child's change drawn over an adult's features (an estimator read such
  0-5 photos as 29 years, then 12), while an adult photo made younger stays the photo. The photo's own eyes stay
  (eye_mask): G's eyes for 0-10 were dark holes at the photo's size; with the person's eyes the estimator reads
  those faces older (0-5: 20 years), a trade measured in MODEL.md. Towards old age most of G's change to the eyes
  is left out too (OLD_EYES): it turned children's dark irises grey-blue.

Pixels outside the mask keep their exact values. METHODS names this and the two candidates it is measured against
(MODEL.md):
`python main.py --mode eval --input photos --estimators trained_models/age_estimators`.
"""
import functools
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

import align
import consts
import games
from images import model_tensor_to_uint8, pil_to_model_tensor_transform

FINE_SIGMA = 0.7  # face pixels: the photo's detail finer than this stays at every age
GAIN_GROUPS = 3  # the change's gain reaches its full value this many groups from the photo's age
EYE_RADII = (8.0, 5.0)  # face pixels: the eye mask's Gaussian, wider than tall
OLD_EYES = 0.8  # in renders two groups or more older, this much of G's change to the eyes is left out
PERSONALISE_STEPS = 20  # a photo keeps its own person here, so G is tuned half as long as for a chip (personalise.STEPS)


@dataclass(frozen=True)
class Composition:
    """How the age change is added to the photo (the module's docstring); METHODS names the ones measured."""
    sharpen: float = 1.0  # the warped change plus this times its detail finer than one face pixel
    chroma_sigma: float = 12.0  # face pixels: the change's colour is blurred this much (0: kept as drawn)
    chroma_gain: float = 0.7
    old_gain: float = 1.4  # the change is scaled up to this three or more groups older than the photo
    young_gain: float = 1.3  # ... and to this three or more groups younger
    fade_detail: bool = True  # the photo (but its fine detail) fades towards G's child at younger ages
    keep_eyes: bool = True  # the photo's own eyes stay where it fades, and mostly where it grows old (eye_mask)


METHODS = {
    'compose': Composition(),  # the default: this module's composition
    'change': Composition(sharpen=0, chroma_sigma=0, chroma_gain=1, old_gain=1, young_gain=1, fade_detail=False,
                          keep_eyes=False),
    'paste': None,  # the 128-px render pasted back (align.paste_back, colours matched): the page's old paste-back
}

@dataclass
class FramedPhoto:
    """A photo at its own size, the 128-px face cut from it, the face box and the crop square's four corners."""
    photo: Image.Image
    crop: Image.Image
    box: tuple
    crop_box: tuple


def frame_photo(image, face_index=0):
    """A FramedPhoto of a PIL photo: its face number `face_index` (largest first) framed like a UTKFace chip."""
    crop, box, crop_box = align.align_face(image, face_index)
    return FramedPhoto(image.convert('RGB'), crop, box, crop_box)


@functools.lru_cache(maxsize=1)
def eye_mask(size=consts.IMAGE_LENGTH):
    """float32 size x size: 1 on the two eyes of an aligned face (where align frames them), falling smoothly to 0."""
    v, u = np.mgrid[0:size, 0:size] + 0.5
    left = align.FACE_CENTER[0] - align.FACE_FRACTION / 2  # the face box in the aligned face, as align measured it
    top = align.FACE_CENTER[1] - align.FACE_FRACTION / 2
    mask = np.zeros((size, size))
    for x, y in align.EYE_POSITIONS:
        cx, cy = (left + x * align.FACE_FRACTION) * size, (top + y * align.FACE_FRACTION) * size
        mask += np.exp(-((u - cx) / EYE_RADII[0]) ** 2 / 2 - ((v - cy) / EYE_RADII[1]) ** 2 / 2)
    return np.clip(1.3 * mask, 0, 1).astype(np.float32)


def change_gain(younger_by, how):
    """How much the age change is strengthened for a render `younger_by` groups younger (negative: older)."""
    ramp = min(abs(float(younger_by)) / GAIN_GROUPS, 1.0)
    return 1 + ((how.young_gain if younger_by > 0 else how.old_gain) - 1) * ramp


def coarse_colour(change, how):
    """The change (128 x 128 x 3 float) with its colour (what differs from the channels' mean) kept only coarse."""
    if not how.chroma_sigma:
        return change
    grey = change.mean(2, keepdims=True)
    return grey + how.chroma_gain * cv2.GaussianBlur(change - grey, (0, 0), how.chroma_sigma)


class PhotoAger:
    """One photo ready to be aged: the face region's bands and mask are computed once; each age is then one warp
    of the 128-px change and a sum (tens of milliseconds for a face of 500 px)."""

    def __init__(self, photo, crop_box, photo_age, how=METHODS['compose']):
        self.how, self.own_position = how, games.group_position(photo_age)
        self.photo = np.array(photo.convert('RGB'))
        corners = np.array(crop_box)
        x0, y0 = np.floor(corners.min(0)).astype(int).clip(0, None)
        x1 = min(int(np.ceil(corners[:, 0].max())) + 1, self.photo.shape[1])
        y1 = min(int(np.ceil(corners[:, 1].max())) + 1, self.photo.shape[0])
        self.region = (x0, y0, max(x1, x0), max(y1, y0))
        self.matrix = align.face_to_image_matrix(crop_box)
        self.matrix[:, 2] -= (x0, y0)
        self.scale = float(np.hypot(*self.matrix[:, 0]))  # photo pixels per face pixel
        size = (self.region[2] - x0, self.region[3] - y0)
        self.empty = min(size) <= 0
        if self.empty:
            return
        self.alpha = cv2.warpAffine(align.paste_mask(), self.matrix, size, flags=cv2.INTER_LINEAR, borderValue=0)
        self.alpha = self.alpha[..., None]
        roi = self.photo[y0:self.region[3], x0:self.region[2]].astype(np.float32)
        self.roi, self.coarse = roi, cv2.GaussianBlur(roi, (0, 0), self.scale * FINE_SIGMA)

    def aged(self, render, own_render, years):
        """The photo with the change from `own_render` (the photo's age) to `render` (`years` old; uint8 128x128x3
        faces) added: a PIL image at the photo's size."""
        if self.empty:
            return Image.fromarray(self.photo)
        how, position = self.how, games.group_position(years)
        change = coarse_colour(render.astype(np.float32) - own_render.astype(np.float32), how)
        change *= change_gain(self.own_position - position, how)
        younger = min(self.own_position - position, consts.ADULT_GROUP - position)
        fade = min(max(younger / games.DETAIL_FADE_GROUPS, 0.0), 1.0) if how.fade_detail else 0.0
        older = min(max((position - self.own_position) / 2, 0.0), 1.0)
        eyes = max(fade, OLD_EYES * older) if how.keep_eyes else 0.0
        keep = 1 - eyes * eye_mask()  # the photo's own eyes, where it fades or grows old
        warped = self.warp(change * keep[..., None])
        if how.sharpen:
            warped += how.sharpen * (warped - cv2.GaussianBlur(warped, (0, 0), self.scale))
        if fade:
            warped -= fade * self.warp(keep)[..., None] * (self.coarse - self.warp(own_render.astype(np.float32)))
        roi = self.roi + self.alpha * warped
        x0, y0, x1, y1 = self.region
        photo = self.photo.copy()
        photo[y0:y1, x0:x1] = roi.clip(0, 255).round().astype(np.uint8)
        return Image.fromarray(photo)

    def warp(self, face):
        """A float 128 x 128 x 3 face (or change) warped onto the face region of the photo."""
        x0, y0, x1, y1 = self.region
        return cv2.warpAffine(face, self.matrix, (x1 - x0, y1 - y0), flags=cv2.INTER_CUBIC,
                              borderMode=cv2.BORDER_REPLICATE)


def renders_at(net, z, ages, photo_age, gender):
    """uint8 renders of z at each age in years and at the photo's own age: (N x 128 x 128 x 3, 128 x 128 x 3)."""
    faces = model_tensor_to_uint8(games.render_ages(net, z, list(ages) + [photo_age], gender))
    return faces[:-1], faces[-1]


def aged_photos(net, framed, z, photo_age, gender, ages=consts.AGE_GROUP_CENTRES, method='compose'):
    """The whole photo at each age in years (default: every group's centre): PIL images at the photo's size.
    `method`: a name in METHODS."""
    renders, own = renders_at(net, z, ages, photo_age, gender)
    if METHODS[method] is None:
        return [align.paste_back(framed.photo, render, framed.crop_box, reference=framed.crop) for render in renders]
    ager = PhotoAger(framed.photo, framed.crop_box, photo_age, METHODS[method])
    return [ager.aged(render, own, years) for render, years in zip(renders, ages)]


def face_chip(framed, photo):
    """The 128-px face of an aged `photo` (PIL), cut exactly where the framed photo's face was cut."""
    chip_corners = np.float32([(0, 0), (align.CHIP_SIZE, 0), (align.CHIP_SIZE, align.CHIP_SIZE)])
    matrix = cv2.getAffineTransform(np.float32(framed.crop_box[:3]), chip_corners).astype(np.float64)
    return align.cut_chip(photo, matrix)


def face_region(crop_box, size, margin=0.15):
    """The box (left, top, right, bottom) around the crop square (its corners), `margin` of its side wider, inside a
    photo of `size` (w, h)."""
    corners = np.array(crop_box)
    side = float(np.hypot(*(corners[1] - corners[0])))
    (x0, y0), (x1, y1) = corners.min(0) - margin * side, corners.max(0) + margin * side
    w, h = size
    return (max(0, int(x0)), max(0, int(y0)), min(w, int(np.ceil(x1))), min(h, int(np.ceil(y1))))


def z_of(net, framed):
    """z of a framed photo's face."""
    return games.encode_face(net, pil_to_model_tensor_transform(framed.crop))

