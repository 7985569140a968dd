"""Find the face in a user's photo and frame it the way UTKFace chips are framed.

UTKFace chips (200x200) are aligned and cropped faces: eyes level, the face filling the chip. A user's
photo is cut the same way before it is encoded: detect the face with OpenCV's bundled Haar cascades
(frontal face `alt2`, then eyes inside the face box; the models ship in the opencv wheel, nothing is
downloaded), rotate about the eye midpoint so the eyes are level (no rotation without two plausible
eyes), then cut the square the chips would show and resize it to 128x128.

The framing was measured by running this module's own detector on UTKFace chips:
`python align.py --measure ../shared/UTKFace` (1500 chips drawn with seed 0; the largest face box of
each chip; medians, quartiles in brackets):

    face found             1450 of 1500 chips (97%); two plausible eyes in 1107
    face box side / chip   0.970 [0.940, 1.005]
    box centre x / chip    0.488 [0.480, 0.495]
    box centre y / chip    0.402 [0.392, 0.415]
    left eye / box         x 0.290 [0.275, 0.305], y 0.388 [0.375, 0.398]
    right eye / box        x 0.698 [0.682, 0.712], y 0.388 [0.378, 0.398]

The detector pads every image with a replicated border (DETECT_PAD), so faces that touch the edge, as
they do in chips, are found; without it 40% of chips give no face and the rest too small a box.
So the detector's box spans about the whole chip width, centred horizontally and sitting high (the chip
shows the chin and little hair). `align_face` reproduces this: square side = box side / FACE_FRACTION,
box centre at FACE_CENTER of the square, in the eye-levelled frame.

Chips keep their framing twice over: files named like UTKFace chips (`*.chip.jpg`) are passed through
(only resized), and aligning a chip anyway gives a square within a few percent of the whole chip.
"""
import argparse
import math
import random
import sys
import threading
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from PIL import Image, ImageDraw

from consts import IMAGE_LENGTH
from images import load_image, save_png, thumbnail

FACE_CASCADE = 'haarcascade_frontalface_alt2.xml'
EYE_CASCADE = 'haarcascade_eye.xml'
CHIP_SIZE = 200  # UTKFace chips are 200x200; crops are cut at this size, then resized like a chip
FACE_FRACTION = 0.97  # measured: median face box side / chip side
FACE_CENTER = (0.488, 0.402)  # measured: median face box centre / chip side
EYE_POSITIONS = ((0.29, 0.388), (0.698, 0.388))  # measured: median eye centres / face box, image-left first
DETECT_MAX_SIDE = 1024  # larger images are downscaled for detection, boxes mapped back
DETECT_PAD = 0.2  # border added around the image (x short side) so faces touching the edge are found
EYE_PATCH = 200  # face box resampled to this size before the eye search
PREVIEW_MAX_SIDE = 800


class NoFaceError(ValueError):
    """No face was found in the image."""


class AlignedFace(NamedTuple):
    """An aligned crop, the detected face box (x, y, w, h) and the crop square's four corners (x, y)."""
    crop: Image.Image
    box: tuple
    crop_box: tuple


def is_utkface_chip(path_or_name):
    """Whether a file name is a UTKFace chip name (`*.chip.jpg`), whose framing is kept as it is."""
    return Path(path_or_name).name.lower().endswith('.chip.jpg')


_per_thread = threading.local()


def _cascade(name):
    """A Haar cascade bundled with OpenCV, loaded once per thread: one classifier used by two threads at once
    (the web page's workers) raised cv2.error and found wrong faces."""
    cascades = _per_thread.__dict__.setdefault('cascades', {})
    if name not in cascades:
        cascades[name] = cv2.CascadeClassifier(cv2.data.haarcascades + name)
    return cascades[name]


def _gray(image):
    """A PIL image or RGB array as a uint8 grayscale array."""
    rgb = np.asarray(image.convert('RGB') if isinstance(image, Image.Image) else image, dtype=np.uint8)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb


