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
import collections
import functools
import importlib.util
import os

import cv2
import numpy as np
from PIL import Image

import align
import consts
from data import age_to_group

FACE_BOX = (8, 8, 115, 116)  # measured: dlib's frontal detector's median box on 388 UTKFace chips at 128 px
EYE_CENTRES = ((38.0, 38.0), (88.0, 38.0))  # about where UTKFace chips (128 px) have them
EYE_RADII = (8.0, 5.0)  # face pixels: the eye mask's Gaussian, wider than tall
TEETH_SOFT = 1.0  # face pixels: the teeth mask's soft edge
OUTLINE = slice(0, 17)  # the jaw line's landmarks
RACES = ('0', '1', '2', '3')  # UTKFace's White, Black, Asian, Indian (not 'Others'): equal in the mean faces
PROTOTYPES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'age_shapes.npz')
WARP_CENTRE = (0.49, 0.52)  # the warp's ellipse, relative to the aligned face's side: wider than the face, as UTKFace
WARP_RADII = (0.62, 0.66)  # framing puts the jaw at the face's sides and the chin at its bottom edge
WARP_FEATHER = 0.3  # the outer part of the ellipse (a fraction of its radius) where the displacement fades to 0
ANCHORS = 24  # points on the ellipse that the spline keeps still
SPLINE_STEP = 4  # face pixels between the points where the spline is evaluated
CHIN_SHADE, NECK_SHADE = 0.92, 0.68  # the neck's: FairFace's 16 frontal children, 0.15-0.4 IODs under the chin
FOREHEAD = 0.6  # the skin mask reaches this many eye distances above the brows
NECK_DEPTH, FOREHEAD_TOP = 0.8, 1.4  # eye distances: skin_beyond's neck under the jaw line, forehead over the brows
WARP_TURN, DETECTOR_TURN = (0.2, 0.45), 0.15  # turned this far: warped fully to not at all; the detector's excess turn
TURNED_MARGIN = 0.2  # eye distances: on a turned face the changes keep this close to the face's outline
PAD = 88  # face pixels: the padded face reaches this far beyond the 128-px face (the warp's ellipse, the whole head)


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


def eye_mask(centres=EYE_CENTRES, size=consts.IMAGE_LENGTH):
    """float32 size x size: 1 on the two eyes of an aligned face, falling smoothly to 0; the eyes at `centres` (two
    (x, y) in its pixels; by default where UTKFace chips have them)."""
    v, u = np.mgrid[0:size, 0:size]
    mask = np.zeros((size, size))
    for cx, cy in centres:
        mask += np.exp(-((u - cx) / EYE_RADII[0]) ** 2 / 2 - ((v - cy) / EYE_RADII[1]) ** 2 / 2)
    return np.clip(1.3 * mask, 0, 1).astype(np.float32)


def eye_centres(points):
    """The centres of the image-left and image-right eyes of 68 landmarks."""
    return points[36:42].mean(0), points[42:48].mean(0)


def eye_distance(points):
    """The distance between the eye centres of 68 landmarks (IOD): the unit faces are measured in."""
    left, right = eye_centres(points)
    return float(np.hypot(*(right - left)))


def lower_face(points):
    """The distance from the eyes' midpoint to the chin over the distance between the eyes: short in children."""
    left, right = eye_centres(points)
    return float(np.hypot(*(points[8] - (left + right) / 2))) / eye_distance(points)


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


