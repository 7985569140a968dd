"""The shape of age: where a face's 68 landmarks move from one age group to another, the warp that moves them, and
real faces' mean face per age.

Real children's faces differ from adults' mostly in shape (a lower face about 15% shorter against the distance
between the eyes, a short nose, larger eyes); the generator's renders move that way but about half as far, and
towards old age the wrong way (../shared/README.md). So the shape comes from real faces, as in classic age
progression (Kemelmacher-Shlizerman et al. 2014, the flow between age prototypes): PROTOTYPES holds the mean
landmarks of UTKFace faces per age group and gender, each face first moved so that its eye centres sit at
EYE_CENTRES (rebuilt by `python age_shape.py ../shared/UTKFace`). A face of one age gets the target age's shape
by adding the prototypes' difference to its own landmarks (scaled to its own eyes), and an image is moved there by
a thin-plate spline, its displacement faded to zero outside the warp's ellipse (warp_window), so nothing outside
it moves and no seam shows. The same file holds each group's and gender's mean face, every face first moved onto
its cell's shape, so the mean is sharp (prototype_face): real faces' change of light and shade between two ages,
without the generator's strokes and blotches; each race weighs alike in it (RACES), so that it compares ages, not
UTKFace's mix of people at each age.

Landmarks are dlib's 68-point predictor (face-recognition-models; the model is licensed for non-commercial use),
run on the 128-px aligned face in the fixed box FACE_BOX, where dlib's own detector puts UTKFace faces, so chips,
aligned photos and the generator's renders are read alike and without a detector.
"""
import argparse
import functools
import importlib.util
import os

import cv2
import numpy as np
from PIL import Image

import consts
from data import age_to_group

FACE_BOX = (8, 8, 115, 116)  # measured: dlib's frontal detector's median box on 388 UTKFace chips at 128 px
EYE_CENTRES = ((38.0, 38.0), (88.0, 38.0))  # about where UTKFace chips (128 px) have them
OUTLINE = slice(0, 17)  # the jaw line's landmarks
RACES = ('0', '1', '2', '3')  # UTKFace's White, Black, Asian, Indian (not 'Others'): equal in the mean faces
PROTOTYPES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'age_shapes.npz')
WARP_CENTRE = (0.49, 0.52)  # the warp's ellipse, relative to the aligned face's side: wider than the face, as UTKFace
WARP_RADII = (0.62, 0.66)  # framing puts the jaw at the face's sides and the chin at its bottom edge
WARP_FEATHER = 0.3  # the outer part of the ellipse (a fraction of its radius) where the displacement fades to 0
ANCHORS = 24  # points on the ellipse that the spline keeps still
SPLINE_STEP = 4  # face pixels between the points where the spline is evaluated
BEARD_JAW = slice(1, 16)  # a beard is looked for up to the jaw line's landmarks at the nose's height (on the cheeks)
BEARD_BEYOND = 0.2  # a beard's own colour is looked for this many eye distances beyond the jaw line
BEARD_DISTANCE = 3.0  # hair is this many of the cheeks' spreads from their colour (in Lab), fully at twice that
BEARD_AREA = 0.3  # a beard is looked for beyond the jaw line when this share of the lower face is hair
BEARD_FULL = (0.5, 0.6)  # a beard covers this share of the lower face, this share of it hair-coloured (full_beard)
BEARD_SPREAD = (3.0, 1.5, 1.5)  # the least spread of the cheeks' L, a, b (uniformly lit skin)
CHIN_SHADE, NECK_SHADE = 0.92, 0.68  # the neck's: FairFace's 16 frontal children, 0.15-0.4 IODs under the chin
HEAD_RADII = (1.8, 2.0)  # eye distances: the head's ellipse around the eyes' midpoint, where hair is ...
HEAD_FADE = 0.25  # ... its edge fading out from 1 - this to 1 + this of it (big hair beyond it greyed in a rim)
HAIR_SKIN_SPREAD = (20.0, 4.0, 4.0)  # Lab: hair is this far from the cheeks' colour (a bald head's shine is skin)
HAIR_SPREAD = (6.0, 3.0, 3.0)  # the least spread of the background's L, a, b
BACKGROUND_PLAIN = (12.0, 6.0, 6.0)  # a corner spread more than this in L, a or b is not a plain background
HAIR_GREY = 20.0  # Lab chroma under which hair counts as grey (OpenCV's scale: 128 is colourless) ...
HAIR_GREY_FROM = 60.0  # ... and lightness over which (fully at twice this): black hair is not grey
HAIR_ABOVE_EYES = 0.3  # eye distances: hair is looked for this far above the eyes and higher (not ears, irises) ...
HAIR_OFF_FACE, HAIR_BELOW_CHIN = 0.15, 0.6  # ... and lower only this far off the face and down to this below the chin
HAIR_FADE = 0.4  # eye distances over which the mask fades out above that (long hair ends in no line)
HAIR_CROWN = (0.8, 1.3, 0.7)  # eye distances: this far above the brows (from, to) and within the last of the middle,
HAIR_LEAST = 0.4  # a head's hair shows over this share of that patch, or the head has none
HAIR_BLUR = 2.5  # face pixels: the hair mask's edge is this soft (greying does not end in a line)
HAIR_EDGE = 12  # face pixels: the hair mask fades out this close to the padded face's edge (no seam where it ends)
HAIR_SMOOTH = 3.0  # photo pixels: the hair's lightness coarser than this is what greys or darkens
HAIR_LIGHTEN = 0.55  # fully greyed hair is this far from its own lightness to white
HAIR_DARK = (0.35, 136.0, 140.0)  # the share of its lightness and the colour (Lab) a child's formerly grey hair takes
FOREHEAD = 0.6  # the skin mask reaches this many eye distances above the brows
TURNED_MARGIN = 0.2  # eye distances: on a turned face the changes keep this close to the face's outline
PAD = 40  # face pixels: the padded face reaches this far beyond the 128-px face (the warp's ellipse, the hair)


