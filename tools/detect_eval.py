"""Face detection and framing on real photos: how many photos give a face, per age bin, how long a photo takes, and
where the framed face's eyes land against UTKFace's.

    python tools/detect_eval.py FOLDER [--candidates]    # FOLDER: FairFace's ground_truth.json or a photos.csv
    python tools/detect_eval.py FOLDER --framing ../shared/UTKFace
    python tools/detect_eval.py FOLDER --time photos/biden_2010.jpg    # align.align_face on one photo, median of -n

--candidates also runs the detectors align was chosen against (OpenCV's Haar cascade as align used it before, dlib's
HOG and CNN detectors at the sizes that keep them fastest). --framing frames every photo found, and the faces that
the shipped model's training held out (its run.json), and judges where the eyes land in the 200-px chip with a
detector that is not align's (dlib's HOG detector and its 5-point landmarks): the distance, in chip pixels, of each
eye from where it lies on UTKFace's own held-out chips (their median).
"""
import argparse
import csv
import importlib.util
import json
import os
import sys
import time
from collections import defaultdict

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import align  # noqa: E402
from images import load_image  # noqa: E402

SHIPPED_RUN = 'trained_models/utkface_z50_plus/run.json'


def labelled_photos(folder):
    """(path, label) of every photo: FairFace's age bin from ground_truth.json, else photos.csv's age."""
    if os.path.isfile(os.path.join(folder, 'ground_truth.json')):
        with open(os.path.join(folder, 'ground_truth.json')) as f:
            return [(os.path.join(folder, r['filename']), r['age']) for r in json.load(f)]
    with open(os.path.join(folder, 'photos.csv'), newline='') as f:
        return [(os.path.join(folder, r['file']), r['age']) for r in csv.DictReader(f)]


def dlib_models():
    """dlib's HOG and CNN face detectors and its 5-point landmark model (face-recognition-models' files)."""
    import dlib
    models = os.path.join(os.path.dirname(importlib.util.find_spec('face_recognition_models').origin), 'models')
    return (dlib.get_frontal_face_detector(), dlib.cnn_face_detection_model_v1(f'{models}/mmod_human_face_detector.dat'),
            dlib.shape_predictor(f'{models}/shape_predictor_5_face_landmarks.dat'))


def shrunk(rgb, side):
    """rgb scaled down to at most `side` pixels on its long side."""
    scale = min(1.0, side / max(rgb.shape[:2]))
    return cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else rgb


def candidates():
    """name -> function(rgb) giving how many faces a detector finds."""
    hog, cnn, _ = dlib_models()
    haar = cv2.CascadeClassifier(cv2.data.haarcascades + 'haarcascade_frontalface_alt2.xml')

    def haar_faces(rgb):
        grey = cv2.cvtColor(shrunk(rgb, 1024), cv2.COLOR_RGB2GRAY)
        pad = round(0.2 * min(grey.shape))
        return len(haar.detectMultiScale(cv2.copyMakeBorder(grey, *[pad] * 4, cv2.BORDER_REPLICATE), 1.1, 5))
    return {'align (MTCNN)': lambda rgb: len(align.find_faces(rgb)),
            'Haar alt2 (align before)': haar_faces,
            'dlib HOG, 448 px': lambda rgb: len(hog(shrunk(rgb, 448), 0)),
            'dlib CNN (MMOD), 224 px': lambda rgb: len(cnn(shrunk(rgb, 224), 0))}


def detection_table(photos, detectors):
    """Print, per detector, the photos with a face per label and in all, the time a photo, and the misses."""
    labels = sorted({label for _, label in photos}, key=lambda b: int(str(b).split('-')[0].rstrip('+')))
    print('| detector | ' + ' | '.join(map(str, labels)) + ' | all | ms a photo |')
    print('|---' * (len(labels) + 3) + '|')
    for name, detect in detectors.items():
        found, seen, seconds, missed = defaultdict(int), defaultdict(int), 0.0, []
        for path, label in photos:
            rgb = np.asarray(load_image(path))
            start = time.perf_counter()
            faces = detect(rgb)
            seconds += time.perf_counter() - start
            seen[label] += 1
            found[label] += faces > 0
            if not faces:
                missed.append(os.path.basename(path))
        cells = ' | '.join(f'{found[b]}/{seen[b]}' for b in labels)
        print(f'| {name} | {cells} | {sum(found.values())}/{len(photos)} | {1000 * seconds / len(photos):.0f} |')
        if 0 < len(missed) <= 20:
            print(f'<!-- {name} missed: {" ".join(missed)} -->')


