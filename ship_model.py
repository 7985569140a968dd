"""Publish a trained epoch as the shipped model, with its quality numbers and the README's pictures.

    python ship_model.py RUN/epoch50 --input ../shared/UTKFace

Writes fp16 E.dat and G.dat (loading converts them to fp32), the run's run.json, losses.png, validation.png
(16 faces of the last grid) and eval.json into --dest (the games' model by default), and regenerates --doc:
the validation GIF (the same 16 faces over at most 12 epochs), the loss curves of the run, and an aging strip
(plain, personalised to the face as the command line's aging game does, and with keep-details), a morph and a
kids row for faces of the validation batch (never trained on). The validation faces are those named in the run's
run.json (for an older run without one: the split of --batch-size and --seed).
MODEL.md is written by hand from what this prints.
"""
import argparse
import json
import os
import shutil

import torch

import checkpoints
import consts
import estimators
import games
import evaluate
import personalise
import utils
from data import FaceDataset, age_to_group, parse_utkface_name
from images import PREVIEW_BOX, gif_beside, read_image, save_png, save_validation_gif, to_model_range, top_left
from model import Net


def play_games(net, dataset, idx, doc, classifier):
    """An aging strip (plain, personalised with `classifier` and with keep-details), a morph from the youngest to
    the oldest face, and kids of two faces, into `doc`."""
    ages = dataset.age_groups[idx]
    young, old = idx[ages.argmin()], idx[ages.argmax()]
    faces = to_model_range(dataset.images_tensor(torch.stack([young, old])))
    names = [dataset.names[i] for i in (young, old)]
    (age_young, gender_young, _), (age_old, gender_old, _) = (parse_utkface_name(n) for n in names)
    made = {
        'aging_game': net.test_single(faces[1], age_old, gender_old, doc, watermark=True),
        'aging_game_personalised': games.aging(
            personalise.personalised(net, faces[1], age_to_group(age_old), gender_old, classifier), faces[1], age_old,
            gender_old, os.path.join(doc, 'personalised'), watermark=True),
        'aging_game_keep_details': games.aging(net, faces[1], age_old, gender_old, os.path.join(doc, 'keep_details'),
                                               watermark=True, keep_details=True),
        'morph_game': net.morph(faces, (age_young, age_old), (gender_young, gender_old), 10, doc),
        'kids_game': net.kids(faces, 10, doc, seed=0),
    }
    for name, png in made.items():
        os.replace(png, os.path.join(doc, name + '.png'))
        os.remove(gif_beside(png))  # the README shows the strips
    for folder in ('personalised', 'keep_details'):
        os.rmdir(os.path.join(doc, folder))
    return names


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('epoch_folder', help='an epoch<N> folder of a training run (E.dat and G.dat)')
    parser.add_argument('--input', '-i', default=consts.DEFAULT_DATASET, help='the dataset the run trained on')
    parser.add_argument('--batch-size', '--bs', dest='batch_size', default=128, type=int,
                        help="the run's batch size (only for a run without run.json)")
    parser.add_argument('--seed', default=0, type=int, help="the run's seed (only for a run without run.json)")
    parser.add_argument('--dest', default=consts.SHIPPED_MODEL, help='where the shipped model goes')
    parser.add_argument('--doc', default='doc', help="where the README's pictures go")
    parser.add_argument('--age-classifier', dest='age_classifier', default=estimators.DEFAULT_FOLDER, metavar='FOLDER',
                        help='the age classifier that personalising the aging strip uses (classifier.pt)')
    args = parser.parse_args(argv)
    try:
        run = os.path.dirname(os.path.abspath(args.epoch_folder))
        dataset = FaceDataset.from_folder(args.input)
        idx, _ = evaluate.held_out_rows(dataset, args.epoch_folder, args.batch_size, args.seed)
        checkpoints.export_for_games(args.epoch_folder, args.dest)
        record = checkpoints.find_run_record(args.epoch_folder)
        if record:
            checkpoints.save_json(record, os.path.join(args.dest, consts.RUN_RECORD))
        shipped = Net.from_checkpoint(args.dest)  # what users get
        shipped.eval()
        os.makedirs(args.doc, exist_ok=True)
        for folder in (args.dest, args.doc):
            shutil.copyfile(os.path.join(args.epoch_folder, 'losses.png'), os.path.join(folder, 'losses.png'))
        grid = read_image(os.path.join(args.epoch_folder, 'validation.png'))
        save_png(top_left(grid, PREVIEW_BOX), os.path.join(args.dest, 'validation.png'))
        save_validation_gif(run, os.path.join(args.doc, 'validation.gif'), box=PREVIEW_BOX, max_side=768, max_frames=12)
        result = evaluate.evaluate_model(shipped, dataset, idx)
        checkpoints.save_json(result, os.path.join(args.dest, 'eval.json'))
        faces = play_games(shipped, dataset, idx, args.doc, estimators.load('classifier', args.age_classifier))
    except (utils.InputError, FileNotFoundError) as e:
        raise SystemExit(f'error: {e}')
    print(json.dumps(result, indent=2))
    print(f'games played with {faces[0]} and {faces[1]} (validation faces); files in {args.dest} and {args.doc}')


if __name__ == '__main__':
    main()
