"""The README's pictures of aged photos, cut from the contact sheets that `--mode eval` on photos/ writes.

    for m in compose hair prototype texture; do python main.py --mode eval --input photos --photo-method $m --output results/eval_photos_$m; done
    python main.py --mode test --input photos/obama_2012.jpg --age 51 --gender m --output results/obama_2012
    python tools/doc_photos.py results/eval_photos_ --methods compose hair prototype texture --aged results/obama_2012 --out doc
writes doc/photo_aging.jpg (six photos at the ten ages, by the last method: photo_aging's default),
doc/photo_aging_candidates.jpg (one photo by each method) and doc/photo_aging_full_size.jpg (one photo's face region as it is, at 0-5 and at 71+, at the
photo's own resolution, as the command line writes them).
"""
import argparse
import csv
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import align  # noqa: E402
import photo_eval  # noqa: E402
from face_region import face_region  # noqa: E402
from images import load_image, save_jpeg  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
HEADER = 24
ROW = photo_eval.SHEET_HEIGHT + 4
SIX = ('obama_2012.jpg', 'hopper_1984.jpg', 'waters_2022.jpg', 'kim_2022.jpg', 'frost_2022.jpg', 'fairface_0200.jpg')
METHODS = ('paste', 'change', 'compose')  # the candidates' picture's methods, unless --methods


def photo_order(folder):
    """The photos' file names in photos.csv's order (the contact sheet's rows)."""
    with open(Path(folder) / photo_eval.PHOTOS_CSV, newline='') as f:
        return [row['file'] for row in csv.DictReader(f)]


def sheet_rows(sheet_path, order, names):
    """The contact sheet's header and the rows of `names`, stacked: a uint8 array."""
    sheet = np.asarray(Image.open(sheet_path).convert('RGB'))
    rows = [sheet[:HEADER]]
    for name in names:
        top = HEADER + order.index(name) * ROW
        rows.append(sheet[top:top + ROW])
    return np.concatenate(rows)


def full_size(photo, aged_folder, groups=(0, 9)):
    """The photo's face region, then that of the command line's <stem>_aged_<k>.jpg for each group, at the photo's
    own resolution, side by side: a uint8 array."""
    framed = align.align_face(load_image(photo))
    region = face_region(framed.crop_box, framed.photo.size)
    stem = Path(photo).name.split('.')[0]
    pictures = [framed.photo] + [load_image(Path(aged_folder) / f'{stem}_aged_{k}.jpg') for k in groups]
    return np.concatenate([np.asarray(p.crop(region)) for p in pictures], axis=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('prefix', help='the eval output folders, without the method name (e.g. results/eval_photos_)')
    parser.add_argument('--photos', default=str(REPO / 'photos'))
    parser.add_argument('--aged', default=None, help="the command line's output folder for SIX[0] (full-size picture)")
    parser.add_argument('--out', default=str(REPO / 'doc'))
    parser.add_argument('--methods', nargs='+', default=METHODS,
                        help="the candidates' picture's methods, in order; the last (the default) makes the top picture")
    args = parser.parse_args()
    order = photo_order(args.photos)
    sheet = lambda method: f'{args.prefix}{method}/contact_sheet.jpg'
    default = sheet(args.methods[-1])
    save_jpeg(Image.fromarray(sheet_rows(default, order, SIX)), f'{args.out}/photo_aging.jpg', quality=88)
    candidates = [sheet_rows(sheet(method), order, SIX[:1])[HEADER:] for method in args.methods]
    header = sheet_rows(default, order, [])
    save_jpeg(Image.fromarray(np.concatenate([header] + candidates)), f'{args.out}/photo_aging_candidates.jpg', quality=88)
    print(f'{args.out}/photo_aging.jpg', f'{args.out}/photo_aging_candidates.jpg', sep='\n')
    if args.aged:
        picture = full_size(Path(args.photos) / SIX[0], args.aged)
        print(save_jpeg(Image.fromarray(picture), f'{args.out}/photo_aging_full_size.jpg', quality=90))


if __name__ == '__main__':
    main()