def judged_eyes(chip, judge):
    """The two eye centres dlib finds in a 200-px chip (bordered, as chips touch the face), or None."""
    hog, _, shape_predictor = judge
    pad = 40
    padded = cv2.copyMakeBorder(np.ascontiguousarray(chip), *[pad] * 4, cv2.BORDER_REPLICATE)
    found = hog(padded, 1)
    if not found:
        return None
    box = max(found, key=lambda r: r.width())
    points = np.array([(p.x, p.y) for p in shape_predictor(padded, box).parts()], float) - pad
    eyes = sorted([points[0:2].mean(0), points[2:4].mean(0)], key=lambda e: e[0])
    return np.array(eyes)


def framed_chip(image):
    """The photo's face framed by align, as a 200-px chip."""
    aligned = align.align_face(Image.fromarray(image))
    return align.chip_pixels(image, align.chip_transform(aligned.landmarks))


def eye_errors(images, reference, judge):
    """Per image that is framed and judged: the larger of its two eyes' distances (chip px) from `reference`."""
    errors = []
    for image in images:
        try:
            eyes = judged_eyes(framed_chip(image), judge)
        except ValueError:
            continue
        if eyes is not None:
            errors.append(float(np.linalg.norm(eyes - reference, axis=1).max()))
    return np.array(errors)


def framing_report(photos, utkface):
    """Print where the eyes of framed faces land against UTKFace's held-out chips' own eyes."""
    judge = dlib_models()
    with open(SHIPPED_RUN) as f:
        held_out = [os.path.join(utkface, name) for name in json.load(f)['validation']]
    chips = [np.asarray(load_image(path)) for path in held_out]
    own = [e for e in (judged_eyes(cv2.resize(c, (align.CHIP_SIZE,) * 2), judge) for c in chips) if e is not None]
    reference = np.median(own, 0)
    print(f'UTKFace held-out chips ({len(own)} of {len(chips)} judged): eyes at {reference.round(1).tolist()} '
          f'(align.TEMPLATE says {(align.TEMPLATE[:2] * align.CHIP_SIZE).round(1).tolist()})')
    spread = np.linalg.norm(np.array(own) - reference, axis=2).max(1)
    print(f'  the chips themselves: median {np.median(spread):.1f} px, 90th percentile {np.percentile(spread, 90):.1f}')
    for name, images in (('UTKFace held-out chips, framed by align', chips),
                         ('the photos, framed by align', [np.asarray(load_image(p)) for p, _ in photos])):
        errors = eye_errors(images, reference, judge)
        print(f'{name} ({len(errors)} judged): eye off by median {np.median(errors):.1f} px, '
              f'90th percentile {np.percentile(errors, 90):.1f} px of a {align.CHIP_SIZE}-px chip')


def time_framing(path, repeats):
    """Print the median time of align.align_face (detection, landmarks, framing; decoding left out) on a photo."""
    image = load_image(path)
    align.align_face(image)  # loads the networks
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        align.align_face(image)
        seconds.append(time.perf_counter() - start)
    print(f'{path} ({image.width}x{image.height}): detection, landmarks and framing median '
          f'{1000 * np.median(seconds):.0f} ms, fastest {1000 * min(seconds):.0f} ms over {repeats}')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('folder', help='photos with ground_truth.json (FairFace) or photos.csv')
    parser.add_argument('--candidates', action='store_true', help='also the detectors align was measured against')
    parser.add_argument('--framing', metavar='UTKFACE', help="judge the framing against UTKFace's held-out chips")
    parser.add_argument('--limit', type=int, help='only the first N photos')
    parser.add_argument('--time', metavar='PHOTO', help='time align.align_face on this photo')
    parser.add_argument('-n', type=int, default=20, help='repeats for --time')
    args = parser.parse_args(argv)
    photos = labelled_photos(args.folder)[:args.limit]
    detection_table(photos, candidates() if args.candidates else
                    {'align (MTCNN)': lambda rgb: len(align.find_faces(rgb))})
    if args.framing:
        framing_report(photos, args.framing)
    if args.time:
        time_framing(args.time, args.n)


if __name__ == '__main__':
    main()
