import glob
import os
import sys

import pytest
import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)  # the modules live at the repository root

import consts  # noqa: E402
import utils  # noqa: E402


@pytest.fixture(scope='session')
def games_checkpoint(tmp_path_factory):
    """E.dat and G.dat of a Net trained for two steps on four bundled faces: enough to play the games."""
    consts.NUM_Z_CHANNELS = 50
    from model import Net
    torch.manual_seed(0)
    paths = sorted(glob.glob(os.path.join(REPO, 'data', 'UTKFace', 'unlabeled', '*.jpg')))[::50]
    images = torch.stack([utils.pil_to_model_tensor_transform(utils.load_image(p)) for p in paths])
    ages, genders, _ = zip(*map(utils.parse_utkface_name, paths))
    labels = utils.label_tensor([utils.age_to_group(a) for a in ages], genders)
    net = Net()
    for _ in range(2):
        net.teach_step(net.images_to_device(images), labels.to(net.device))
    return net.save(str(tmp_path_factory.mktemp('games_checkpoint')), networks=('E', 'G'))
