"""The face-aging web page: your own photo at any age, with a continuous age slider (gradio, local only).

Start it, then open the address it prints (nothing is opened for you, nothing is shared, no analytics):
    python app.py                                   # http://127.0.0.1:7860, the models in trained_models/
    python app.py --host 0.0.0.0 --port 8080 --load results/run1/epoch50

Tabs: Aging (upload or webcam -> the framed face -> an age slider in years, the ten-group strip, a lifespan
GIF or MP4, and the option to paste the face back into the photo), Morph (two photos and a slider between
them) and Kids (two photos -> their children). Uploads and everything the page makes live in a temporary
folder that is removed when the app stops; nothing is written into the repository or the models.

The page's logic is in web_games.py (read_upload, prepare_upload, render_age, ...), plain functions that tests
call without a browser; build_page() only wires them to gradio components.
"""
import argparse
import contextlib
import ctypes
import functools
import os
import secrets
import signal
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import torch

import align
import consts
import games
import utils
from checkpoints import atomic_path
from images import IMAGE_FORMATS, gif_beside, thumbnail
from web_games import (
    DEFAULT_AGE,
    GENDERS,
    LIFESPAN_FRAMES,
    MODELS_DIR,
    Models,
    NoFaceInPhoto,
    aged_view,
    encode,
    find_models,
    group_strip,
    lifespan_animation,
    morph_view,
    name_labels,
    personalised_net,
    play_game,
    prepare_upload,
    read_upload,
    show_face,
    shrink,
    WORK_MAX_SIDE,
)

UPLOAD_TYPES = sorted({'.jpg', '.jpeg'} | {f'.{f.lower()}' for f in IMAGE_FORMATS})  # what the file pickers take
SESSIONS = 64  # the sessions whose state (photo, face, personalised generator: up to about 13 MB) the page keeps
SESSION_TTL_S = 1800  # and a session's state is dropped this long after its last change

# ---------------------------------------------------------------- the page

