"""Where the person is in a photo (head, hair, body; not what is behind them): MediaPipe's selfie segmentation network
(its general 256x256 model, Apache-2.0: trained_models/person_segmenter/README.md), run by OpenCV's dnn module; and
where another person beside them is (other_people: the map does not tell two people apart).

The hair masks keep to the person (hair.hair_mask): judged by colour alone, a dark wall or chair beside a dark-haired
head greyed with the hair, and hair that filled the corner where the background is sampled was taken for it. So does
every other change to a photo (photo_aging.PhotoAger, by `wholly`): dlib puts a profile's landmarks on the wall in
front of it, and G's change drawn on them streaked the wall.
"""
import functools
import os
import threading

import cv2
import numpy as np

import face_detect

MODEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'trained_models', 'person_segmenter',
                     'selfie_segmentation.tflite')
SIDE = 256  # the network reads a SIDE x SIDE RGB image in [0, 1]
SURE = 0.5  # a pixel the map gives this much or more is wholly the person's (wholly)
OTHER_FACE = (40, 0.4, 8.0, 0.92)  # px: faces looked for; another this share of the face's width or more is beside
                                   # it (smaller: far behind); px: how softly its part ends; nearer by this share
_network_lock = threading.Lock()  # one network for all the page's threads: a dnn Net runs one forward at a time


@functools.lru_cache(maxsize=1)
def network():
    return cv2.dnn.readNetFromTFLite(MODEL)


def person_map(image):
    """float32 of an RGB uint8 image's size: how surely each pixel is the person's (0 to 1)."""
    blob = cv2.dnn.blobFromImage(np.float32(image) / 255, 1.0, (SIDE, SIDE))
    with _network_lock:
        net = network()
        net.setInput(blob)
        person = net.forward()[0, 0]
    return cv2.resize(person, image.shape[1::-1], interpolation=cv2.INTER_LINEAR)


def wholly(person, grown=0.0):
    """How wholly each pixel of a person map (person_map) is the person's: 1 from SURE up, falling to 0 with it, and
    1 up to `grown` pixels around that (the shape of age moves the outline: a child's cheeks widen)."""
    whole = np.clip(person / SURE, 0, 1)
    radius = int(np.ceil(grown))
    return cv2.dilate(whole, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)) if radius else whole


def other_people(image, centre):
    """float32 of a uint8 RGB image's size (a padded face): 1 where another person's face that face_detect finds in
    it (OTHER_FACE) is nearer, for the faces' widths, than the face found at `centre` (x, y), softly 0 elsewhere: a
    neighbour's hair and top cheek to cheek with the face (the person map holds both) greyed with its hair."""
    faces = face_detect.find_faces(image, min_face=OTHER_FACE[0])
    inside = [face for face in faces if holds(face, centre)]
    others = np.zeros(image.shape[:2], np.float32)
    if not inside:
        return others
    rows, columns = np.mgrid[:image.shape[0], :image.shape[1]]
    own = inside[0]
    own_widths = OTHER_FACE[3] * widths_from(own, rows, columns)
    for face in faces:
        same = any(holds(found, middle(face)) for found in inside)  # the face itself, found again
        if face.box[2] >= OTHER_FACE[1] * own.box[2] and not same:
            others[widths_from(face, rows, columns) < own_widths] = 1
    return cv2.GaussianBlur(others, (0, 0), OTHER_FACE[2])


def middle(face):
    """The (x, y) centre of a face_detect.Face's box."""
    x, y, width, height = face.box
    return x + width / 2, y + height / 2


def holds(face, point):
    """Whether a face_detect.Face's box holds a point (x, y)."""
    x, y, width, height = face.box
    return 0 <= point[0] - x < width and 0 <= point[1] - y < height


def widths_from(face, rows, columns):
    """Each pixel's distance (`rows`, `columns`: np.mgrid's) from a face's box's centre in its box's widths."""
    x, y = middle(face)
    return np.hypot(columns - x, rows - y) / face.box[2]
