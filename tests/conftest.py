"""Shared fixtures: a handful of real UTKFace images from the bundled sample, in a temporary folder."""
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / 'data' / 'UTKFace' / 'unlabeled'
SHARED_UTKFACE = REPO.parent / 'shared' / 'UTKFace'
sys.path.insert(0, str(REPO))


def copy_sample(dest, count):
    """Copy `count` bundled sample images (spread over the age groups) into `dest`; returns `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    names = sorted(p.name for p in SAMPLE.iterdir())
    for name in names[::max(1, len(names) // count)][:count]:
        shutil.copy(SAMPLE / name, dest / name)
    return dest


@pytest.fixture
def raw_faces(tmp_path):
    """A folder of 12 raw UTKFace files."""
    return copy_sample(tmp_path / 'raw', 12)