def detect_faces(image):
    """Face boxes (x, y, w, h) in image pixels, largest first; boxes may overhang the image edge."""
    gray = _gray(image)
    scale = min(1.0, DETECT_MAX_SIDE / max(gray.shape))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    pad = round(DETECT_PAD * min(small.shape))
    padded = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    found = _cascade(FACE_CASCADE).detectMultiScale(padded, scaleFactor=1.1, minNeighbors=5)
    boxes = [tuple(round(v / scale) for v in (x - pad, y - pad, w, h)) for x, y, w, h in found]
    inside = [b for b in boxes if 0 <= b[0] + b[2] / 2 < gray.shape[1] and 0 <= b[1] + b[3] / 2 < gray.shape[0]]
    return sorted(inside, key=lambda b: b[2] * b[3], reverse=True)


def _face_patch(gray, box):
    """The face box resampled to EYE_PATCH x EYE_PATCH, edges replicated where it leaves the image."""
    x, y, w, h = box
    pad = max(0, -x, -y, x + w - gray.shape[1], y + h - gray.shape[0])
    padded = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE) if pad else gray
    patch = padded[y + pad:y + pad + h, x + pad:x + pad + w]
    return cv2.resize(patch, (EYE_PATCH, EYE_PATCH), interpolation=cv2.INTER_AREA)