def build_page(models, work_dir, memory, threads=1):
    """The gradio Blocks: Aging, Morph and Kids tabs over the functions above. Each request renders with
    `threads` torch threads (set in gradio's worker thread: OpenMP keeps the setting per thread), inside
    `memory.serving()` (an IdleMemoryTrim)."""
    import gradio as gr  # here, not at the top: gradio reads GRADIO_TEMP_DIR (set by serve) when imported

    def torch_threads(handler):
        """Run a handler with `threads` torch threads inside memory.serving(); an error that no handler expects
        becomes one line in the log and a message on the page, never a traceback."""
        @functools.wraps(handler)
        def wrapper(*args, **kwargs):
            torch.set_num_threads(threads)
            with memory.serving():
                try:
                    return handler(*args, **kwargs)
                except gr.Error:
                    raise
                except Exception as e:
                    print(f'error in {handler.__name__}: {type(e).__name__}: {" ".join(str(e).split())}',
                          file=sys.stderr, flush=True)
                    raise gr.Error('Something went wrong on the server (it is still running); please try again '
                                   'or use another photo.', print_exception=False) from None
        return wrapper

    def fail(message):
        message = str(message)
        return f'**{message[:1].upper()}{message[1:]}**'

    def gender_index(value):
        return GENDERS.index(value) if value in GENDERS else 0

    def state_net(state):
        """The photo's personalised networks when it has them, else its model's."""
        return state.get('net') or models.get(state['model'])

    # -- aging
    @torch_threads
    def load_photo(path, model_name, face_choice, whole, paste, keep_labels=False, age=DEFAULT_AGE, gender=None,
                   details=False, photo_age=DEFAULT_AGE, personal=False):
        nothing = (None, None, None, None, gr.update(choices=[], value=None, visible=False))
        if path is None:
            return nothing + (gr.update(), gr.update(), gr.update(), '')
        try:
            index = int(str(face_choice).split()[0]) - 1 if face_choice else 0
            prepared = prepare_upload(path, index, whole)
            net = models.get(model_name)
            name_age, name_gender = name_labels(path)
            if not keep_labels:
                age = photo_age = float(name_age) if name_age is not None else DEFAULT_AGE
                gender = GENDERS[name_gender] if name_gender is not None else gender or GENDERS[0]
            state = {'path': path, 'photo': prepared.photo, 'crop': prepared.crop, 'crop_box': prepared.crop_box,
                     'z': encode(net, prepared.crop), 'model': model_name}
            if personal:
                torch.set_num_threads(os.cpu_count() or 1)  # rare and long: all cores (10 s instead of 21 on two)
                try:
                    state['net'] = net = personalised_net(net, prepared.crop, photo_age, gender_index(gender))
                finally:
                    torch.set_num_threads(threads)
            choices = [f'{i + 1}' + (' (largest)' if i == 0 else '') for i in range(len(prepared.boxes))]
            faces = gr.update(choices=choices, value=choices[prepared.face_index] if choices else None,
                              visible=len(choices) > 1)
            found = ('a UTKFace chip, used as it is' if align.is_utkface_chip(path) and not whole else
                     'the whole image is used' if not prepared.boxes else
                     f'{len(prepared.boxes)} faces found: face {prepared.face_index + 1} is used (pick another below)'
                     if len(prepared.boxes) > 1 else 'one face found')
            if prepared.photo.size != prepared.upload_size:
                found += (' (the photo, {}x{}, is worked on and pasted back at {}x{})'
                          .format(*prepared.upload_size, *prepared.photo.size))
            view = aged_view(net, state, age, gender_index(gender), paste, photo_age if details else None)
            return (state, prepared.preview, show_face(np.asarray(prepared.crop)), view, faces,
                    min(max(age, 0), 100), gender, photo_age, f'Ready: {found}. Drag the age slider.')
        except NoFaceInPhoto as e:  # show the photo anyway, so the user sees what was searched
            photo = thumbnail(shrink(read_upload(path)), align.PREVIEW_MAX_SIDE)
            return (None, photo) + nothing[2:] + (gr.update(), gr.update(), gr.update(), fail(e))
        except utils.InputError as e:
            return nothing + (gr.update(), gr.update(), gr.update(), fail(e))

    @torch_threads
    def on_age(state, model_name, years, gender, paste, details=False, photo_age=DEFAULT_AGE):
        if not state:
            return None, fail('No photo is loaded: upload a photo first.')
        try:
            net = state_net(state)
            view = aged_view(net, state, years, gender_index(gender), paste, photo_age if details else None)
            return view, f'Age {years:g} years.'
        except utils.InputError as e:
            return gr.update(), fail(e)

    @torch_threads
    def on_strip(state, gender, details=False, photo_age=DEFAULT_AGE):
        if not state:
            return None, fail('Upload a photo first.')
        net = state_net(state)
        row = group_strip(net, state['z'], gender_index(gender), state['crop'], photo_age if details else None)
        return row, 'The ten age groups: ' + \
            ', '.join(consts.AGE_GROUP_NAMES) + ' (the input face first).'

    @torch_threads
    def on_lifespan(state, gender, kind):
        if not state:
            return None, fail('Upload a photo first.')
        try:
            net = state_net(state)
            return lifespan_animation(net, state['z'], gender_index(gender), work_dir, kind.lower()), \
                f'{kind} of the whole lifespan, 0 to 100 years ({LIFESPAN_FRAMES} frames): ready to download.'
        except utils.InputError as e:
            return None, fail(e)

    # -- morph and kids
    def two_faces(path1, path2, whole):
        crops, labels = [], []
        for i, path in enumerate((path1, path2), 1):
            try:
                prepared = prepare_upload(path, whole_image=whole)
            except utils.InputError as e:
                raise utils.InputError(f'Photo {i}: {e}') from None
            crops.append(prepared.crop)
            labels.append(name_labels(path))
        return crops, labels

    def morph_state(path1, path2, whole, model_name, age1, gender1, age2, gender2):
        crops, _ = two_faces(path1, path2, whole)
        net = models.get(model_name)
        z = encode(net, crops[0])[0], encode(net, crops[1])[0]
        labels = games.age_label(age1, gender_index(gender1)), games.age_label(age2, gender_index(gender2))
        return {'crops': crops, 'z': z, 'labels': labels, 'model': model_name}

    @torch_threads
    def on_morph_photos(path1, path2, whole, model_name, t):
        if path1 is None or path2 is None:
            return None, None, gr.update(), gr.update(), gr.update(), gr.update(), 'Upload two photos.'
        try:
            _, labels = two_faces(path1, path2, whole)
            ages = [float(a) if a is not None else DEFAULT_AGE for a, _ in labels]
            genders = [GENDERS[g] if g is not None else GENDERS[0] for _, g in labels]
            state = morph_state(path1, path2, whole, model_name, ages[0], genders[0], ages[1], genders[1])
            view = morph_view(models.get(model_name), state['z'], state['labels'], t)
            return state, view, ages[0], genders[0], ages[1], genders[1], 'Ready: drag the slider.'
        except utils.InputError as e:
            return None, None, gr.update(), gr.update(), gr.update(), gr.update(), fail(e)

    @torch_threads
    def on_morph_labels(path1, path2, whole, model_name, t, age1, gender1, age2, gender2):
        if path1 is None or path2 is None:
            return None, None, 'Upload two photos.'
        try:
            state = morph_state(path1, path2, whole, model_name, age1, gender1, age2, gender2)
            return state, morph_view(models.get(model_name), state['z'], state['labels'], t), 'Ready.'
        except utils.InputError as e:
            return None, None, fail(e)

    @torch_threads
    def on_morph_t(state, t):
        if not state:
            return gr.update(), ''
        return morph_view(models.get(state['model']), state['z'], state['labels'], t), f'{t:.0%} of the way.'

    @torch_threads
    def on_morph_game(state, steps):
        if not state:
            return None, None, fail('Upload two photos first.')
        z, labels = torch.stack(state['z']), torch.stack(state['labels'])
        target = Path(work_dir) / f'morph_{uuid.uuid4().hex[:8]}'
        png = games.morph_between(models.get(state['model']), z, labels, int(steps), str(target))
        return png, gif_beside(png), 'The morph strip and its GIF.'

    @torch_threads
    def on_kids(path1, path2, whole, model_name, count, seed):
        try:
            crops, _ = two_faces(path1, path2, whole) if path1 and path2 else (None, None)
            if crops is None:
                return None, None, fail('Upload two photos.')
            png, gif = play_game(models.get(model_name), 'kids', crops, work_dir, length=int(count),
                                 seed=int(seed) if seed is not None else None)
            return png, gif, f'{int(count)} children (seed {seed}); the GIF shows them one by one.'
        except utils.InputError as e:
            return None, None, fail(e)

    with gr.Blocks(title='CAAE face aging', analytics_enabled=False, delete_cache=(600, 1800)) as page:
        gr.Markdown('# CAAE face aging\nUpload a photo (or take one with the webcam), then drag the age slider. '
                    'Everything runs on this computer; uploads are deleted when the app stops.')
        model = gr.Dropdown(models.names(), value=models.default(), label='Model', elem_id='model')
        with gr.Tabs():
            with gr.Tab('Aging', id='aging'):
                state = gr.State(None, time_to_live=SESSION_TTL_S)
                with gr.Row():
                    with gr.Column():
                        photo = undecoded(gr.File(label='Photo (JPEG, PNG, WebP, BMP)', type='filepath',
                                                  file_types=UPLOAD_TYPES, elem_id='photo'))
                        webcam = undecoded(gr.Image(sources=['webcam'], type='filepath', elem_id='webcam',
                                                    label='or take one with the webcam', height=160))
                        faces = gr.Dropdown([], label='Face', visible=False, elem_id='faces')
                        whole = gr.Checkbox(False, label='Use the whole image (when no face is found)', elem_id='whole')
                    preview = gr.Image(label='Detected face (green box, yellow: the crop)', interactive=False,
                                       elem_id='preview', height=320)
                    crop = gr.Image(label='The framed face that is used', interactive=False, elem_id='crop',
                                    height=320, format='png')
                message = gr.Markdown('Upload a photo to start.', elem_id='aging-message')
                with gr.Row():
                    with gr.Column():
                        age = gr.Slider(0, 100, value=DEFAULT_AGE, step=0.5, label='Age (years)', elem_id='age')
                        gender = gr.Radio(list(GENDERS), value=GENDERS[0], label='Gender', elem_id='gender')
                        paste = gr.Checkbox(False, label=f'Paste the face back into the photo (scaled to at most '
                                            f'{WORK_MAX_SIDE} px a side)', elem_id='paste')
                        with gr.Row():
                            details = gr.Checkbox(False, label="Keep the photo's details: add only the age change",
                                                  elem_id='details')
                            photo_age = gr.Number(DEFAULT_AGE, minimum=0, maximum=100,
                                                  label='Age of the person in the photo', elem_id='photo-age')
                        personal = gr.Checkbox(False, label='Personalise the generator to this photo (10-20 s): '
                                               'every age keeps the person', elem_id='personalise')
                    aged = gr.Image(label='At this age', interactive=False, format='png', elem_id='aged-face',
                                    height=384)
                with gr.Row():
                    strip_button = gr.Button('The ten age groups', elem_id='strip-button')
                    gif_button = gr.Button('Lifespan GIF', elem_id='gif-button')
                    mp4_button = gr.Button('Lifespan MP4', elem_id='mp4-button')
                strip = gr.Image(label='Ten age groups', interactive=False, format='png', elem_id='strip', height=180)
                lifespan = gr.File(label='Lifespan animation (download)', elem_id='lifespan', height=100)

            with gr.Tab('Morph', id='morph'):
                morph_state_ = gr.State(None, time_to_live=SESSION_TTL_S)
                with gr.Row():
                    m1 = undecoded(gr.File(label='Photo 1', type='filepath', file_types=UPLOAD_TYPES,
                                           elem_id='morph-photo-1'))
                    m2 = undecoded(gr.File(label='Photo 2', type='filepath', file_types=UPLOAD_TYPES,
                                           elem_id='morph-photo-2'))
                with gr.Row():
                    mage1 = gr.Slider(0, 100, value=DEFAULT_AGE, step=0.5, label='Age of photo 1')
                    mgender1 = gr.Radio(list(GENDERS), value=GENDERS[0], label='Gender of photo 1')
                    mage2 = gr.Slider(0, 100, value=DEFAULT_AGE, step=0.5, label='Age of photo 2')
                    mgender2 = gr.Radio(list(GENDERS), value=GENDERS[0], label='Gender of photo 2')
                mwhole = gr.Checkbox(False, label='Use the whole image (when no face is found)')
                morph_message = gr.Markdown('Upload two photos.', elem_id='morph-message')
                with gr.Row():
                    with gr.Column():
                        t = gr.Slider(0, 1, value=0.5, step=0.01, label='From photo 1 to photo 2', elem_id='morph-t')
                        steps = gr.Slider(2, 20, value=10, step=1, label='Steps in the strip')
                        morph_button = gr.Button('Strip and GIF', elem_id='morph-button')
                    morph_face = gr.Image(label='Between them', interactive=False, format='png', elem_id='morph-face',
                                          height=320)
                morph_strip = gr.Image(label='Morph strip', interactive=False, format='png', elem_id='morph-strip')
                morph_gif = gr.File(label='Morph GIF (download)', elem_id='morph-gif', height=100)

            with gr.Tab('Kids', id='kids'):
                with gr.Row():
                    k1 = undecoded(gr.File(label='Photo 1', type='filepath', file_types=UPLOAD_TYPES,
                                           elem_id='kids-photo-1'))
                    k2 = undecoded(gr.File(label='Photo 2', type='filepath', file_types=UPLOAD_TYPES,
                                           elem_id='kids-photo-2'))
                with gr.Row():
                    count = gr.Slider(1, 16, value=8, step=1, label='Children', elem_id='kids-count')
                    seed = gr.Number(1, precision=0, label='Seed', elem_id='kids-seed')
                    kwhole = gr.Checkbox(False, label='Use the whole image (when no face is found)')
                kids_button = gr.Button('Children', elem_id='kids-button')
                kids_message = gr.Markdown('Upload two photos.', elem_id='kids-message')
                kids_row = gr.Image(label='The children', interactive=False, format='png', elem_id='kids-row')
                kids_gif = gr.File(label='Children GIF (download)', elem_id='kids-gif', height=100)

        photo_outputs = [state, preview, crop, aged, faces, age, gender, photo_age, message]

        def new_photo(p, m, w, s, d, pe):
            return load_photo(p, m, None, w, s, details=d, personal=pe)
        photo.change(new_photo, [photo, model, whole, paste, details, personal], photo_outputs, **endpoint('upload'))
        webcam.change(new_photo, [webcam, model, whole, paste, details, personal], photo_outputs, **endpoint('webcam'))

        def reload(st, p, m, f, w, s, a, g, d, pa, pe):
            source = st['path'] if st else p
            return load_photo(source, m, f, w, s, keep_labels=st is not None, age=a, gender=g, details=d, photo_age=pa,
                              personal=pe)
        for trigger in (faces.input, whole.input, model.input, personal.input, photo_age.submit):  # personalise again
            trigger(reload, [state, photo, model, faces, whole, paste, age, gender, details, photo_age, personal],
                    photo_outputs, **endpoint('personalise' if trigger == personal.input else None))
        for trigger in (age.change, gender.input, paste.input, details.input):
            trigger(on_age, [state, model, age, gender, paste, details, photo_age], [aged, message],
                    trigger_mode='always_last', show_progress='hidden',
                    **endpoint('render' if trigger == age.change else None))
        strip_button.click(on_strip, [state, gender, details, photo_age], [strip, message], **endpoint('strip'))
        gif_button.click(lambda s, g: on_lifespan(s, g, 'GIF'), [state, gender], [lifespan, message],
                         **endpoint('gif'))
        mp4_button.click(lambda s, g: on_lifespan(s, g, 'MP4'), [state, gender], [lifespan, message],
                         **endpoint('mp4'))

        morph_inputs = [m1, m2, mwhole, model, t]
        for trigger in (m1.change, m2.change, mwhole.input):
            trigger(on_morph_photos, morph_inputs,
                    [morph_state_, morph_face, mage1, mgender1, mage2, mgender2, morph_message],
                    **endpoint('morph' if trigger == m2.change else None))
        for trigger in (mage1.release, mgender1.input, mage2.release, mgender2.input):
            trigger(on_morph_labels, morph_inputs + [mage1, mgender1, mage2, mgender2],
                    [morph_state_, morph_face, morph_message], **endpoint(None))
        t.change(on_morph_t, [morph_state_, t], [morph_face, morph_message], trigger_mode='always_last',
                 show_progress='hidden', **endpoint('morph_step'))
        morph_button.click(on_morph_game, [morph_state_, steps], [morph_strip, morph_gif, morph_message],
                           **endpoint('morph_strip'))
        kids_button.click(on_kids, [k1, k2, kwhole, model, count, seed], [kids_row, kids_gif, kids_message],
                          **endpoint('kids'))
    return page


