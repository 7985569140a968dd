"""The ablation table (markdown) from tools/ablation.sh's eval.json files: python tools/ablation_table.py OUT full age=0 ..."""
import json
import os
import sys

COLUMNS = (('renders_age_within_one', 'age within one', '.2f'), ('renders_mean_age_per_asked_group', '71+ age', '.1f'),
           ('identity_adult_renders_verified', 'identity (adult renders)', '.2f'),
           ('identity_reconstruction_verified', 'identity (reconstruction)', '.2f'), ('l1', 'L1', '.4f'),
           ('delta_e_mean_colour_own_age', 'skin delta E', '.2f'), ('kid_renders_vs_real', 'KID', '.3f'))


def row(name, result):
    cells = []
    for key, _, spec in COLUMNS:
        value = result[key][-1] if isinstance(result[key], list) else result[key]
        cells.append('n/a' if value is None else format(value, spec))  # e.g. KID with too few faces a group
    return f'| {name} | ' + ' | '.join(cells) + ' |'


def main(out, variants):
    print('| variant | ' + ' | '.join(title for _, title, _ in COLUMNS) + ' |')
    print('|---' * (len(COLUMNS) + 1) + '|')
    for variant in variants:
        path = os.path.join(out, variant.split('=')[0], 'eval', 'eval.json')
        with open(path) as f:
            print(row('full recipe' if variant == 'full' else variant, json.load(f)))


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2:])
