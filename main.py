"""CAAE from the command line: train on UTKFace, then play with the trained model.

Train (one process; the fast path: channels_last, some layers computed another way, bf16 autocast where the
CPU or GPU runs bf16 faster than fp32; --precision fp32 forces full precision):
    python main.py --mode train --epochs 50 --input ../shared/UTKFace --output ./results/run1
Continue from a saved epoch (exactly: the same weights as one longer run; z length read from the checkpoint):
    python main.py --mode train --epochs 10 --load ./results/run1/epoch50 --output ./results/run1
Several processes or GPUs (DistributedDataParallel; gloo on CPU, nccl on CUDA):
    torchrun --nproc_per_node=4 main.py --mode train --epochs 50 --input ../shared/UTKFace
Several machines: add --nnodes=2 --node_rank=K --master_addr=HOST --master_port=29500 to torchrun.

Play the games (each writes a PNG and an animated GIF beside it, and prints both paths):
    python main.py --mode test --input face.jpg --age 38 --gender f --watermark
  (the aging game first fine-tunes a copy of G to the face: 20 steps for a photo, 40 for a UTKFace chip, see
   personalise.py; --personalise 0 skips it; a photo is also written aged to each group at its own size: photo_aging.py)
    python main.py --mode morph --input data/UTKFace/unlabeled/5_0_1_20170103205158426.jpg.chip.jpg \
                                        data/UTKFace/unlabeled/70_1_0_20170110124127878.jpg.chip.jpg
    python main.py --mode kids --input mother.jpg father.jpg --length 10 --seed 1
Measure a model on faces it never trained on (prints a table, writes eval.json):
    python main.py --mode eval --load trained_models/utkface_z50 --input ../shared/UTKFace
  with the age estimators (estimated ages of the renders, identity, skin tone, KID; see estimators.py):
    python main.py --mode eval --load trained_models/utkface_z50 --input ../shared/UTKFace \
                   --estimators trained_models/age_estimators --output results/eval_aging
  on a folder of photos with their ages (photos.csv): the photo aged at its own size, per group, a contact sheet
    python main.py --mode eval --input photos
"""
import argparse
import datetime
import logging
import os
import sys

import torch

import align
import checkpoints
import composition
import consts
import estimators
import evaluate
import games
import personalise
import photo_aging
import photo_eval
import recipes
import train
import utils
from data import FaceDataset, age_to_group, parse_utkface_name
from face_region import face_region
from images import gif_beside, pil_to_model_tensor_transform, save_gif, save_jpeg
from model import Net

GENDER_WORDS = {'m': consts.MALE, 'male': consts.MALE, '0': consts.MALE,
                'f': consts.FEMALE, 'female': consts.FEMALE, '1': consts.FEMALE}


def age_years(text):
    """argparse type: an age in years from 0 to MAX_AGE."""
    if not text.isdigit() or int(text) > consts.MAX_AGE:
        raise argparse.ArgumentTypeError(f'invalid age {text!r}: give whole years from 0 to {consts.MAX_AGE}')
    return int(text)


def gender_code(text):
    """argparse type: a gender word -> consts.MALE or consts.FEMALE."""
    if text.lower() not in GENDER_WORDS:
        raise argparse.ArgumentTypeError(f'invalid gender {text!r}: choose from {", ".join(GENDER_WORDS)}')
    return GENDER_WORDS[text.lower()]


def positive_int(text):
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f'invalid value {text!r}: give a whole number of at least 1')
    return int(text)


def steps_count(text):
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f'invalid value {text!r}: give a whole number of steps (0: none)')
    return int(text)


def loss_weight(text):
    """argparse type: NAME=VALUE, a loss weight of the recipe (checked against it once the recipe is known)."""
    name, _, value = text.partition('=')
    try:
        return name, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f'invalid weight {text!r}: give NAME=VALUE, VALUE a number') from None