def endpoint(name):
    """An event's API options: public under `name`, or private (the page still calls it, API clients cannot)."""
    return {'api_name': name} if name else {'api_visibility': 'private'}


def undecoded(component):
    """A gr.File or gr.Image that hands its handler the path of the file gradio stored, neither decoded nor checked
    by name: web_games.read_upload reads it. gr.Image would open a webcam picture with every Pillow plugin and
    decode it in full first; gr.File's check of the name prints a traceback for each file it refuses (its
    file_types still choose what the browser's file picker offers)."""
    component.preprocess = lambda payload: payload.path if payload is not None and payload.path else None
    return component


def harden_gradio():
    """Two changes to how gradio stores files, before it serves any. It names the folders of uploads and outputs by a
    hash of their content seeded once per installation, so the same photo always landed at the same path: seed it
    anew for each run. And it wrote output pictures in place, so two sessions showing the same picture at once
    wrote one file together and a download could be cut short: write them atomically."""
    from gradio import processing_utils
    processing_utils.hash_seed = secrets.token_bytes(32)

    def save_pil_to_cache(image, cache_dir, name='image', format='webp'):
        data = processing_utils.encode_pil_to_bytes(image, format)
        path = Path(cache_dir) / processing_utils.hash_bytes(data) / f'{name}.{format}'
        with atomic_path(path) as tmp:
            Path(tmp).write_bytes(data)
        return str(path.resolve())
    processing_utils.save_pil_to_cache = save_pil_to_cache