@functools.lru_cache(maxsize=1)
def predictor():
    """dlib's 68-point shape predictor (from face-recognition-models, found without importing it)."""
    import dlib
    folder = os.path.dirname(importlib.util.find_spec('face_recognition_models').origin)
    return dlib.shape_predictor(os.path.join(folder, 'models', 'shape_predictor_68_face_landmarks.dat'))


def landmarks(face):
    """The 68 landmarks (x, y) of a uint8 128 x 128 x 3 aligned face: float32 68 x 2, in its pixels."""
    import dlib
    shape = predictor()(np.ascontiguousarray(face, np.uint8), dlib.rectangle(*FACE_BOX))
    return np.array([(p.x, p.y) for p in shape.parts()], np.float32)


def eye_centres(points):
    """The centres of the image-left and image-right eyes of 68 landmarks."""
    return points[36:42].mean(0), points[42:48].mean(0)


def lower_face(points):
    """The distance from the eyes' midpoint to the chin over the distance between the eyes: short in children."""
    left, right = eye_centres(points)
    return float(np.hypot(*(points[8] - (left + right) / 2)) / np.hypot(*(right - left)))


def fit_similarity(source, target):
    """2 x 3 matrix of the similarity (rotation, scale, shift) closest to moving the points `source` onto `target`."""
    (a, b), (c, d) = source.mean(0), target.mean(0)
    z, w = (source - (a, b)) @ (1, 1j), (target - (c, d)) @ (1, 1j)
    k = (np.conj(z) @ w) / (np.conj(z) @ z).real
    linear = np.array([[k.real, -k.imag], [k.imag, k.real]])
    return np.hstack([linear, ((c, d) - linear @ (a, b))[:, None]])


def similarity(points):
    """2 x 3 matrix taking a face's landmarks to the prototypes' frame: its jaw line fitted onto theirs (OUTLINE),
    so that the face's outline stays where it is and the age moves what lies inside it."""
    return fit_similarity(points[OUTLINE], prototypes_file()['outline'])


def to_frame(points, matrix):
    return points @ matrix[:, :2].T + matrix[:, 2]


@functools.lru_cache(maxsize=1)
def prototypes_file():
    return dict(np.load(PROTOTYPES))


def prototypes():
    """float32 NUM_AGES x NUM_GENDERS x 68 x 2: the median landmarks per group and gender, in their frame."""
    return prototypes_file()['shapes']


def prototype(position, gender):
    """The prototype landmarks at a position on the group scale (games.group_position), between group centres;
    gender None: both genders' mean."""
    shapes = prototypes().mean(1) if gender is None else prototypes()[:, int(gender)]
    low = int(np.clip(np.floor(position), 0, consts.NUM_AGES - 1))
    high, t = min(low + 1, consts.NUM_AGES - 1), float(np.clip(position - low, 0, 1))
    return (1 - t) * shapes[low] + t * shapes[high]