def build_parser():
    parser = argparse.ArgumentParser(description='CAAE: age progression/regression by conditional adversarial autoencoder',
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--mode', choices=('train', 'eval') + tuple(games.GAMES), default='train', help='what to do')
    parser.add_argument('--epochs', '-e', default=1, type=int, help='epochs to train')
    parser.add_argument('--epoch-size', dest='epoch_size', default=None, type=positive_int, metavar='N',
                        help='train on the first N faces of each epoch\'s shuffle (None: all), for checkpoints more often')
    parser.add_argument('--models-saving', '--ms', dest='models_saving', default='always', choices=train.MODELS_SAVING,
                        help="which epochs keep their .dat files: all, the last, only the newest so far, none")
    parser.add_argument('--batch-size', '--bs', dest='batch_size', default=128, type=int,
                        help='images per step; one batch of this size is held out for validation')
    parser.add_argument('--weight-decay', '--wd', dest='weight_decay', default=1e-5, type=float, help="Adam's weight decay")
    parser.add_argument('--learning-rate', '--lr', dest='lr', default=2e-4, type=float, help="Adam's learning rate")
    parser.add_argument('--b1', '-b', dest='b1', default=0.5, type=float, help="Adam's beta1")
    parser.add_argument('--b2', '-B', dest='b2', default=0.999, type=float, help="Adam's beta2")
    parser.add_argument('--shouldplot', '--sp', dest='should_plot', action='store_true',
                        help='open a live loss plot window that redraws every epoch')
    parser.add_argument('--cpu', '-c', action='store_true', help='stay on the CPU even when CUDA is available')
    parser.add_argument('--precision', choices=('auto', 'fp32', 'bf16'), default='auto',
                        help='auto: bf16 autocast where the hardware runs it faster than fp32, else fp32')
    parser.add_argument('--load', '-l', default=None,
                        help='train: folder with E.dat, G.dat, Dz.dat, Dimg.dat to continue from; test, morph, kids: '
                             f'folder with E.dat and G.dat (None: the shipped model, {consts.SHIPPED_MODEL})')
    parser.add_argument('--recipe', choices=list(recipes.RECIPES), default='reference',
                        help='train: ' + '; '.join(f'{r.name}: {r.help}' for r in recipes.RECIPES.values())
                        + ' (recipes.py)')
    parser.add_argument('--weight', '--plus-weight', dest='weights', type=loss_weight, action='append',
                        metavar='NAME=VALUE', help='train: change one loss weight of the recipe (repeatable), e.g. '
                        '--recipe plus --weight age=0 for an ablation; ' + '; '.join(
                            f'{r.name}: {", ".join(recipes.weight_names(r))}' for r in recipes.RECIPES.values()))
    parser.add_argument('--init', default=None, metavar='FOLDER',
                        help='train: start a new run from the E.dat and G.dat in FOLDER (e.g. fine-tune the shipped '
                             'model); Dz and Dimg start fresh')
    parser.add_argument('--age-classifier', dest='age_classifier', default=train.TrainConfig.age_classifier,
                        metavar='FOLDER', help='train --recipe plus, test --personalise: the folder of the age classifier '
                        '(classifier.pt)')
    parser.add_argument('--input', '-i', nargs='+', default=None,
                        help=f'train: dataset folder (None: {consts.DEFAULT_DATASET}); test: one face image; '
                             'morph, kids: two face images')
    parser.add_argument('--output', '-o', default='',
                        help=f'results folder (train: ./trained_models/<date>/<time>; test, morph, kids: '
                             f'{consts.GAMES_RESULTS}/<mode>)')
    add_game_arguments(parser)
    parser.add_argument('-z', dest='z_channels', default=None, type=positive_int,
                        help=f'length of z of a new run (None: {consts.NUM_Z_CHANNELS}); with --load and for the games '
                             'and eval it is read from the checkpoint')
    parser.add_argument('--seed', default=None, type=int,
                        help='train: seed for the validation split and shuffling (None: 0); '
                             'kids: seed for the children (None: a new family every run)')
    return parser


def add_game_arguments(parser):
    """The options of the games and of --mode eval."""
    parser.add_argument('--age', nargs='+', type=age_years, metavar='YEARS',
                        help=f'test, morph: age of each input face, 0 to {consts.MAX_AGE} '
                             '(None: read from UTKFace file names)')
    parser.add_argument('--gender', nargs='+', type=gender_code, metavar='{m,f,male,female,0,1}',
                        help='test, morph: gender of each input face (None: read from UTKFace file names)')
    parser.add_argument('--watermark', action='store_true', help='test: write the gender and age on the input face')
    parser.add_argument('--smooth', type=positive_int, default=None, metavar='N',
                        help='test: also write an aging GIF of N frames from 0 to 100 years (ages between groups '
                             'blend the neighbouring labels) beside the PNG, and for a photo <stem>_aged_smooth.gif: '
                             'the region around the face at the photo\'s own resolution')
    parser.add_argument('--keep-details', action='store_true',
                        help='test: draw each age as the input plus the change from its own age to that age, '
                             'keeping the photo\'s details (its fine detail inside the face fades towards '
                             'childhood); eval --estimators: judge those renders')
    parser.add_argument('--personalise', nargs='?', const=personalise.STEPS, default=None, type=steps_count,
                        metavar='STEPS', help=f'test: first fine-tune a copy of G to the input face for STEPS steps, so '
                        f'every age keeps the person (None: {personalise.STEPS} for a UTKFace chip, '
                        f'{photo_aging.PERSONALISE_STEPS} for a photo; 0: the network as it is; see personalise.py); '
                        'eval --estimators: judge such renders of each face (None: the network as it is; on photos '
                        f'{photo_aging.PERSONALISE_STEPS})')
    parser.add_argument('--length', default=10, type=positive_int, help='morph: steps from face 1 to face 2; kids: children')
    parser.add_argument('--no-align', action='store_true',
                        help='test, morph, kids: use each image as it is (only resized) instead of finding the face')
    parser.add_argument('--face-index', default=0, type=int, metavar='K',
                        help='test, morph, kids: which face to use when a photo has several (0: the largest)')
    parser.add_argument('--photo-method', dest='photo_method', choices=list(composition.METHODS),
                        default=composition.DEFAULT_METHOD,
                        help='eval on a folder of photos (with photos.csv): how the photo is aged (photo_aging.py)')
    parser.add_argument('--eval-all', action='store_true',
                        help="eval: use every image of --input (a set the model never saw), not only the trainer's "
                             'held-out validation batch')
    parser.add_argument('--estimators', default=None, metavar='FOLDER',
                        help='eval: also measure aging, identity, skin tone and realism with the age estimators of '
                             'FOLDER (e.g. trained_models/age_estimators; see estimators.py)')


def check_arguments(parser, args):
    """Errors argparse cannot see: how many --input, --age and --gender values the mode takes, clashing options,
    loss weights the recipe does not have."""
    game = games.GAMES.get(args.mode)
    wanted = game.faces if game else 1
    if game and not args.input:
        parser.error(f'--mode {args.mode} needs --input with {wanted} face image(s)')
    if args.load and args.init:
        parser.error('--load continues a run, --init starts a new one from a model: give one of them')
    known = recipes.weight_names(recipes.RECIPES[args.recipe])
    for name, value in args.weights or []:
        if name not in known:
            parser.error(f'invalid weight {f"{name}={value:g}"!r}: give NAME=VALUE with NAME one of {", ".join(known)} '
                         f'(the weights of --recipe {args.recipe})')
    ages_a_face = game and game.ages_a_face
    photos = args.mode == 'eval' and args.input and photo_eval.is_photo_folder(args.input[0])
    if args.personalise is not None and not (ages_a_face or args.mode == 'eval' and (args.estimators or photos)):
        parser.error('--personalise is for --mode test, and for --mode eval with --estimators or photos')
    counted = ('input', 'age', 'gender') if game and game.needs_labels else ('input',)
    for name in counted:
        values = getattr(args, name)
        if values is not None and len(values) != wanted:
            parser.error(f'--mode {args.mode} takes {wanted} --{name} value(s), got {len(values)}')


def require_output_folder(output):
    """Create the results folder; InputError when it cannot be written."""
    if not utils.is_writable_folder(output):
        raise utils.InputError(f'{output}: output folder is not writable')


def setup_output(output, args):
    """Create the results folder with session_arguments.txt and a log file; InputError if not writable."""
    require_output_folder(output)
    with open(os.path.join(output, 'session_arguments.txt'), 'a') as f:
        f.write(f'{datetime.datetime.now():%Y-%m-%d %H:%M:%S} ' + ' '.join(sys.argv) + '\n')
        f.write('\n'.join(f'{k}: {v}' for k, v in sorted(vars(args).items())) + '\n\n')
    handler = logging.FileHandler(os.path.join(output, 'log.txt'))
    handler.setFormatter(logging.Formatter('%(asctime)s %(levelname)s %(message)s'))
    utils.log.addHandler(handler)
    utils.log.setLevel(logging.INFO)


def z_length(args):
    """z's length: the checkpoint's when one is loaded (-z must then agree or be left out), else -z's."""
    model = (args.load or args.init) if args.mode == 'train' else game_model(args)
    if not model:
        return args.z_channels or consts.NUM_Z_CHANNELS
    saved = checkpoints.z_length_of(model)
    if args.z_channels and args.z_channels != saved:
        raise utils.InputError(f'{checkpoints.network_path(model, "E")}: saved with z length {saved}, but -z '
                               f'{args.z_channels} was given: leave -z out to use the checkpoint\'s length')
    return saved


def init_distributed(args):
    """Join the torchrun process group when launched by torchrun; returns (rank, world_size, device)."""
    world_size = int(os.environ.get('WORLD_SIZE', 1))
    use_cuda = torch.cuda.is_available() and not args.cpu
    torch.backends.cudnn.benchmark = use_cuda  # fixed shapes: cuDNN times its kernels once and keeps the fastest
    if world_size == 1:
        return 0, 1, torch.device('cuda' if use_cuda else 'cpu')
    torch.distributed.init_process_group('nccl' if use_cuda else 'gloo')
    local_rank = int(os.environ.get('LOCAL_RANK', 0))
    device = torch.device('cuda', local_rank) if use_cuda else torch.device('cpu')
    if use_cuda:
        torch.cuda.set_device(device)
    return torch.distributed.get_rank(), world_size, device


def train_config(args):
    """The TrainConfig of the command line: every option whose name is a config field, plus the data folder."""
    options = {name: getattr(args, name) for name in train.TrainConfig.__dataclass_fields__ if hasattr(args, name)}
    data = args.input[0] if args.input else consts.DEFAULT_DATASET
    output = args.output or checkpoints.default_where_to_save()
    return train.TrainConfig(**{**options, 'data': data, 'output': output, 'seed': args.seed or 0,
                                'weights': dict(args.weights or [])})


def train_command(args, net, rank=0, world_size=1):
    config = train_config(args)
    if rank == 0:
        setup_output(config.output, args)
        utils.print_timestamp(f'Training on {config.data} ({net.device}, '
                              f'{"bf16 autocast" if net.autocast_dtype else "fp32"}), results in {config.output}')
    tracker = train.run(net, config, rank, world_size)
    if rank == 0:
        utils.print_timestamp(f'Done: {tracker.summary()}; results in {config.output}')


def read_face(path, args, output):
    """The one place where the games read a user's image: find and frame the face (unless --no-align),
    save a preview of the chosen face into `output`, say what the user should know about it (align.notes), return
    the framed photo (align.AlignedFace)."""
    stem = os.path.basename(path).split('.')[0]
    try:
        framed = align.frame_face(path, align=not args.no_align, face_index=args.face_index,
                                  preview_path=os.path.join(output, f'{stem}_face.png'))
    except (align.NoFaceError, align.FaceTooSmallError) as e:
        raise utils.InputError(f'{path}: {e}') from None
    except ValueError as e:
        raise utils.InputError(str(e)) from None
    for note in align.notes(framed):
        print(f'{path}: {note}', file=sys.stderr)
    return framed


def face_labels(args):
    """Ages and genders of the input faces: --age and --gender, else read from UTKFace file names."""
    parsed = [parse_utkface_name(path) for path in args.input]
    missing = [f'--{name}' for name in ('age', 'gender') if getattr(args, name) is None]
    if missing and None in parsed:
        raise utils.InputError(f'{args.input[parsed.index(None)]} is not a UTKFace name '
                               f'([age]_[gender]_[race]_[date&time].jpg.chip.jpg): pass {" and ".join(missing)} '
                               f'with one value per input')
    return args.age or [p[0] for p in parsed], args.gender or [p[1] for p in parsed]


def game_model(args):
    """The folder a game loads: --load, else the shipped model; InputError saying where a model is needed."""
    if args.load:
        return args.load
    if all(os.path.isfile(checkpoints.network_path(consts.SHIPPED_MODEL, name)) for name in ('E', 'G')):
        return consts.SHIPPED_MODEL
    raise utils.InputError(f'no model to play with: pass --load FOLDER (a folder with E.dat and G.dat), '
                           f'or put the shipped model in {consts.SHIPPED_MODEL}')


def play(args, net):
    """Play the game of --mode with the input faces; print the paths of its PNG and GIF (and smooth GIF)."""
    game = games.GAMES[args.mode]
    model = game_model(args)
    ages, genders = face_labels(args) if game.needs_labels else (None, None)
    output = args.output or os.path.join(consts.GAMES_RESULTS, args.mode)
    require_output_folder(output)
    framed = [read_face(path, args, output) for path in args.input]
    faces = [pil_to_model_tensor_transform(f.crop) for f in framed]
    net.load(model, slim=True)
    photo = framed[0] if game.ages_a_face and ages_the_photo(args.input[0], args) else None
    steps = args.personalise if args.personalise is not None else (
        photo_aging.PERSONALISE_STEPS if photo else personalise.STEPS)
    if game.ages_a_face and steps:
        net = personalised_net(net, faces[0], ages[0], genders[0], args.age_classifier, steps)
    options = games.GameOptions(watermark=args.watermark, keep_details=args.keep_details, length=args.length,
                                seed=args.seed)
    png = game.play(net, faces, ages, genders, output, options)
    print(png)
    print(gif_beside(png))
    if game.ages_a_face and args.smooth:
        print(games.save_smooth_aging_gif(net, faces[0], genders[0], png[:-len('.png')] + '_smooth.gif', args.smooth))
    if photo:
        for path in write_aged_photos(net, photo, faces[0], ages[0], genders[0], output, args):
            print(path)


def ages_the_photo(path, args):
    """Whether the aging game also ages the photo at its own size (photo_aging): not for a UTKFace chip or with
    --no-align, whose 128-px strip is the whole answer."""
    return not (args.no_align or align.is_utkface_chip(path))


def write_aged_photos(net, framed, face, age, gender, output, args):
    """Write the whole photo aged to each group, <stem>_aged_<k>.jpg (k = 0 for 0-5 ... 9 for 71+) at its own size,
    and with --smooth the face region aging from 0 to 100 years as <stem>_aged_smooth.gif; returns the paths."""
    stem = os.path.join(output, os.path.basename(args.input[0]).split('.')[0])
    z = games.encode_face(net, face)
    paths = [save_jpeg(photo, f'{stem}_aged_{k}.jpg')
             for k, photo in enumerate(photo_aging.aged_photos(net, framed, z, age, gender))]
    if args.smooth:
        ages = games.smooth_ages(args.smooth)
        renders, own = photo_aging.renders_at(net, z, ages, age, gender)
        ager = photo_aging.PhotoAger(framed.photo, framed.crop_box, age, gender=gender)
        region = face_region(framed.crop_box, framed.photo.size)
        paths.append(save_gif(games.lifespan_frames(ager, renders, own, ages, region),
                              f'{stem}_aged_smooth.gif', duration_ms=100))
    return paths


def personalised_net(net, face, age, gender, classifier_folder, steps):
    """The net with a G fine-tuned to `face` for `steps` steps, the age classifier of `classifier_folder` judging."""
    classifier = estimators.load_or_explain('classifier', classifier_folder,
                                            'personalising G needs the age classifier (pass --age-classifier FOLDER, '
                                            'or --personalise 0 for the network as it is)')
    print(f'Personalising G to the face ({steps} steps; --personalise 0 skips it)', file=sys.stderr)  # stdout: paths
    return personalise.personalised(net, face, age_to_group(age), gender, classifier, steps)


def evaluate_command(args, net):
    """Quality numbers on faces the model never trained on: print a table, write eval.json."""
    model = game_model(args)
    net.load(model, slim=True)
    data = args.input[0] if args.input else consts.DEFAULT_DATASET
    if photo_eval.is_photo_folder(data):
        return evaluate_photos_command(args, net, model, data)
    dataset = FaceDataset.from_folder(data)
    if args.eval_all:
        idx, held_out = torch.arange(len(dataset)), 'every image'
    else:
        idx, held_out = evaluate.held_out_rows(dataset, model, args.batch_size, args.seed or 0)
    net.eval()
    result = evaluate.evaluate_model(net, dataset, idx, args.estimators, args.keep_details, args.personalise)
    result = {'model': model, 'data': data, 'evaluated on': held_out, **result}
    output = args.output or os.path.join(consts.GAMES_RESULTS, 'eval')
    require_output_folder(output)
    path = os.path.join(output, 'eval.json')
    checkpoints.save_json(result, path)
    print_result(result, path)


def evaluate_photos_command(args, net, model, folder):
    """--mode eval on a folder of photos (photo_eval.py): the aged photos' numbers per group and a contact sheet."""
    output = args.output or os.path.join(consts.GAMES_RESULTS, 'eval_photos')
    require_output_folder(output)
    steps = photo_aging.PERSONALISE_STEPS if args.personalise is None else args.personalise
    result = photo_eval.evaluate_photos(net, folder, output, args.estimators or consts.AGE_ESTIMATORS, steps,
                                        args.photo_method)
    print_result({'model': model, 'data': folder, **result}, os.path.join(output, 'eval.json'))
    print(os.path.join(output, 'contact_sheet.jpg'))


def print_result(result, path):
    """An eval's numbers as a two-column table, then the path of its eval.json."""
    width = max(map(len, result))
    print('\n'.join(f'{k:<{width}}  {v:.4f}' if isinstance(v, float) else f'{k:<{width}}  {v}'
                    for k, v in result.items()))
    print(path)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    check_arguments(parser, args)
    try:
        rank, world_size, device = init_distributed(args)
        net = Net(device=device, precision=args.precision, z_channels=z_length(args))
        if args.mode in games.GAMES:
            play(args, net)
        elif args.mode == 'eval':
            evaluate_command(args, net)
        else:
            train_command(args, net, rank, world_size)
    except utils.InputError as e:
        sys.exit(f'error: {e}')
    except KeyboardInterrupt:
        sys.exit('Interrupted' if args.mode in games.GAMES else
                 'Interrupted: the networks of the current epoch were saved (unless --models-saving never).')
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


if __name__ == '__main__':
    main()