def glibc():
    """The C library when it is glibc (its malloc tuning calls), else None."""
    try:
        libc = ctypes.CDLL('libc.so.6')
        return libc if hasattr(libc, 'mallopt') and hasattr(libc, 'malloc_trim') else None
    except OSError:
        return None


def limit_malloc_arenas(count=2):
    """Cap glibc's malloc arenas. glibc gives threads their own arenas and keeps freed memory in each; with gradio's
    worker threads running torch, resident memory crept up by about 10 MiB every 100 requests (BENCHMARKS.md,
    "The web page"). With two arenas it stays flat. A no-op where the C library is not glibc."""
    libc = glibc()
    if libc:
        libc.mallopt(-8, count)  # -8: M_ARENA_MAX


class IdleMemoryTrim:
    """Gives the memory that requests freed back to the system once the page has been idle for `idle_s` seconds.
    glibc keeps freed buffers for reuse, so after a burst of slider moves the page's resident memory sat 50-100 MiB
    above what it uses, by chance; trimming after every request instead slows a slider move from 32 to 55 ms."""

    def __init__(self, idle_s=1.0, trim=None):
        libc = glibc()
        self.trim = trim or (libc.malloc_trim if libc else None)
        self.idle_s, self.busy, self.last_done, self.trimmed = idle_s, 0, time.monotonic(), True
        self.lock = threading.Lock()

    @contextlib.contextmanager
    def serving(self):
        """Around each request: no trim while one runs."""
        with self.lock:
            self.busy += 1
        try:
            yield
        finally:
            with self.lock:
                self.busy, self.last_done, self.trimmed = self.busy - 1, time.monotonic(), False

    def trim_if_idle(self):
        with self.lock:
            due = not self.busy and not self.trimmed and time.monotonic() - self.last_done >= self.idle_s
            self.trimmed |= due
        if due and self.trim:
            self.trim(0)
        return due

    def start(self):
        def loop():
            while True:
                time.sleep(self.idle_s / 4)
                self.trim_if_idle()
        threading.Thread(target=loop, name='idle-memory-trim', daemon=True).start()
        return self


