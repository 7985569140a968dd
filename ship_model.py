"""Publish a trained epoch as the shipped model, with its quality numbers and the README's pictures.

    python ship_model.py /work/runs/utkface_z50/epoch50 --input ../shared/UTKFace

Writes fp16 E.dat and G.dat (loading converts them to fp32), losses.png, validation.png (16 faces of the
last grid) and eval.json into trained_models/utkface_z50/, and regenerates doc/: the validation GIF (the
same 16 faces over at most 12 epochs), the loss curves of the run, and an aging strip, a morph and a kids
row for faces of the validation batch (never trained on).
MODEL.md is written by hand from what this prints.
"""
import argparse
import json
import os
import shutil

import torch
from PIL import Image

import consts
import metrics
import utils
from model import Net

CELL = consts.IMAGE_LENGTH + 2  # a face and the grid's padding
PREVIEW_BOX = (8 * CELL + 2, 4 * CELL + 2)  # top-left of a validation grid: 16 faces beside their reconstructions


def play_games(net, dataset, idx, doc):
    """An aging strip, a morph from the youngest to the oldest face, and kids of two faces, into `doc`."""
    ages = dataset.age_groups[idx]
    young, old = idx[ages.argmin()], idx[ages.argmax()]
    faces = utils.to_model_range(dataset.images_tensor(torch.stack([young, old])))
    names = [dataset.names[i] for i in (young, old)]
    (age_young, gender_young, _), (age_old, gender_old, _) = (utils.parse_utkface_name(n) for n in names)
    made = {
        'aging_game': net.test_single(faces[1], age_old, gender_old, doc, watermark=True),
        'morph_game': net.morph(faces, (age_young, age_old), (gender_young, gender_old), 10, doc),
        'kids_game': net.kids(faces, 10, doc, seed=0),
    }
    for name, png in made.items():
        os.replace(png, os.path.join(doc, name + '.png'))
        os.remove(utils.gif_beside(png))  # the README shows the strips
    return names


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('epoch_folder', help='an epoch<N> folder of a training run (E.dat and G.dat)')
    parser.add_argument('--input', '-i', default=consts.DEFAULT_DATASET, help='the dataset the run trained on')
    parser.add_argument('--batch-size', '--bs', dest='batch_size', default=128, type=int, help="the run's batch size")
    parser.add_argument('--seed', default=0, type=int, help="the run's seed")
    parser.add_argument('--dest', default=consts.SHIPPED_MODEL, help='where the shipped model goes')
    parser.add_argument('--doc', default='doc', help="where the README's pictures go")
    args = parser.parse_args(argv)
    try:
        net = Net().load(args.epoch_folder, slim=True)
        net.eval()
        run = os.path.dirname(os.path.abspath(args.epoch_folder))
        os.makedirs(args.doc, exist_ok=True)
        net.save(args.dest, networks=('E', 'G'), dtype=torch.float16)
        shipped = Net().load(args.dest, slim=True)  # what users get: fp16 weights back in fp32
        shipped.eval()
        shutil.copyfile(os.path.join(args.epoch_folder, 'losses.png'), os.path.join(args.dest, 'losses.png'))
        grid = Image.open(os.path.join(args.epoch_folder, 'validation.png'))
        utils.save_png(utils.top_left(grid, PREVIEW_BOX), os.path.join(args.dest, 'validation.png'))
        shutil.copyfile(os.path.join(args.epoch_folder, 'losses.png'), os.path.join(args.doc, 'losses.png'))
        utils.save_validation_gif(run, os.path.join(args.doc, 'validation.gif'), box=PREVIEW_BOX, max_side=768,
                                  max_frames=12)
        dataset = utils.FaceDataset.from_folder(args.input)
        idx = metrics.held_out_rows(dataset, args.batch_size, args.seed)
        result = metrics.evaluate_rows(shipped, dataset, idx)
        with utils.atomic_path(os.path.join(args.dest, 'eval.json')) as tmp, open(tmp, 'w') as f:
            json.dump(result, f, indent=2)
        faces = play_games(shipped, dataset, idx, args.doc)
    except (utils.InputError, FileNotFoundError) as e:
        raise SystemExit(f'error: {e}')
    print(json.dumps(result, indent=2))
    print(f'games played with {faces[0]} and {faces[1]} (validation faces); files in {args.dest} and {args.doc}')


if __name__ == '__main__':
    main()
