"""Find the face in a user's photo and frame it the way UTKFace chips are framed.

UTKFace chips (200x200) are aligned and cropped faces: eyes level, the face filling the chip. A user's photo is
cut the same way before it is encoded: face_detect (MTCNN, shipped ONNX weights, nothing downloaded) finds the
faces and five landmarks each (eyes, nose, mouth corners); the chip is the similarity transform (rotation, scale,
shift) that puts the five landmarks nearest, in least squares, to where they sit in UTKFace chips (TEMPLATE), so the
head's roll is undone and the eyes land where UTKFace's do.

TEMPLATE was measured by running the same detector on UTKFace chips, padded with a replicated border (faces touch
the chip's edge): `python align.py --measure ../shared/UTKFace` (1500 chips drawn with seed 0; medians, in chip
pixels; 1494 chips gave a face):

    left eye (58.7, 56.9)   right eye (137.1, 56.9)   nose (97.4, 103.7)
    mouth, left (62.7, 137.8)   mouth, right (132.8, 137.8)   (quartiles within 2-5 px of the medians)

Detection runs on a copy of at most DETECT_MAX_SIDE pixels and, where that finds nothing, once more on a copy half
that size with a replicated border (a face filling the photo, or one the first scale misses); on FairFace's photos of
all ages it finds a face in 539 of 540 with the first pass alone, 540 with both (README, "Your own photos: face
alignment").
Chips keep their framing twice over: files named like UTKFace chips (`*.chip.jpg`) are passed through (only
resized), and aligning a chip anyway gives a square within a few percent of the whole chip.
"""
import argparse
import math
import random
import sys
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from PIL import Image, ImageDraw

import face_detect
from consts import IMAGE_LENGTH
from images import load_image, save_png, thumbnail

CHIP_SIZE = 200  # UTKFace chips are 200x200; crops are cut at this size, then resized like a chip
CHIP_CORNERS = np.float32([(0, 0), (CHIP_SIZE, 0), (CHIP_SIZE, CHIP_SIZE)])  # three of them: a crop's affine map
TEMPLATE = np.array([(58.7, 56.9), (137.1, 56.9), (97.4, 103.7), (62.7, 137.8), (132.8, 137.8)]) / CHIP_SIZE
DETECT_MAX_SIDE = 480  # larger images are downscaled for detection, boxes and landmarks mapped back
DETECT_PAD = 0.2  # the second pass's replicated border (x short side), so faces touching the edge are found
MIN_FACE = 40  # photo pixels: a face box narrower than this is too small to age
SURE = 0.95  # face_detect's score: weaker faces count only in a photo without a surer one (they are often cloth)
SIMILAR_SIZE = 0.8  # faces at least this fraction of the largest's width are as large: the most central goes first
TURNED = 0.3  # the nose this far (x the eyes' distance) off the eyes' midline: the face is turned to one side
PREVIEW_MAX_SIDE = 800
TURNED_NOTE = ('the face is turned to one side; it is aged, but the model learnt from faces looking at the camera, '
               'so expect a softer, less faithful result')


class NoFaceError(ValueError):
    """No face was found in the image."""


class FaceTooSmallError(ValueError):
    """The face found is too small to age."""


class AlignedFace(NamedTuple):
    """A face framed in its photo: the aligned 128-px crop, the face box (x, y, w, h), the crop square's four corners
    (x, y), the face's five landmarks (5x2, face_detect.Face's order) in photo pixels, how many faces the photo
    holds, and the photo (RGB, at its own size)."""
    crop: Image.Image
    box: tuple
    crop_box: tuple
    landmarks: np.ndarray = None
    faces: int = 1
    photo: Image.Image = None


def is_utkface_chip(path_or_name):
    """Whether a file name is a UTKFace chip name (`*.chip.jpg`), whose framing is kept as it is."""
    return Path(path_or_name).name.lower().endswith('.chip.jpg')