def prototype_face(position, gender, points, pad=0):
    """float32 (128 + 2 pad)^2 x 3 (face_grid's pixels): the mean UTKFace face at a position on the group scale (of
    `gender`; None: both genders' mean), moved onto the landmarks `points` (the two nearest groups' faces each from
    its own shape, then blended)."""
    faces, shapes = prototypes_file()['faces'].astype(np.float32), prototypes()
    if gender is None:
        faces, shapes = faces.mean(1), shapes.mean(1)
    else:
        faces, shapes = faces[:, int(gender)], shapes[:, int(gender)]
    low = int(np.clip(np.floor(position), 0, consts.NUM_AGES - 1))
    high, t = min(low + 1, consts.NUM_AGES - 1), float(np.clip(position - low, 0, 1))
    moved = [warp_face(cv2.copyMakeBorder(faces[g], pad, pad, pad, pad, cv2.BORDER_REPLICATE),
                       displacement(shapes[g], points, pad), pad) for g in sorted({low, high})]
    return moved[0] if len(moved) == 1 else (1 - t) * moved[0] + t * moved[1]


def aged_landmarks(points, own_position, position, gender, strength=1.0):
    """A face's landmarks moved from its own age to `position` by the prototypes' difference, scaled to its eyes."""
    move = prototype(position, gender) - prototype(own_position, gender)
    back = cv2.invertAffineTransform(similarity(points))
    return points + strength * move @ back[:, :2].T


def ellipse_points(n=ANCHORS):
    """n points on the warp's ellipse, in face pixels."""
    angles = np.linspace(0, 2 * np.pi, n, endpoint=False)
    centre, radii = np.array(WARP_CENTRE) * consts.IMAGE_LENGTH - 0.5, np.array(WARP_RADII) * consts.IMAGE_LENGTH
    return centre + radii * np.stack([np.cos(angles), np.sin(angles)], 1)


def face_grid(pad=0):
    """float64 (128 + 2 pad)^2 x 2: the (x, y) of each pixel of the 128-px face, `pad` pixels beyond it each side."""
    axis = np.arange(-pad, consts.IMAGE_LENGTH + pad, dtype=np.float64)
    return np.stack(np.meshgrid(axis, axis), -1).reshape(-1, 2)


def warp_window(points):
    """1 inside the warp's ellipse, falling smoothly to exactly 0 at its edge, at `points` (N x 2, face pixels)."""
    u, v = (points.T + 0.5) / consts.IMAGE_LENGTH
    r = np.hypot((u - WARP_CENTRE[0]) / WARP_RADII[0], (v - WARP_CENTRE[1]) / WARP_RADII[1])
    t = ((1 - r) / WARP_FEATHER).clip(0, 1)
    return t * t * (3 - 2 * t)


def thin_plate(source, target, points):
    """The thin-plate spline f with f(target_i) = source_i, evaluated at `points` (N x 2)."""
    def kernel(a, b):
        r2 = np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None] - 2 * a @ b.T, 0)
        return np.where(r2 > 0, 0.5 * r2 * np.log(np.maximum(r2, 1e-12)), 0.0)
    n = len(target)
    affine = np.hstack([np.ones((n, 1)), target])
    system = np.zeros((n + 3, n + 3))
    system[:n, :n], system[:n, n:], system[n:, :n] = kernel(target, target) + 1e-3 * np.eye(n), affine, affine.T
    weights = np.linalg.solve(system, np.vstack([source, np.zeros((3, 2))]))
    return kernel(points, target) @ weights[:n] + np.hstack([np.ones((len(points), 1)), points]) @ weights[n:]


def displacement(source, target, pad=0):
    """float32 (128 + 2 pad)^2 x 2 (face_grid's pixels): for each pixel of the moved face, where to read the face
    minus where it is, so that landmarks at `source` move to `target` (face pixels); 0 outside the warp's ellipse.
    The spline is evaluated every SPLINE_STEP pixels and interpolated between (it is smooth; 16 times faster)."""
    side = consts.IMAGE_LENGTH + 2 * pad
    axis = np.arange(-pad, side - pad + SPLINE_STEP, SPLINE_STEP, dtype=np.float64)
    coarse = np.stack(np.meshgrid(axis, axis), -1).reshape(-1, 2)
    still = ellipse_points()
    read = thin_plate(np.vstack([source, still]), np.vstack([target, still]), coarse) - coarse
    index = (np.arange(side) / SPLINE_STEP).astype(np.float32)
    flow = cv2.remap(read.reshape(len(axis), len(axis), 2).astype(np.float32), *np.meshgrid(index, index),
                     cv2.INTER_LINEAR)
    grid = face_grid(pad)
    return flow * warp_window(grid).reshape(side, side, 1).astype(np.float32)


