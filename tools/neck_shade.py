"""age_shape.NECK_SHADE measured: how dark a child's neck is under the chin against its cheeks, on photos that show it.

    python tools/neck_shade.py photos/fairface

For each photo of a child (at most MAX_AGE; photos.csv's age) facing the camera (dlib's nose within MAX_TURN eye
distances of the eyes' midline) whose neck patch lies inside the photo: the median lightness (Lab L) 0.15-0.4 eye
distances under the chin, 0.4 eye distances wide, over that of the cheeks below the eyes; prints each and the median.
UTKFace's chips end at the chin, so they cannot tell.
"""
import argparse
import sys
from pathlib import Path

import cv2
import dlib
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import age_shape  # noqa: E402
import photo_eval  # noqa: E402
from images import load_image  # noqa: E402
from utils import InputError  # noqa: E402

MAX_AGE, MAX_TURN = 15, 0.15
NECK, WIDTH = (0.15, 0.4), 0.4  # eye distances under the chin; wide


def neck_ratio(photo, detector, predictor):
    """The neck's lightness over the cheeks' of a uint8 RGB photo, or None (no face, turned, the neck cut off)."""
    faces = detector(photo, 1)
    if not faces:
        return None
    points = np.array([(p.x, p.y) for p in predictor(photo, faces[0]).parts()], np.float64)
    left, right = age_shape.eye_centres(points)
    iod = age_shape.eye_distance(points)
    chin_x, chin_y = points[8]
    if age_shape.landmark_turn(points) > MAX_TURN or chin_y + NECK[1] * iod >= len(photo):
        return None
    lightness = cv2.cvtColor(photo, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
    rows = slice(int((left[1] + right[1]) / 2 + 0.35 * iod), int(points[33, 1]))
    cheeks = np.concatenate([lightness[rows, int(x - 0.15 * iod):int(x + 0.15 * iod)].ravel()
                             for x in (left[0] + 0.05 * iod, right[0] - 0.05 * iod)])
    neck = lightness[int(chin_y + NECK[0] * iod):int(chin_y + NECK[1] * iod),
                     int(chin_x - WIDTH / 2 * iod):int(chin_x + WIDTH / 2 * iod)]
    return float(np.median(neck) / np.median(cheeks))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('folder', help='a folder of photos with photos.csv (file,age,gender)')
    folder = parser.parse_args().folder
    detector, predictor = dlib.get_frontal_face_detector(), age_shape.predictor()
    ratios = []
    for path, age, _ in photo_eval.photo_rows(folder):
        try:
            ratio = neck_ratio(np.asarray(load_image(path)), detector, predictor) if age <= MAX_AGE else None
        except InputError as error:
            print(f'skipped: {error}')
            continue
        if ratio is not None:
            ratios.append(ratio)
            print(f'{Path(path).name}: {ratio:.2f}')
    print(f'median of {len(ratios)} children: {np.median(ratios):.2f}' if ratios else 'no child shows a neck')


if __name__ == '__main__':
    main()