def _rgb(image):
    """A PIL image or array as a uint8 RGB array."""
    if isinstance(image, Image.Image):
        image = image if image.mode == 'RGB' else image.convert('RGB')
    rgb = np.asarray(image, dtype=np.uint8)
    return cv2.cvtColor(rgb, cv2.COLOR_GRAY2RGB) if rgb.ndim == 2 else rgb


def _detect(rgb, scale, pad):
    """face_detect's faces on rgb scaled by `scale` with a replicated border of pad x its short side, mapped back."""
    small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    border = round(pad * min(small.shape[:2]))
    padded = cv2.copyMakeBorder(small, *[border] * 4, cv2.BORDER_REPLICATE) if border else small
    faces = []
    for box, score, landmarks in face_detect.find_faces(padded):
        x, y, w, h = box
        faces.append(face_detect.Face(((x - border) / scale, (y - border) / scale, w / scale, h / scale), score,
                                      (landmarks - border) / scale))
    return faces


def _ordered(faces, width, height):
    """Faces whose centre lies in the image (the sure ones, if any): the most central of the largest first, then the
    others by size."""
    inside = [f for f in faces if 0 <= f.box[0] + f.box[2] / 2 < width and 0 <= f.box[1] + f.box[3] / 2 < height]
    inside = [f for f in inside if f.score >= SURE] or inside
    largest = max((f.box[2] for f in inside), default=0)

    def rank(face):
        x, y, w, h = face.box
        if w >= SIMILAR_SIZE * largest:
            return 0, math.hypot(x + w / 2 - width / 2, y + h / 2 - height / 2)
        return 1, -w
    return sorted(inside, key=rank)


def find_faces(image):
    """The faces of an image (face_detect.Face, in image pixels), the one to age first (_ordered)."""
    rgb = _rgb(image)
    scale = min(1.0, DETECT_MAX_SIDE / max(rgb.shape[:2]))
    faces = _detect(rgb, scale, 0) or _detect(rgb, scale / 2, DETECT_PAD)
    return _ordered(faces, rgb.shape[1], rgb.shape[0])


def faces_in_chip(rgb):
    """The faces of an image that a face fills, as a chip (found at its own size with a replicated border, since the
    face touches its edge), in find_faces' order."""
    return _ordered(_detect(rgb, 1.0, DETECT_PAD), rgb.shape[1], rgb.shape[0])


def turn(landmarks):
    """How far the face is turned to one side: the nose's distance from the eyes' midline, over the eyes' distance."""
    left, right, nose = np.asarray(landmarks[:3], dtype=float)
    across = right - left
    return abs(float(np.dot(nose - (left + right) / 2, across) / np.dot(across, across)))


def is_turned(aligned):
    """Whether a framed face (an AlignedFace) is turned further to one side than TURNED."""
    return aligned.landmarks is not None and turn(aligned.landmarks) > TURNED