def serve(host='127.0.0.1', port=7860, load=(), block=True, concurrency=2, threads=1):
    """Start the page in a temporary folder (removed on return when block=True); returns (page, url, folder)."""
    limit_malloc_arenas()
    os.environ.setdefault('GRADIO_ANALYTICS_MAX_EVENTS', '256')  # gradio's in-memory per-event records (local only)
    os.environ.setdefault('GRADIO_ANALYTICS_CACHE_FREQUENCY', '100')  # and their pandas summary, not every event
    work = tempfile.TemporaryDirectory(prefix='caae-app-')
    os.environ['GRADIO_TEMP_DIR'] = os.path.join(work.name, 'uploads')  # gradio keeps uploads and outputs here
    os.environ['GRADIO_ANALYTICS_ENABLED'] = 'False'
    harden_gradio()
    models = Models(find_models(load))
    if not models.names():
        raise utils.InputError(f'no model found in {MODELS_DIR} and no --load FOLDER given')
    models.get(models.default())  # load the default networks now, not on the first request
    out = os.path.join(work.name, 'out')
    page = build_page(models, out, IdleMemoryTrim().start(), threads)
    os.makedirs(out)
    page.queue(default_concurrency_limit=concurrency, max_size=64)
    page.launch(server_name=host, server_port=port, share=False, inbrowser=False, quiet=True, ssr_mode=False,
                show_error=False, prevent_thread_lock=True, max_file_size='100mb', max_threads=8, footer_links=[],
                run_history=False, allowed_paths=[out], state_session_capacity=SESSIONS)
    url = f'http://{host}:{port}'
    page.work_dir = work
    if not block:
        return page, url, work
    print(f'CAAE face aging page: {url}  (Ctrl+C to stop)', flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a plain kill also removes the temporary folder
    try:
        page.block_thread()
    finally:
        page.close()
        work.cleanup()
    return page, url, work


def main(argv=None):
    parser = argparse.ArgumentParser(description='CAAE face aging in the browser (a local gradio page).',
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--host', default='127.0.0.1', help='address to listen on (0.0.0.0: every interface)')
    parser.add_argument('--port', type=int, default=7860)
    parser.add_argument('--load', '-l', nargs='+', default=[], metavar='FOLDER',
                        help='more model folders (E.dat and G.dat) for the model picker, besides trained_models/*')
    parser.add_argument('--concurrency', type=int, default=2, help='requests rendered at once (the rest queue)')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads per request; 1 keeps a slider move fast on a busy 2-core machine '
                             '(BENCHMARKS.md, "The web page")')
    args = parser.parse_args(argv)
    try:
        serve(args.host, args.port, args.load, concurrency=args.concurrency, threads=args.threads)
    except utils.InputError as e:
        sys.exit(f'error: {e}')
    except OSError as e:  # gradio: the port is taken
        sys.exit(f'error: {e}; pass another --port')
    except KeyboardInterrupt:
        print('stopped')


if __name__ == '__main__':
    main()
