"""Constants shared by every part of CAAE. NUM_Z_CHANNELS is the default z length, read when a network is built."""
import os
import re

IMAGE_LENGTH = 128
IMAGE_DEPTH = 3
KERNEL_SIZE = 2  # Dimg convolutions
NUM_Z_CHANNELS = 50  # the default of Net(z_channels=...), read when a network is built

NUM_AGES = 10
NUM_GENDERS = 2
LABEL_LEN = NUM_AGES + NUM_GENDERS * (NUM_AGES // NUM_GENDERS)  # 20: gender repeated to weigh as much as age
MALE = 0
FEMALE = 1
GENDER_NAMES = {MALE: 'Male', FEMALE: 'Female'}
AGE_GROUP_NAMES = ('0-5', '6-10', '11-15', '16-20', '21-30', '31-40', '41-50', '51-60', '61-70', '71+')
# The middle of each group's years (0-5 -> 2.5, ..., 61-70 -> 65.5); 71+ is open-ended: 80 is taken as its centre.
AGE_GROUP_CENTRES = (2.5, 8.0, 13.0, 18.0, 25.5, 35.5, 45.5, 55.5, 65.5, 80.0)
MAX_AGE = 120
ADULT_GROUP = 4  # 21-30 and older: the adult groups (identity is judged on them; a photo keeps its detail there)

UTKFACE_NAME = re.compile(r'^(?P<age>\d+)_(?P<gender>[01])_(?P<race>[0-4])_(?P<date>\d+)\.jpg\.chip\.jpg$')
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')

DEFAULT_DATASET = './data/UTKFace'
DEFAULT_RESULTS = './trained_models'
DEFAULT_CACHE = './data/cache'
SHIPPED_MODEL = './trained_models/utkface_z50_plus'  # the games' model; the reference recipe's: utkface_z50
AGE_ESTIMATORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'trained_models', 'age_estimators')  # shipped
GAMES_RESULTS = './results'  # the games write into <GAMES_RESULTS>/<mode> by default
TRAINED_MODEL_EXT = '.dat'
NETWORK_NAMES = ('E', 'G', 'Dz', 'Dimg')
TRAINING_STATE = 'training_state.pt'  # optimizers and random generators, beside the networks: exact continuation
RUN_RECORD = 'run.json'  # how a run was trained, in its results folder

FACE_BOX = (36, 100, 34, 94)  # rows 36-99, columns 34-93 of a 128-px chip: eyes, nose, cheeks, mouth; little hair
FACE_ELLIPSE = (72, 64, 56, 46)  # centre row, centre column, half height, half width: the whole face of a chip

REC_LOSS_WEIGHT = 1.0
TV_LOSS_WEIGHT = 0.0  # the reference logs total variation with weight 0
ADV_LOSS_WEIGHT = 1e-4