def chip_transform(landmarks):
    """2x3 affine matrix taking image pixels to a CHIP_SIZE chip framed like UTKFace: the similarity transform
    putting the five landmarks nearest (least squares) to TEMPLATE."""
    src, dst = np.asarray(landmarks, dtype=float), TEMPLATE * CHIP_SIZE
    s, d = src - src.mean(0), dst - dst.mean(0)
    norm = (s ** 2).sum()
    a = (s * d).sum() / norm
    b = (s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum() / norm
    rotation = np.array([[a, -b], [b, a]])
    return np.hstack([rotation, (dst.mean(0) - rotation @ src.mean(0))[:, None]])


def crop_corners(matrix):
    """The four image-pixel corners (x, y) of the chip a chip_transform matrix cuts, clockwise from top-left."""
    inverse, n = cv2.invertAffineTransform(matrix), CHIP_SIZE
    return tuple(tuple((inverse @ (u, v, 1)).tolist()) for u, v in ((0, 0), (n, 0), (n, n), (0, n)))


def chip_pixels(image, matrix):
    """The CHIP_SIZE chip a chip_transform matrix describes (uint8 RGB): only the region it covers is read, and a
    big face is shrunk first so the warp does not alias."""
    rgb = _rgb(image)
    corners = np.array(crop_corners(matrix))
    x0, y0 = np.clip(np.floor(corners.min(0)).astype(int) - 2, 0, None)
    x1, y1 = np.ceil(corners.max(0)).astype(int) + 3
    if x1 > x0 and y1 > y0 and x0 < rgb.shape[1] and y0 < rgb.shape[0]:
        rgb = rgb[y0:y1, x0:x1]
        matrix = np.hstack([matrix[:, :2], matrix[:, 2:] + matrix[:, :2] @ [[x0], [y0]]])
    shrink = min(1.0, 2 * math.hypot(*matrix[0, :2]))
    if shrink < 1:
        rgb = cv2.resize(rgb, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
        matrix = np.hstack([matrix[:, :2] / shrink, matrix[:, 2:]])
    return cv2.warpAffine(rgb, matrix, (CHIP_SIZE, CHIP_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def cut_chip(image, matrix):
    """Cut the chip a chip_transform matrix describes and resize it to IMAGE_LENGTH like a UTKFace chip."""
    return Image.fromarray(chip_pixels(image, matrix)).resize((IMAGE_LENGTH, IMAGE_LENGTH), Image.BILINEAR)


def refined_landmarks(image, landmarks):
    """The landmarks found again on the chip they frame (the head levelled, the face at chip size), mapped back to
    the image: landmarks on a tilted head are off by a few degrees; the first ones are kept if this finds no face."""
    matrix = chip_transform(landmarks)
    faces = faces_in_chip(chip_pixels(image, matrix))
    if not faces:
        return landmarks
    inverse = cv2.invertAffineTransform(matrix)
    return faces[0].landmarks @ inverse[:, :2].T + inverse[:, 2]


def align_face(image, face_index=0, faces=None):
    """Find the faces (find_faces' order; or take `faces`, found already), take number face_index and frame it like a
    UTKFace chip."""
    rgb = _rgb(image)
    faces = find_faces(rgb) if faces is None else faces
    if not faces:
        raise NoFaceError('no face found in the image; use --no-align to use the image as it is')
    if not 0 <= face_index < len(faces):
        raise ValueError(f'face_index {face_index} is out of range: {len(faces)} face(s) found, '
                         f'valid values are 0..{len(faces) - 1}')
    face = faces[face_index]
    if face.box[2] < MIN_FACE:
        raise FaceTooSmallError(f'the face is only {face.box[2]:.0f} pixels wide; a face needs at least {MIN_FACE}: '
                                f'use a larger photo, or one taken closer')
    landmarks = refined_landmarks(rgb, face.landmarks)
    matrix = chip_transform(landmarks)
    photo = image if image.mode == 'RGB' else image.convert('RGB')
    return AlignedFace(cut_chip(rgb, matrix), tuple(round(v) for v in face.box), crop_corners(matrix), landmarks,
                       len(faces), photo)


def notes(aligned):
    """What a user should know about a framed face, one sentence each: other faces in the photo, a turned head."""
    said = []
    if aligned.faces > 1:
        said.append(f'{aligned.faces} faces found; the largest, most central one is used')
    if is_turned(aligned):
        said.append(TURNED_NOTE)
    return said


def save_preview(image, box, crop_box, path):
    """Save the image, at most PREVIEW_MAX_SIDE pixels, with the face box (green) and crop (yellow) drawn."""
    preview = thumbnail(image, PREVIEW_MAX_SIDE)
    scale = preview.width / image.width
    draw = ImageDraw.Draw(preview)
    x, y, w, h = (v * scale for v in box)
    draw.polygon([(u * scale, v * scale) for u, v in crop_box], outline=(255, 220, 0), width=2)
    draw.rectangle((x, y, x + w, y + h), outline=(0, 255, 0), width=3)
    save_png(preview, path)


def frame_face(path, align=True, face_index=0, preview_path=None):
    """Load a photo and frame its face (an AlignedFace); chips and align=False are only resized."""
    image = load_image(path)
    if align and not is_utkface_chip(path):
        aligned = align_face(image, face_index)
    else:
        aligned = AlignedFace(image.resize((IMAGE_LENGTH, IMAGE_LENGTH), Image.BILINEAR),
                              (0, 0, image.width, image.height),
                              ((0, 0), (image.width, 0), (image.width, image.height), (0, image.height)), photo=image)
    if preview_path is not None:
        save_preview(image, aligned.box, aligned.crop_box, preview_path)
    return aligned


def prepare_face(path, align=True, face_index=0, preview_path=None):
    """Load a photo and return the IMAGE_LENGTH square to encode; chips and align=False are only resized."""
    return frame_face(path, align, face_index, preview_path).crop


# ---------------------------------------------------------------- paste-back: the inverse of the alignment warp

MASK_CENTRE = (0.49, 0.50)  # the face ellipse of the paste-back mask, relative to the aligned face's side
MASK_RADII = (0.38, 0.46)  # it stays inside the square, so the square's edge never shows
MASK_FEATHER = 0.25  # the outer part of the ellipse (a fraction of its radius) fades smoothly from 1 to 0


def face_to_chip_matrix(crop_box):
    """The chip_transform matrix of a crop: photo pixels to the CHIP_SIZE chip it cuts."""
    return cv2.getAffineTransform(np.float32(crop_box[:3]), CHIP_CORNERS).astype(np.float64)


def face_chip(framed, photo):
    """The 128-px face of an aged `photo` (PIL), cut exactly where the framed photo's face was cut."""
    return cut_chip(photo, face_to_chip_matrix(framed.crop_box))


def face_to_image_matrix(crop_box, size=IMAGE_LENGTH):
    """2x3 affine matrix taking pixels of the size x size aligned face (as prepare_face returns it) to photo
    pixels: the inverse of the alignment warp and of the chip's resize. `crop_box`: the crop's four corners."""
    chip_to_image = cv2.getAffineTransform(CHIP_CORNERS, np.float32(crop_box[:3])).astype(np.float64)
    s = CHIP_SIZE / size  # PIL's resize maps face pixel f to chip pixel (f + 0.5) * s - 0.5
    face_to_chip = np.array([[s, 0, (s - 1) / 2], [0, s, (s - 1) / 2], [0, 0, 1]])
    return chip_to_image @ face_to_chip


def paste_mask(size=IMAGE_LENGTH):
    """float32 size x size mask in [0, 1]: 1 on the face, falling smoothly to exactly 0 at the edge of an ellipse
    that lies inside the square, so that nothing outside the face is changed and no seam shows."""
    v, u = (np.mgrid[0:size, 0:size] + 0.5) / size
    r = np.hypot((u - MASK_CENTRE[0]) / MASK_RADII[0], (v - MASK_CENTRE[1]) / MASK_RADII[1])
    t = ((1 - r) / MASK_FEATHER).clip(0, 1)
    return (t * t * (3 - 2 * t)).astype(np.float32)  # smoothstep: 1 inside, exactly 0 outside the ellipse


def match_colours(face, reference, mask):
    """`face` (uint8 HxWx3 RGB) with the per-channel mean and spread (in Lab, weighted by `mask`) of `reference`."""
    weights = mask[..., None].astype(np.float64) / max(float(mask.sum()), 1e-6)
    lab, ref = (cv2.cvtColor(np.ascontiguousarray(x, np.uint8), cv2.COLOR_RGB2LAB).astype(np.float64) for x in (face, reference))
    stats = []
    for x in (lab, ref):
        mean = (x * weights).sum((0, 1))
        stats.append((mean, np.sqrt(((x - mean) ** 2 * weights).sum((0, 1))) + 1e-6))
    (m_face, s_face), (m_ref, s_ref) = stats
    matched = (lab - m_face) * (s_ref / s_face).clip(0.5, 2.0) + m_ref
    return cv2.cvtColor(matched.clip(0, 255).round().astype(np.uint8), cv2.COLOR_LAB2RGB)


def paste_back(image, face, crop_box, reference=None):
    """Put an aligned face (uint8 SxSx3 or PIL, e.g. a rendering at another age) back into the photo it came from:
    warped by the inverse of the alignment, blended through a feathered face mask, and (given `reference`, the
    aligned crop of the photo itself) with its colours matched to the photo's. Pixels outside the mask keep
    their exact values. Returns a new PIL image."""
    photo = np.array(image.convert('RGB'))
    face = np.asarray(face.convert('RGB') if isinstance(face, Image.Image) else face, dtype=np.uint8)
    size = face.shape[0]
    mask = paste_mask(size)
    if reference is not None:
        reference = np.asarray(reference.convert('RGB').resize((size, size), Image.BILINEAR)
                               if isinstance(reference, Image.Image) else reference, dtype=np.uint8)
        face = match_colours(face, reference, mask)
    matrix = face_to_image_matrix(crop_box, size)
    corners = np.array(crop_box)
    x0, y0 = np.floor(corners.min(0)).astype(int).clip(0, None)
    x1, y1 = np.ceil(corners.max(0)).astype(int) + 1
    x1, y1 = min(x1, photo.shape[1]), min(y1, photo.shape[0])
    if x1 <= x0 or y1 <= y0:
        return Image.fromarray(photo)
    matrix[:, 2] -= (x0, y0)  # warp only the region the face covers
    region = (x1 - x0, y1 - y0)
    warped = cv2.warpAffine(face, matrix, region, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.warpAffine(mask, matrix, region, flags=cv2.INTER_LINEAR, borderValue=0)
    roi = photo[y0:y1, x0:x1]
    changed = alpha > 0
    a = alpha[changed][:, None]
    roi[changed] = (roi[changed] * (1 - a) + warped[changed] * a).round().clip(0, 255).astype(np.uint8)
    return Image.fromarray(photo)


def _quartiles(values):
    """Median, first and third quartile (per column), rounded."""
    return np.percentile(values, [50, 25, 75], axis=0).round(3).tolist()


def measure_utkface_framing(folder, n=1500, seed=0):
    """Run the detector on n random chips of a folder (with a replicated border, as faces touch a chip's edge):
    quartiles of the five landmarks (TEMPLATE's order) in chip pixels."""
    names = sorted(p.name for p in Path(folder).iterdir() if p.suffix.lower() in ('.jpg', '.jpeg', '.png'))
    found = []
    for name in random.Random(seed).sample(names, min(n, len(names))):
        rgb = _rgb(load_image(Path(folder) / name))
        faces = faces_in_chip(rgb)
        if faces:
            found.append(faces[0].landmarks * CHIP_SIZE / rgb.shape[1])
    quartiles = _quartiles(found)
    return {'chips': min(n, len(names)), 'faces_found': len(found),
            **{name: [q[i] for q in quartiles] for i, name in enumerate(
                ('left_eye', 'right_eye', 'nose', 'mouth_left', 'mouth_right'))}}


def main(argv=None):
    """Command line: `python align.py --measure FOLDER` prints the framing; `python align.py IN OUT` aligns."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--measure', metavar='FOLDER', help='measure where the chips in FOLDER have their landmarks')
    parser.add_argument('-n', type=int, default=1500, help='chips to measure')
    parser.add_argument('--seed', type=int, default=0, help='seed of the random choice of chips')
    parser.add_argument('input', nargs='?', help='photo to align')
    parser.add_argument('output', nargs='?', help='where to save the 128x128 crop')
    parser.add_argument('--no-align', action='store_true', help='use the image as it is (only resized)')
    parser.add_argument('--face-index', type=int, default=0, help='face to use, 0 = largest')
    args = parser.parse_args(argv)
    if args.measure:
        for key, value in measure_utkface_framing(args.measure, args.n, args.seed).items():
            print(f'{key:16} {value}')
    elif args.input and args.output:
        preview = Path(args.output).with_name(Path(args.output).stem + '_face.png')
        try:
            prepare_face(args.input, not args.no_align, args.face_index, preview).save(args.output)
        except ValueError as error:
            parser.exit(1, f'error: {error}\n')
        print(f'saved {args.output} and {preview}')
    else:
        parser.error('give --measure FOLDER, or INPUT and OUTPUT')


if __name__ == '__main__':
    sys.exit(main())
