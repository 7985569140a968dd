"""Shared fixtures: real UTKFace images from the bundled sample, and a briefly trained checkpoint."""
import importlib.util
import shutil
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / 'data' / 'UTKFace' / 'unlabeled'
SHARED_UTKFACE = REPO.parent / 'shared' / 'UTKFace'
sys.path.insert(0, str(REPO))  # the modules live at the repository root

import consts  # noqa: E402
import data  # noqa: E402
import images  # noqa: E402
import recipes  # noqa: E402
import train  # noqa: E402

AGING_TILE, OTHER_TILE = 128 + 2 * 4, 128  # the aging game pads each face by 4 pixels


SLOW_FIXTURES = {'running_app', 'served', 'browser'}  # tests that start the page or a browser


def pytest_collection_modifyitems(items):
    """Mark every test that starts the page or a browser as slow (`-m "not slow"` leaves them out)."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, 'fixturenames', ())):
            item.add_marker(pytest.mark.slow)


def strip_size(tiles, tile):
    """(width, height) of a game's strip: `tiles` images of side `tile` in one row, 2 pixels apart."""
    return tiles * (tile + 2) + 2, tile + 4


def load_tool(name):
    """The module tools/<name>.py (the tools are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, REPO / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # importable by name, so that a process pool can pickle its functions
    spec.loader.exec_module(module)
    return module


def run_notebook(name):
    """Execute <name>.ipynb top to bottom from the repository root; returns the executed notebook."""
    nb = nbformat.read(REPO / f'{name}.ipynb', as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name='python3', resources={'metadata': {'path': str(REPO)}}).execute()
    return nb


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


@pytest.fixture(scope='session')
def games_checkpoint(tmp_path_factory):
    """E.dat and G.dat of a Net trained for two steps on four bundled faces: enough to play the games."""
    consts.NUM_Z_CHANNELS = 50
    from model import Net
    torch.manual_seed(0)
    paths = sorted(SAMPLE.iterdir())[::50]
    faces = torch.stack([images.pil_to_model_tensor_transform(images.load_image(p)) for p in paths])
    ages, genders, _ = zip(*(data.parse_utkface_name(p.name) for p in paths))
    labels = data.label_tensor([data.age_to_group(a) for a in ages], genders)
    net = Net()
    optimizers = train.make_optimizers(net, train.TrainConfig())
    for _ in range(2):
        recipes.reference_step(net, optimizers, net.images_to_device(faces), labels.to(net.device))
    return net.save(str(tmp_path_factory.mktemp('games_checkpoint')), networks=('E', 'G'))


@pytest.fixture(scope='session')
def astronaut(tmp_path_factory):
    """The scikit-image astronaut (a NASA portrait, public domain) as a JPEG photo file."""
    from skimage import data
    path = tmp_path_factory.mktemp('photos') / 'astronaut.jpg'
    Image.fromarray(data.astronaut()).save(path, quality=95)
    return path


POSTSCRIPT = b'''%!PS-Adobe-3.0 EPSF-3.0
%%BoundingBox: 0 0 64 64
/Helvetica findfont 12 scalefont setfont 8 30 moveto (hostile) show
showpage
%%EOF
'''


def hostile_files(folder, suffixes=('.jpg', '.png')):
    """{name: path} of files that Pillow's other plugins would open, under photo names: EPS (Ghostscript runs on
    load), plain PostScript and a PDF."""
    folder.mkdir(parents=True, exist_ok=True)
    contents = {'eps': POSTSCRIPT, 'ps': POSTSCRIPT.replace(b' EPSF-3.0', b''),
                'pdf': b'%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'}
    files = {}
    for kind, content in contents.items():
        for suffix in suffixes:
            path = folder / f'{kind}_photo{suffix}'
            path.write_bytes(content)
            files[f'{kind} as {suffix}'] = path
    return files


@pytest.fixture
def no_subprocess(monkeypatch):
    """Every program started through subprocess is recorded and refused; the test asserts the list stays empty."""
    import subprocess
    started = []

    def refuse(*args, **kwargs):
        started.append(args[0] if args else kwargs.get('args'))
        raise RuntimeError('a subprocess was started')
    for name in ('Popen', 'check_call', 'check_output', 'call', 'run'):
        monkeypatch.setattr(subprocess, name, refuse)
    return started