def farthest_move(points, own_position, gender, strength=1.0):
    """Face pixels: the farthest any landmark moves from the face's own age to any other (aged_landmarks)."""
    return max(float(np.linalg.norm(aged_landmarks(points, own_position, position, gender, strength) - points,
                                    axis=1).max()) for position in range(consts.NUM_AGES))


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
    The spline is evaluated every SPLINE_STEP pixels inside it and interpolated between (it is smooth; 16 times
    faster)."""
    grid = spline_grid(pad)
    points, still = grid.points[grid.inside], ellipse_points()
    read = np.zeros_like(grid.points)
    read[grid.inside] = thin_plate(np.vstack([source, still]), np.vstack([target, still]), points) - points
    return cv2.remap(read.astype(np.float32), *grid.maps, cv2.INTER_LINEAR) * grid.window


SplineGrid = collections.namedtuple('SplineGrid', 'points inside maps window')


@functools.lru_cache(maxsize=4)
def spline_grid(pad):
    """What displacement reads for a pad, once: the coarse points (every SPLINE_STEP face pixels, n x n x 2), those
    the warp's window is interpolated from (`inside`: the four around each pixel it moves; the rest read 0), the maps
    that interpolate them onto the padded face and the window itself (float32 (128 + 2 pad)^2 x 1)."""
    side = consts.IMAGE_LENGTH + 2 * pad
    axis = np.arange(-pad, side - pad + SPLINE_STEP, SPLINE_STEP, dtype=np.float64)
    points = np.stack(np.meshgrid(axis, axis), -1)
    window = warp_window(face_grid(pad)).reshape(side, side, 1).astype(np.float32)
    rows, columns = np.nonzero(window[..., 0] > 0)
    inside = np.zeros(points.shape[:2], bool)
    for down in (0, 1):
        for right in (0, 1):
            inside[rows // SPLINE_STEP + down, columns // SPLINE_STEP + right] = True
    index = (np.arange(side) / SPLINE_STEP).astype(np.float32)
    grid = SplineGrid(points, inside, tuple(np.meshgrid(index, index)), window)
    for array in (grid.points, grid.inside, *grid.maps, grid.window):
        array.flags.writeable = False
    return grid


@functools.lru_cache(maxsize=4)
def read_grid(pad):
    """float32 (128 + 2 pad)^2 x 2: face_grid as an image (warp_face reads each pixel from there, moved)."""
    side = consts.IMAGE_LENGTH + 2 * pad
    grid = face_grid(pad).reshape(side, side, 2).astype(np.float32)
    grid.flags.writeable = False
    return grid


def warp_face(face, flow, pad=0):
    """A float face (face_grid's pixels, 128 + 2 pad a side) moved by a displacement of the same layout."""
    read = read_grid(pad) + flow + pad
    return cv2.remap(face, read[..., 0], read[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def forehead_outline(points, height=FOREHEAD):
    """The forehead's top edge: the brows' landmarks (right to left) moved `height` eye distances up the face."""
    left, right = eye_centres(points)
    up = np.array([right[1] - left[1], left[0] - right[0]]) * height  # perpendicular to the eyes, upwards
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
    margin = TURNED_MARGIN * eye_distance(points)
    outline = cv2.GaussianBlur(cv2.dilate(outline, np.ones((3, 3), np.uint8), iterations=round(margin / 2)),
                               (0, 0), margin / 2)
    return 1 - (1 - share) * (1 - outline)


def landmark_turn(points):
    """How far dlib's 68 landmarks say a face is turned to one side: align.turn of the eyes' centres and the nose."""
    return align.turn(np.vstack([*eye_centres(points), points[30]]))


def warp_share(points, chip):
    """How much of the shape of age a face turned `align.turn` takes (WARP_TURN: none in profile), as far as dlib's
    landmarks or the face detector's on the 128-px `chip` (less DETECTOR_TURN) say: dlib read profiles as frontal
    (FairFace 0026, 0277, 0288: G's frontal face was a ghost on the wall in front of them)."""
    turns = [landmark_turn(points)]
    turns += [align.turn(face.landmarks) - DETECTOR_TURN for face in align.faces_in_chip(chip)[:1]]
    return float(np.clip((WARP_TURN[1] - max(turns)) / (WARP_TURN[1] - WARP_TURN[0]), 0, 1))


def moved_from(face, target, most=0.15):
    """A render's landmarks, each at most `most` of the eye distance from `target` (dlib misreads blurry renders)."""
    points = landmarks(face.clip(0, 255).astype(np.uint8))
    length = np.maximum(np.linalg.norm(points - target, axis=1), 1e-6)[:, None]
    return target + (points - target) * np.minimum(1, most * eye_distance(target) / length)


def polygon_mask(part, pad, sigma):
    """float32 (128 + 2 pad)^2 (face_grid's pixels): 1 inside the polygon of the landmarks `part`, its edge a
    Gaussian of `sigma` face pixels."""
    mask = np.zeros((consts.IMAGE_LENGTH + 2 * pad,) * 2, np.float32)
    cv2.fillPoly(mask, [np.round((part + pad) * 16).astype(np.int32)], 1.0, cv2.LINE_AA, 4)
    return cv2.GaussianBlur(mask, (0, 0), sigma)


def lips_mask(points, pad=0):
    """float32 (128 + 2 pad)^2 (face_grid's pixels): 1 on the lips and the mouth between them (landmarks 48-59)."""
    return polygon_mask(points[48:60], pad, 1.5)


def teeth_mask(points, pad=0):
    """float32 (128 + 2 pad)^2 (face_grid's pixels): 1 inside the inner lips (landmarks 60-67: the teeth of an open
    mouth; nothing on a closed one), its edge soft."""
    return polygon_mask(points[60:68], pad, TEETH_SOFT)


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
    below_eyes = (left[1] + right[1]) / 2 + 0.25 * eye_distance(points)
    return (skin_mask(points, pad) > 0.9) & (rows > below_eyes) & (rows < points[33, 1])


def skin_beyond(points, pad=0):
    """float32 (128 + 2 pad)^2 (face_grid's pixels): the band NECK_DEPTH eye distances deep under the jaw line from
    the mouth's height down and the forehead up to FOREHEAD_TOP eye distances over the brows, soft: the neck's and a
    high forehead's skin (with what lies beside it: the caller keeps the skin's colour), beyond the face mask."""
    iod = eye_distance(points)
    side = consts.IMAGE_LENGTH + 2 * pad
    mask = np.zeros((side, side), np.float32)
    jaw, brows = points[4:13], points[26:16:-1]
    for band in (np.vstack([jaw, jaw[::-1] + (0, NECK_DEPTH * iod)]),
                 np.vstack([brows, forehead_outline(points, FOREHEAD_TOP)[::-1]])):
        cv2.fillPoly(mask, [np.round((band + pad) * 16).astype(np.int32)], 1, cv2.LINE_AA, 4)
    return cv2.GaussianBlur(mask, (0, 0), 0.1 * iod)


def lower_face_region(points, pad, side, beyond=0.0, jaw=slice(3, 14)):
    """float32 side x side (the 128-px face's pixels + pad): the face below the nostrils and the jaw line's `jaw`
    landmarks (by default from the mouth's height down), inside that jaw line pushed out by `beyond` eye distances,
    less the lips."""
    centre, iod = points[OUTLINE].mean(0), eye_distance(points)
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
