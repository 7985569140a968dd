"""Sort raw UTKFace files into <age_group>.<gender>/ class folders (copies; the source is never changed).

    python utk_labeler.py SOURCE [DEST]     # DEST defaults to SOURCE/../labeled

Idempotent: files already sorted are counted as 'already there' and not copied again.
"""
import argparse
import logging
import os
import sys

import utils
from data import sort_to_classes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('source', help='folder of raw UTKFace files ([age]_[gender]_[race]_[date&time].jpg.chip.jpg)')
    parser.add_argument('dest', nargs='?', help='where the class folders go (default: SOURCE/../labeled)')
    args = parser.parse_args(argv)
    dest = args.dest or os.path.join(os.path.dirname(os.path.abspath(args.source)), 'labeled')
    try:
        if not utils.is_writable_folder(dest):
            raise utils.InputError(f'{dest}: cannot write there')
        log_path = os.path.join(dest, 'labeler.log')
        logging.basicConfig(filename=log_path, level=logging.INFO, format='%(asctime)s %(message)s')
        counts, skipped = sort_to_classes(args.source, dest)
    except utils.InputError as e:
        sys.exit(f'error: {e}')
    print(f'{dest}: ' + ', '.join(f'{v} {k}' for k, v in counts.items())
          + (f' (skipped names in {log_path})' if skipped else ''))


if __name__ == '__main__':
    main()