def warp_face(face, flow, pad=0):
    """A float face (face_grid's pixels, 128 + 2 pad a side) moved by a displacement of the same layout."""
    read = face_grid(pad).reshape(flow.shape).astype(np.float32) + flow + pad
    return cv2.remap(face, read[..., 0], read[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def forehead_outline(points):
    """The forehead's top edge: the brows' landmarks (right to left) moved FOREHEAD eye distances up the face."""
    left, right = eye_centres(points)
    up = np.array([right[1] - left[1], left[0] - right[0]]) * FOREHEAD  # perpendicular to the eyes, upwards
    return points[26:16:-1] + up


def face_outline(points, pad=0):
    """uint8 (128 + 2 pad)^2 (face_grid's pixels): 1 inside the jaw line and a forehead FOREHEAD eye distances above
    the brows."""
    side = consts.IMAGE_LENGTH + 2 * pad
    mask = np.zeros((side, side), np.uint8)
    polygon = np.round((np.vstack([points[OUTLINE], forehead_outline(points)]) + pad) * 16).astype(np.int32)
    cv2.fillPoly(mask, [polygon], 1, cv2.LINE_AA, 4)  # cv2's fixed point: 4 fraction bits
    return mask


def turned_face(points, share, pad=0):
    """float32 (128 + 2 pad)^2 (face_grid's pixels): where the changes may reach on a face turned to one side (`share`:
    1 facing the camera, 0 in profile): all facing the camera; turned, the hull of its landmarks and forehead
    (TURNED_MARGIN wider, soft) and less of the rest (set for a frontal face they reached the background: a ghost)."""
    side = consts.IMAGE_LENGTH + 2 * pad
    if share >= 1:
        return np.ones((side, side), np.float32)
    outline = np.zeros((side, side), np.float32)
    hull = cv2.convexHull(np.vstack([forehead_outline(points), points]).astype(np.float32))
    cv2.fillConvexPoly(outline, np.round((hull + pad) * 16).astype(np.int32), 1.0, cv2.LINE_AA, 4)
    margin = TURNED_MARGIN * np.linalg.norm(np.subtract(*eye_centres(points)))
    outline = cv2.GaussianBlur(cv2.dilate(outline, np.ones((3, 3), np.uint8), iterations=round(margin / 2)),
                               (0, 0), margin / 2)
    return 1 - (1 - share) * (1 - outline)


def skin_mask(points, pad=0):
    """float32 (128 + 2 pad)^2 (face_grid's pixels): 1 on the face's skin (inside the jaw line and a forehead above
    the brows, less the eyes, brows and lips), its edges soft; where a child has no beard, stubble or lines."""
    fixed = lambda part: np.round((part + pad) * 16).astype(np.int32)  # cv2's fixed point: 4 fraction bits
    mask = face_outline(points, pad)
    for part in (points[36:42], points[42:48], points[48:60]):
        cv2.fillPoly(mask, [fixed(part)], 0, cv2.LINE_AA, 4)
        cv2.polylines(mask, [fixed(part)], True, 0, 6, cv2.LINE_AA, 4)
    for brow in (points[17:22], points[22:27]):
        cv2.polylines(mask, [fixed(brow)], False, 0, 6, cv2.LINE_AA, 4)
    return cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 2)


def cheek_mask(points, pad=0):
    """bool (128 + 2 pad)^2: the skin of the upper cheeks and nose (between the eyes and the nostrils): the skin's
    colour, where a beard does not grow."""
    left, right = eye_centres(points)
    rows = np.arange(consts.IMAGE_LENGTH + 2 * pad)[:, None] - pad
    below_eyes = (left[1] + right[1]) / 2 + 0.25 * float(np.hypot(*(right - left)))
    return (skin_mask(points, pad) > 0.9) & (rows > below_eyes) & (rows < points[33, 1])


def lower_face_region(points, pad, side, beyond=0.0, jaw=slice(3, 14)):
    """float32 side x side (the 128-px face's pixels + pad): the face below the nostrils and the jaw line's `jaw`
    landmarks (by default from the mouth's height down), inside that jaw line pushed out by `beyond` eye distances,
    less the lips."""
    left, right = eye_centres(points)
    centre, iod = points[OUTLINE].mean(0), float(np.hypot(*(right - left)))
    out = (points[jaw] - centre) / np.hypot(*(points[jaw] - centre).T)[:, None]
    inside = np.zeros((side, side), np.float32)
    fixed = lambda part: np.round((part + pad) * 16).astype(np.int32)
    cv2.fillPoly(inside, [fixed(np.vstack([points[jaw] + beyond * iod * out, points[35:30:-1]]))], 1, cv2.LINE_AA, 4)
    cv2.fillPoly(inside, [fixed(points[48:60])], 0, cv2.LINE_AA, 4)
    return inside


def shading(points, pad=0):
    """float32 (128 + 2 pad)^2: how much darker than the cheeks a child's skin is lit there: 1 down to the nostrils,
    CHIN_SHADE at the chin, NECK_SHADE outside the jaw line, softly (what a shaved beard's skin takes)."""
    rows = np.arange(consts.IMAGE_LENGTH + 2 * pad, dtype=np.float32)[:, None] - pad
    down = ((rows - points[33, 1]) / max(points[8, 1] - points[33, 1], 1)).clip(0, 1)
    face = cv2.GaussianBlur(face_outline(points, pad).astype(np.float32), (0, 0), 1.5).clip(0, 1)
    return face * (1 - (1 - CHIN_SHADE) * down) + (1 - face) * NECK_SHADE


def beard_mask(face, points, pad=0):
    """float32 (128 + 2 pad)^2: where a uint8 face (face_grid's pixels, landmarks in the 128-px face's) has facial hair:
    the lower face (below the nostrils, inside the jaw line and a little beyond it, less the lips) where its colour is
    far from its upper cheeks' and nose's and from the background's (background_free: a jaw's soft edge was skin)."""
    lab = cv2.cvtColor(cv2.GaussianBlur(face, (0, 0), 1), cv2.COLOR_RGB2LAB).astype(np.float32)
    cheeks = cheek_mask(points, pad)
    if cheeks.sum() < 20:
        return np.zeros(face.shape[:2], np.float32)
    reference = np.median(lab[cheeks], 0)
    spread = np.maximum(1.48 * np.median(np.abs(lab[cheeks] - reference), 0), BEARD_SPREAD)
    distance = np.sqrt((((lab - reference) / spread) ** 2).sum(-1))
    region = functools.partial(lower_face_region, points, pad, len(face), jaw=BEARD_JAW)
    hair = ((distance - BEARD_DISTANCE) / BEARD_DISTANCE).clip(0, 1) * region(0)
    if (hair > 0.5).sum() > BEARD_AREA * region(0).sum():  # a beard goes on beyond the jaw line in its colour
        colour = np.median(lab[hair > 0.5], 0)
        spread = np.maximum(1.48 * np.median(np.abs(lab[hair > 0.5] - colour), 0), BEARD_SPREAD)
        like = (BEARD_DISTANCE - np.sqrt((((lab - colour) / spread) ** 2).sum(-1)) / BEARD_DISTANCE).clip(0, 1)
        hair = np.maximum(hair, like * (distance > BEARD_DISTANCE) * region(BEARD_BEYOND))
    hair = cv2.GaussianBlur(cv2.dilate(hair, np.ones((3, 3), np.uint8)), (0, 0), 2.5)
    return hair * background_free(lab, pad)


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


def unlike_background(lab, pad):
    """bool: the Lab pixels of a padded face far in colour from each of its plain top corners (behind the head). A
    corner of many colours (BACKGROUND_PLAIN) is a crowd, hair or a hat: it took a moustache and grey hair for one."""
    corner = max(4, pad // 2)
    unlike = np.ones(lab.shape[:2], bool)
    for background in (lab[:corner, :corner].reshape(-1, 3), lab[:corner, -corner:].reshape(-1, 3)):
        if np.any(1.48 * np.median(np.abs(background - np.median(background, 0)), 0) > BACKGROUND_PLAIN):
            continue
        unlike &= colour_distance(lab, background, HAIR_SPREAD) > BEARD_DISTANCE
    return unlike


def background_free(lab, pad):
    """float32: unlike_background of Lab pixels (of a face blurred 1 px), as soft (the masks end in no halo)."""
    return cv2.GaussianBlur(unlike_background(lab, pad).astype(np.float32), (0, 0), 1)


def hair_mask(face, points, pad=0):
    """float32 (128 + 2 pad)^2: the hair of a uint8 face (face_grid's pixels, landmarks in the 128-px face's). A head
    with hair shows it over its forehead (HAIR_CROWN): where less than HAIR_LEAST of that patch is far from the
    cheeks' and the background's colour (unlike_background) there is none (a bald head, a baby's). Else the hair's
    colour is that patch's median, and the mask is what is of that colour, far from the cheeks' and the background's
    and joined to the patch, in the head's ellipse above the eyes or beside the face down to below the chin (long
    hair greyed only on top was a grey cap): not a hand, a blanket, an ear or an iris."""
    lab = cv2.cvtColor(cv2.GaussianBlur(face, (0, 0), 1), cv2.COLOR_RGB2LAB).astype(np.float32)
    cheeks = cheek_mask(points, pad)
    empty = np.zeros(face.shape[:2], np.float32)
    if cheeks.sum() < 20:
        return empty
    left, right = eye_centres(points)
    iod = float(np.hypot(*(right - left)))
    centre = (left + right) / 2 + pad
    rows, columns = np.mgrid[:face.shape[0], :face.shape[1]]
    above_brows = points[17:27, 1].min() + pad - rows
    crown = ((above_brows > HAIR_CROWN[0] * iod) & (above_brows < HAIR_CROWN[1] * iod)
             & (np.abs(columns - centre[0]) < HAIR_CROWN[2] * iod))
    far = colour_distance(lab, lab[cheeks], HAIR_SKIN_SPREAD) > BEARD_DISTANCE
    far &= unlike_background(lab, pad)
    if (far & crown).sum() < HAIR_LEAST * max(crown.sum(), 1):
        return empty
    like = (2 - colour_distance(lab, lab[far & crown], HAIR_SPREAD) / BEARD_DISTANCE).clip(0, 1)  # 1 up to D, 0 from 2D
    hair = far & (like > 0)
    head = np.hypot((columns - centre[0]) / HEAD_RADII[0], (rows - centre[1]) / HEAD_RADII[1]) / iod  # 1 on its edge
    reach = max(3, int(HAIR_OFF_FACE * iod)) | 1
    beside = cv2.dilate(face_outline(points, pad), np.ones((reach, reach), np.uint8)) == 0
    eye_line = centre[1] - HAIR_ABOVE_EYES * iod
    bottom = points[8, 1] + pad + HAIR_BELOW_CHIN * iod
    zone = (head < 1 + HEAD_FADE) & ((rows < eye_line) | beside & (rows < bottom))
    count, parts = cv2.connectedComponents((hair & (zone | crown)).astype(np.uint8))
    hair &= zone & np.isin(parts, np.unique(parts[hair & crown]))
    edge = np.minimum.outer(*[np.minimum(np.arange(n), np.arange(n)[::-1]) for n in face.shape[:2]])
    ends = ((bottom - rows) / (HAIR_FADE * iod)).clip(0, 1) * (edge / HAIR_EDGE).clip(0, 1)  # no line where it ends
    ends *= ((1 + HEAD_FADE - head) / (2 * HEAD_FADE)).clip(0, 1)
    hair = cv2.GaussianBlur((hair * like).astype(np.float32), (0, 0), HAIR_BLUR) * ends
    return hair * background_free(lab, pad)  # no grey halo


def colour_distance(lab, sample, least):
    """How many of the sample's spreads (at least `least` in L, a, b) each Lab pixel is from its median colour."""
    reference = np.median(sample, 0)
    spread = np.maximum(1.48 * np.median(np.abs(sample - reference), 0), least)
    return np.sqrt((((lab - reference) / spread) ** 2).sum(-1))


def hair_colour(lab, amount):
    """Lab hair (float, OpenCV's 0-255 scale) greyed by `amount` in [0, 1] (lighter, no colour), or, negative, its
    grey (light and colourless) darkened towards a dark brown (HAIR_DARK); only its coarse lightness moves, so the
    strands keep their contrast."""
    smooth = cv2.GaussianBlur(lab[..., 0], (0, 0), HAIR_SMOOTH)[..., None]
    if amount >= 0:
        grey = np.concatenate([smooth + HAIR_LIGHTEN * (255 - smooth), np.full_like(lab[..., 1:], 128)], -1)
        return lab + amount * (grey - np.concatenate([smooth, lab[..., 1:]], -1))
    coarse = cv2.GaussianBlur(lab, (0, 0), HAIR_SMOOTH)  # whether hair is grey is judged on its coarse colour
    chroma = np.hypot(coarse[..., 1] - 128, coarse[..., 2] - 128)
    grey = ((1 - chroma / HAIR_GREY).clip(0, 1) * ((coarse[..., 0] - HAIR_GREY_FROM) / HAIR_GREY_FROM).clip(0, 1))
    dark = np.concatenate([smooth * HAIR_DARK[0], np.broadcast_to(HAIR_DARK[1:], lab[..., 1:].shape)], -1)
    return lab - amount * grey[..., None] * (dark - np.concatenate([smooth, lab[..., 1:]], -1))


def measure(folder, per_cell=250, per_race=60, seed=0):
    """PROTOTYPES' tables from a folder of UTKFace chips, up to per_cell faces per group and gender: the median
    landmarks (shapes, in the frame of the median jaw line `outline`) and the mean face of RACES' means (up to
    per_race faces each; UTKFace's 0-5 are 4% Black, its 31-40 28%), each face first moved to its cell's shape
    (faces: uint8, sharp where a plain mean of the chips is a blur)."""
    cells = {}
    for name in sorted(os.listdir(folder)):
        parts = name.split('_')
        if len(parts) >= 4 and parts[0].isdigit() and parts[1] in ('0', '1'):
            cells.setdefault((age_to_group(int(parts[0])), int(parts[1])), []).append(name)
    rng = np.random.default_rng(seed)
    samples = {cell: list(rng.permutation(names)[:per_cell]) for cell, names in sorted(cells.items())}
    chip = functools.lru_cache(maxsize=None)(lambda name: np.asarray(Image.open(os.path.join(folder, name)).convert(
        'RGB').resize((consts.IMAGE_LENGTH, consts.IMAGE_LENGTH), Image.BILINEAR)))
    points = functools.lru_cache(maxsize=None)(lambda name: landmarks(chip(name)))
    at_eyes = [to_frame(points(n), fit_similarity(np.array(eye_centres(points(n))), np.array(EYE_CENTRES)))
               for names in samples.values() for n in names]
    outline = np.median(at_eyes, 0)[OUTLINE]  # the frame: the median jaw line of faces with their eyes at EYE_CENTRES
    shapes = np.zeros((consts.NUM_AGES, consts.NUM_GENDERS, 68, 2), np.float32)
    faces = np.zeros((consts.NUM_AGES, consts.NUM_GENDERS, consts.IMAGE_LENGTH, consts.IMAGE_LENGTH, 3), np.uint8)
    counts, race_rng = {}, np.random.default_rng(seed + 1)
    for (group, gender), names in samples.items():
        shape = shapes[group, gender] = np.median([to_frame(points(n), fit_similarity(points(n)[OUTLINE], outline))
                                                   for n in names], 0)
        by_race = [race_rng.permutation([n for n in cells[group, gender] if n.split('_')[2] == race])[:per_race]
                   for race in RACES]
        counts.update({f'{group}.{gender}.{race}': len(chosen) for race, chosen in zip(RACES, by_race)})
        faces[group, gender] = np.mean([np.mean([warp_face(chip(n).astype(np.float32), displacement(points(n), shape))
                                                 for n in chosen], 0) for chosen in by_race], 0).clip(0, 255).round()
    return shapes, outline, faces, counts


def main(argv=None):
    parser = argparse.ArgumentParser(description='Measure the age prototypes (median landmarks, mean face).')
    parser.add_argument('folder', help='a folder of UTKFace chips (age_gender_race_date.jpg.chip.jpg)')
    parser.add_argument('--output', default=PROTOTYPES)
    args = parser.parse_args(argv)
    shapes, outline, faces, counts = measure(args.folder)
    np.savez_compressed(args.output, shapes=shapes, outline=outline, faces=faces)
    print(args.output, counts)


if __name__ == '__main__':
    main()