def find_eyes(image, box):
    """The two eye centres (image-left first) inside a face box, or None without a plausible pair."""
    patch = cv2.equalizeHist(_face_patch(_gray(image), box))
    found = _cascade(EYE_CASCADE).detectMultiScale(
        patch[:int(0.6 * EYE_PATCH)], scaleFactor=1.1, minNeighbors=5,
        minSize=(EYE_PATCH // 10, EYE_PATCH // 10), maxSize=(EYE_PATCH // 3, EYE_PATCH // 3))
    centres = [np.array([x + w / 2, y + h / 2]) / EYE_PATCH for x, y, w, h in found]
    pair = [min((c for c in centres if (c[0] < 0.5) == (side == 0)),
                key=lambda c: np.hypot(*(c - EYE_POSITIONS[side])), default=None) for side in (0, 1)]
    if any(eye is None for eye in pair):
        return None
    dx, dy = pair[1] - pair[0]
    if not 0.25 <= dx <= 0.65 or abs(dy) > 0.5 * dx:
        return None
    return tuple(tuple((np.array(box[:2]) + eye * box[2:]).tolist()) for eye in pair)


def chip_transform(box, eyes=None):
    """2x3 affine matrix taking image pixels to a CHIP_SIZE chip framed like UTKFace (eyes levelled)."""
    x, y, w, h = box
    if eyes:
        (lx, ly), (rx, ry) = eyes
        level = cv2.getRotationMatrix2D(((lx + rx) / 2, (ly + ry) / 2), math.degrees(math.atan2(ry - ly, rx - lx)), 1)
    else:
        level = np.eye(3)[:2]
    centre = level @ (x + w / 2, y + h / 2, 1)
    side = w / FACE_FRACTION
    chip_centre = centre + (0.5 - np.array(FACE_CENTER)) * side
    scale = CHIP_SIZE / side
    matrix = scale * level
    matrix[:, 2] += CHIP_SIZE / 2 - scale * chip_centre
    return matrix


def crop_corners(matrix):
    """The four image-pixel corners (x, y) of the chip a chip_transform matrix cuts, clockwise from top-left."""
    inverse, n = cv2.invertAffineTransform(matrix), CHIP_SIZE
    return tuple(tuple((inverse @ (u, v, 1)).tolist()) for u, v in ((0, 0), (n, 0), (n, n), (0, n)))


def cut_chip(image, matrix):
    """Cut the chip a chip_transform matrix describes and resize it to IMAGE_LENGTH like a UTKFace chip."""
    rgb = np.asarray(image.convert('RGB'))
    shrink = min(1.0, 2 * math.hypot(*matrix[0, :2]))  # pre-shrink big faces so the warp does not alias
    if shrink < 1:
        rgb = cv2.resize(rgb, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
        matrix = np.hstack([matrix[:, :2] / shrink, matrix[:, 2:]])
    chip = cv2.warpAffine(rgb, matrix, (CHIP_SIZE, CHIP_SIZE), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    return Image.fromarray(chip).resize((IMAGE_LENGTH, IMAGE_LENGTH), Image.BILINEAR)


def align_face(image, face_index=0):
    """Detect the faces (largest first), take number face_index and frame it like a UTKFace chip."""
    boxes = detect_faces(image)
    if not boxes:
        raise NoFaceError('no face found in the image; use --no-align to use the image as it is')
    if not 0 <= face_index < len(boxes):
        raise ValueError(f'face_index {face_index} is out of range: {len(boxes)} face(s) found, '
                         f'valid values are 0..{len(boxes) - 1}')
    box = boxes[face_index]
    matrix = chip_transform(box, find_eyes(image, box))
    return AlignedFace(cut_chip(image, matrix), box, crop_corners(matrix))


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
    """Load a photo and frame its face: (the photo, its AlignedFace); chips and align=False are only resized."""
    image = load_image(path)
    if align and not is_utkface_chip(path):
        aligned = align_face(image, face_index)
    else:
        aligned = AlignedFace(image.resize((IMAGE_LENGTH, IMAGE_LENGTH), Image.BILINEAR),
                              (0, 0, image.width, image.height),
                              ((0, 0), (image.width, 0), (image.width, image.height), (0, image.height)))
    if preview_path is not None:
        save_preview(image, aligned.box, aligned.crop_box, preview_path)
    return image, aligned


def prepare_face(path, align=True, face_index=0, preview_path=None):
    """Load a photo and return the IMAGE_LENGTH square to encode; chips and align=False are only resized."""
    return frame_face(path, align, face_index, preview_path)[1].crop


# ---------------------------------------------------------------- paste-back: the inverse of the alignment warp

MASK_CENTRE = (0.49, 0.50)  # the face ellipse of the paste-back mask, relative to the aligned face's side
MASK_RADII = (0.38, 0.46)  # it stays inside the square, so the square's edge never shows
MASK_FEATHER = 0.25  # the outer part of the ellipse (a fraction of its radius) fades smoothly from 1 to 0


def face_to_image_matrix(crop_box, size=IMAGE_LENGTH):
    """2x3 affine matrix taking pixels of the size x size aligned face (as prepare_face returns it) to photo
    pixels: the inverse of the alignment warp and of the chip's resize. `crop_box`: the crop's four corners."""
    chip_corners = np.float32([(0, 0), (CHIP_SIZE, 0), (CHIP_SIZE, CHIP_SIZE)])
    chip_to_image = cv2.getAffineTransform(chip_corners, np.float32(crop_box[:3])).astype(np.float64)
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
    """Run the detector on n random chips of a folder; quartiles of the face box and eyes relative to the chip."""
    names = sorted(p.name for p in Path(folder).iterdir() if p.suffix.lower() in ('.jpg', '.jpeg', '.png'))
    rows, eyes = [], []
    for name in random.Random(seed).sample(names, min(n, len(names))):
        image = load_image(Path(folder) / name)
        boxes = detect_faces(image)
        if boxes:
            x, y, w, h = boxes[0]
            rows.append((w / image.width, (x + w / 2) / image.width, (y + h / 2) / image.height))
            pair = find_eyes(image, boxes[0])
            if pair:
                eyes.append([(c - o) / w for eye in pair for c, o in zip(eye, (x, y))])
    return {'chips': min(n, len(names)), 'faces_found': len(rows), 'eye_pairs_found': len(eyes),
            'side': _quartiles([r[0] for r in rows]), 'centre_x': _quartiles([r[1] for r in rows]),
            'centre_y': _quartiles([r[2] for r in rows]), 'eyes_lx_ly_rx_ry': _quartiles(eyes)}


def main(argv=None):
    """Command line: `python align.py --measure FOLDER` prints the framing; `python align.py IN OUT` aligns."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--measure', metavar='FOLDER', help='measure the framing of the chips in FOLDER')
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
