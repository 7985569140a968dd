"""Pack what a GPU training run must send back: the newest complete epoch's E and G as fp16, and the pictures.

    python tools/pack_run.py RUN WEIGHTS PICTURES

WEIGHTS/epoch<N>/{E,G}.dat (N: the newest epoch with networks, losses and a validation grid); PICTURES holds
the run's log, arguments and run.json, the 16-face corner of at most 12 evenly spread validation grids and of
the last one (what ship_model.py animates), and the last epoch's losses. Prints the epoch folder's name.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import checkpoints  # noqa: E402
import consts  # noqa: E402
from images import PREVIEW_BOX, read_image, save_png, top_left, validation_grids  # noqa: E402


def main(run, weights, pictures):
    last = checkpoints.latest_epoch_with(run, ('E.dat', 'G.dat', 'losses.json', 'validation.png'))
    if last is None:
        raise SystemExit(f'error: {run}: no complete epoch')
    name = os.path.basename(last)
    checkpoints.export_for_games(last, os.path.join(weights, name))
    os.makedirs(os.path.join(pictures, name), exist_ok=True)
    for kept in ('log.txt', 'session_arguments.txt', consts.RUN_RECORD):
        if os.path.exists(os.path.join(run, kept)):
            shutil.copy(os.path.join(run, kept), pictures)
    for grid in set(validation_grids(run, 12) + [os.path.join(last, 'validation.png')]):
        folder = os.path.join(pictures, os.path.basename(os.path.dirname(grid)))
        save_png(top_left(read_image(grid), PREVIEW_BOX), os.path.join(folder, 'validation.png'))
    for kept in ('losses.json', 'losses.png'):
        shutil.copy(os.path.join(last, kept), os.path.join(pictures, name))
    print(name)


if __name__ == '__main__':
    main(*sys.argv[1:])
