"""The face-aging web page: your own photo at any age, with a continuous age slider (gradio, local only).

Start it, then open the address it prints (nothing is opened for you, nothing is shared, no analytics):
    python app.py                                   # http://127.0.0.1:7860, the models in trained_models/
    python app.py --host 0.0.0.0 --port 8080 --load results/run1/epoch50

Tabs: Aging (upload or webcam -> the framed face -> an age slider in years: the photo itself at that age at its
own size, and the 128-px face; the ten-group strip of the aged photo's face, a lifespan GIF or MP4), Morph (two
photos and a slider between them) and Kids (two photos -> their children). Uploads and everything the page makes
live in a temporary folder that is removed when the app stops; nothing is written into the repository or the models.

The page's logic is in web_games.py (read_upload, load_photo, ...) and web_photo.py (aged_view, group_strip), plain
functions that tests call without a browser; here a Page builds each tab and wires its components to short handlers
that call them.
"""
import argparse
import functools
import os
import signal
import sys
import tempfile
import uuid
from pathlib import Path

import torch

import align
import consts
import games
import utils
import web_server
from images import IMAGE_FORMATS, gif_beside, thumbnail
from web_games import (
    DEFAULT_AGE,
    GENDERS,
    LIFESPAN_FRAMES,
    MODELS_DIR,
    Models,
    NoFaceInPhoto,
    find_models,
    gender_index,
    known_age,
    lifespan_animation,
    load_photo,
    morph_state,
    morph_view,
    play_game,
    prepare_pair,
    read_upload,
    shrink,
)
from web_photo import SHOW_MAX_SIDE, aged_view, group_strip

UPLOAD_TYPES = sorted({'.jpg', '.jpeg'} | {f'.{f.lower()}' for f in IMAGE_FORMATS})  # what the file pickers take
SESSIONS = 64  # the sessions whose state (photo, its PhotoAger, personalised generator: tens of MB) the page keeps
SESSION_TTL_S = 1800  # and a session's state is dropped this long after its last change


def fail(message):
    """A message of the page's in bold, its first letter upper case."""
    message = str(message)
    return f'**{message[:1].upper()}{message[1:]}**'


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


class Page:
    """The gradio Blocks and their handlers: one method builds each tab, one method answers each event."""

    def __init__(self, models, work_dir, memory, threads=1):
        """`threads`: torch threads a request renders with (set in gradio's worker thread: OpenMP keeps the setting
        per thread); every request runs inside `memory.serving()` (a web_server.IdleMemoryTrim)."""
        import gradio as gr  # here, not at the top: gradio reads GRADIO_TEMP_DIR (set by serve) when imported
        self.gr, self.models, self.work_dir, self.memory, self.threads = gr, models, work_dir, memory, threads

    def handled(self, handler):
        """`handler` with the page's torch threads, inside memory.serving(); an error that no handler expects
        becomes one line in the log and a message on the page, never a traceback."""
        @functools.wraps(handler)
        def wrapper(*args, **kwargs):
            torch.set_num_threads(self.threads)
            with self.memory.serving():
                try:
                    return handler(*args, **kwargs)
                except self.gr.Error:
                    raise
                except Exception as e:
                    print(f'error in {handler.__name__}: {type(e).__name__}: {" ".join(str(e).split())}',
                          file=sys.stderr, flush=True)
                    raise self.gr.Error('Something went wrong on the server (it is still running); please try '
                                        'again or use another photo.', print_exception=False) from None
        return wrapper

    def build(self):
        gr = self.gr
        with gr.Blocks(title='CAAE face aging', analytics_enabled=False, delete_cache=(600, 1800)) as page:
            gr.Markdown('# CAAE face aging\nUpload a photo (or take one with the webcam), then drag the age slider. '
                        'Everything runs on this computer; uploads are deleted when the app stops.')
            model = gr.Dropdown(self.models.choices(), value=self.models.default(), label='Model', elem_id='model')
            with gr.Tabs():
                with gr.Tab('Aging', id='aging'):
                    self.aging_tab(model)
                with gr.Tab('Morph', id='morph'):
                    self.morph_tab(model)
                with gr.Tab('Kids', id='kids'):
                    self.kids_tab(model)
        return page

    # ---------------------------------------------------------------- aging

    def aging_tab(self, model):
        gr = self.gr
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
            crop = gr.Image(label='The framed face that is used', interactive=False, elem_id='crop', height=320,
                            format='png')
        message = gr.Markdown('Upload a photo to start.', elem_id='aging-message')
        with gr.Row():
            with gr.Column(scale=1):
                age = gr.Slider(0, 100, value=DEFAULT_AGE, step=0.5, label='Age (years)', elem_id='age')
                gender = gr.Radio(list(GENDERS), value=GENDERS[0], label='Gender', elem_id='gender')
                photo_age = gr.Number(DEFAULT_AGE, minimum=0, maximum=100, elem_id='photo-age',
                                      label='Age of the person in the photo (the photo is aged from it)')
                personal = gr.Checkbox(False, label='Personalise the generator to this photo, the person being the '
                                       'age above (5-10 s): every age keeps the person', elem_id='personalise')
                details = gr.Checkbox(False, label="The 128-px face below keeps the photo's details: only the age "
                                      'change is added', elem_id='details')
                aged_face = gr.Image(label='The 128-px face at this age', interactive=False, format='png',
                                     elem_id='aged-face', height=256)
            aged = gr.Image(label=f'The photo at this age (its own size, at most {SHOW_MAX_SIDE} px a side)',
                            interactive=False, format='jpeg', elem_id='aged-photo', height=640, scale=2)
        with gr.Row():
            strip_button = gr.Button('The ten age groups', elem_id='strip-button')
            gif_button = gr.Button('Lifespan GIF', elem_id='gif-button')
            mp4_button = gr.Button('Lifespan MP4', elem_id='mp4-button')
        strip = gr.Image(label="Ten age groups: the aged photo's face", interactive=False, format='png',
                         elem_id='strip', height=200)
        lifespan = gr.File(label='Lifespan animation (download)', elem_id='lifespan', height=100)

        shown = [state, preview, crop, aged, aged_face, faces, age, gender, photo_age, message]
        upload, notice = self.handled(self.on_upload), self.handled(self.tuning_notice)
        for source, name in ((photo, 'upload'), (webcam, 'webcam')):  # say so first when it will tune
            source.change(notice, [personal], [message], **endpoint(None)).then(
                upload, [source, model, whole, details, personal], shown, **endpoint(name))
        reload = self.handled(self.on_reload)
        for trigger in (faces.input, whole.input, model.input, personal.input, photo_age.submit):  # personalise again
            trigger(notice, [personal], [message], **endpoint(None)).then(
                reload, [state, photo, model, faces, whole, age, gender, details, photo_age, personal], shown,
                **endpoint('personalise' if trigger == personal.input else None))
        for trigger in (age.change, gender.input, details.input):
            trigger(self.handled(self.on_age), [state, model, age, gender, details, photo_age],
                    [aged, aged_face, message], trigger_mode='always_last', show_progress='hidden',
                    **endpoint('render' if trigger == age.change else None))
        strip_button.click(self.handled(self.on_strip), [state, gender, photo_age], [strip, message],
                           **endpoint('strip'))
        gif_button.click(self.handled(self.on_gif), [state, gender], [lifespan, message], **endpoint('gif'))
        mp4_button.click(self.handled(self.on_mp4), [state, gender], [lifespan, message], **endpoint('mp4'))

    def tuning_notice(self, personal):
        """The message while a photo loads: what is happening when it is personalised (the long part)."""
        if not personal:
            return self.gr.update()
        return ('Personalising the generator to this photo, the person being the age above (5-10 s); '
                'the photo at the slider\'s age follows.')

    def on_upload(self, path, model_name, whole, details, personal):
        return self.show_photo(path, model_name, None, whole, None, details, DEFAULT_AGE, personal)

    def on_reload(self, state, path, model_name, face, whole, age, gender, details, photo_age, personal):
        """Another face, model, whole-image choice, Personalise or photo age for the loaded photo."""
        source, labels = (state['path'], (age, gender)) if state else (path, None)
        return self.show_photo(source, model_name, face, whole, labels, details, known_age(photo_age), personal)

    def show_photo(self, path, model_name, face, whole, labels, details, photo_age, personal):
        """The Aging tab's outputs for a photo (web_games.load_photo), or its message."""
        gr = self.gr
        nothing = (None, None, None, None, None, gr.update(choices=[], value=None, visible=False))
        keep = (gr.update(),) * 3
        if path is None:
            return nothing + keep + ('',)
        try:
            loaded = load_photo(self.models, path, model_name, face, whole, labels, details, photo_age, personal)
        except NoFaceInPhoto as e:  # show the photo anyway, so the user sees what was searched
            return (None, thumbnail(shrink(read_upload(path)), align.PREVIEW_MAX_SIDE)) + nothing[2:] + keep + (
                fail(e),)
        except utils.InputError as e:
            return nothing + keep + (fail(e),)
        menu = gr.update(choices=loaded.choices, value=loaded.chosen, visible=len(loaded.choices) > 1)
        return (loaded.state, loaded.preview, loaded.face, loaded.aged, loaded.aged_face, menu, loaded.age,
                loaded.gender, loaded.photo_age, loaded.message)

    def net_of(self, state):
        """The photo's personalised networks when it has them, else its model's."""
        return state.get('net') or self.models.get(state['model'])

    def on_age(self, state, model_name, years, gender, details=False, photo_age=DEFAULT_AGE):
        """A slider move (or gender, details): the photo and the face at that age; `model_name` is the state's own."""
        if not state:
            return None, None, fail('No photo is loaded: upload a photo first.')
        try:
            photo, face = aged_view(self.net_of(state), state, years, gender_index(gender), details,
                                    known_age(photo_age))
            return photo, face, f'Age {years:g} years.'
        except utils.InputError as e:
            return self.gr.update(), self.gr.update(), fail(e)

    def on_strip(self, state, gender, photo_age=DEFAULT_AGE):
        if not state:
            return None, fail('Upload a photo first.')
        row = group_strip(self.net_of(state), state, gender_index(gender), known_age(photo_age))
        return row, ("The aged photo's face at the ten age groups: " + ', '.join(consts.AGE_GROUP_NAMES)
                     + ' (the photo itself first).')

    def on_gif(self, state, gender):
        return self.on_lifespan(state, gender, 'GIF')

    def on_mp4(self, state, gender):
        return self.on_lifespan(state, gender, 'MP4')

    def on_lifespan(self, state, gender, kind):
        if not state:
            return None, fail('Upload a photo first.')
        try:
            path = lifespan_animation(self.net_of(state), state['z'], gender_index(gender), self.work_dir,
                                      kind.lower())
            return path, f'{kind} of the whole lifespan, 0 to 100 years ({LIFESPAN_FRAMES} frames): ready to download.'
        except utils.InputError as e:
            return None, fail(e)

    # ---------------------------------------------------------------- morph

    def morph_tab(self, model):
        gr = self.gr
        state = gr.State(None, time_to_live=SESSION_TTL_S)
        with gr.Row():
            m1 = undecoded(gr.File(label='Photo 1', type='filepath', file_types=UPLOAD_TYPES, elem_id='morph-photo-1'))
            m2 = undecoded(gr.File(label='Photo 2', type='filepath', file_types=UPLOAD_TYPES, elem_id='morph-photo-2'))
        with gr.Row():
            age1 = gr.Slider(0, 100, value=DEFAULT_AGE, step=0.5, label='Age of photo 1')
            gender1 = gr.Radio(list(GENDERS), value=GENDERS[0], label='Gender of photo 1')
            age2 = gr.Slider(0, 100, value=DEFAULT_AGE, step=0.5, label='Age of photo 2')
            gender2 = gr.Radio(list(GENDERS), value=GENDERS[0], label='Gender of photo 2')
        whole = gr.Checkbox(False, label='Use the whole image (when no face is found)')
        message = gr.Markdown('Upload two photos.', elem_id='morph-message')
        with gr.Row():
            with gr.Column():
                t = gr.Slider(0, 1, value=0.5, step=0.01, label='From photo 1 to photo 2', elem_id='morph-t')
                steps = gr.Slider(2, 20, value=10, step=1, label='Steps in the strip')
                button = gr.Button('Strip and GIF', elem_id='morph-button')
            face = gr.Image(label='Between them', interactive=False, format='png', elem_id='morph-face', height=320)
        strip = gr.Image(label='Morph strip', interactive=False, format='png', elem_id='morph-strip')
        gif = gr.File(label='Morph GIF (download)', elem_id='morph-gif', height=100)

        photos = [m1, m2, whole, model, t]
        for trigger in (m1.change, m2.change, whole.input):
            trigger(self.handled(self.on_morph_photos), photos, [state, face, age1, gender1, age2, gender2, message],
                    **endpoint('morph' if trigger == m2.change else None))
        for trigger in (age1.release, gender1.input, age2.release, gender2.input):
            trigger(self.handled(self.on_morph_labels), photos + [age1, gender1, age2, gender2],
                    [state, face, message], **endpoint(None))
        t.change(self.handled(self.on_morph_t), [state, t], [face, message], trigger_mode='always_last',
                 show_progress='hidden', **endpoint('morph_step'))
        button.click(self.handled(self.on_morph_game), [state, steps], [strip, gif, message], **endpoint('morph_strip'))

    def on_morph_photos(self, path1, path2, whole, model_name, t):
        """Two new photos: their faces, labels read from UTKFace names (else DEFAULT_AGE, the first gender)."""
        keep = (self.gr.update(),) * 4
        if path1 is None or path2 is None:
            return (None, None) + keep + ('Upload two photos.',)
        try:
            crops, labels = prepare_pair((path1, path2), whole)
            ages = [float(a) if a is not None else DEFAULT_AGE for a, _ in labels]
            genders = [GENDERS[g] if g is not None else GENDERS[0] for _, g in labels]
            net = self.models.get(model_name)
            state = morph_state(net, crops, model_name, ages, genders)
            view = morph_view(net, state['z'], state['labels'], t)
            return state, view, ages[0], genders[0], ages[1], genders[1], 'Ready: drag the slider.'
        except utils.InputError as e:
            return (None, None) + keep + (fail(e),)

    def on_morph_labels(self, path1, path2, whole, model_name, t, age1, gender1, age2, gender2):
        if path1 is None or path2 is None:
            return None, None, 'Upload two photos.'
        try:
            crops, _ = prepare_pair((path1, path2), whole)
            net = self.models.get(model_name)
            state = morph_state(net, crops, model_name, (age1, age2), (gender1, gender2))
            return state, morph_view(net, state['z'], state['labels'], t), 'Ready.'
        except utils.InputError as e:
            return None, None, fail(e)

    def on_morph_t(self, state, t):
        if not state:
            return self.gr.update(), ''
        return morph_view(self.models.get(state['model']), state['z'], state['labels'], t), f'{t:.0%} of the way.'

    def on_morph_game(self, state, steps):
        if not state:
            return None, None, fail('Upload two photos first.')
        z, labels = torch.stack(state['z']), torch.stack(state['labels'])
        target = Path(self.work_dir) / f'morph_{uuid.uuid4().hex[:8]}'
        png = games.morph_between(self.models.get(state['model']), z, labels, int(steps), str(target))
        return png, gif_beside(png), 'The morph strip and its GIF.'

    # ---------------------------------------------------------------- kids

    def kids_tab(self, model):
        gr = self.gr
        with gr.Row():
            k1 = undecoded(gr.File(label='Photo 1', type='filepath', file_types=UPLOAD_TYPES, elem_id='kids-photo-1'))
            k2 = undecoded(gr.File(label='Photo 2', type='filepath', file_types=UPLOAD_TYPES, elem_id='kids-photo-2'))
        with gr.Row():
            count = gr.Slider(1, 16, value=8, step=1, label='Children', elem_id='kids-count')
            seed = gr.Number(1, precision=0, label='Seed', elem_id='kids-seed')
            whole = gr.Checkbox(False, label='Use the whole image (when no face is found)')
        button = gr.Button('Children', elem_id='kids-button')
        message = gr.Markdown('Upload two photos.', elem_id='kids-message')
        row = gr.Image(label='The children', interactive=False, format='png', elem_id='kids-row')
        gif = gr.File(label='Children GIF (download)', elem_id='kids-gif', height=100)
        button.click(self.handled(self.on_kids), [k1, k2, whole, model, count, seed], [row, gif, message],
                     **endpoint('kids'))

    def on_kids(self, path1, path2, whole, model_name, count, seed):
        if path1 is None or path2 is None:
            return None, None, fail('Upload two photos.')
        try:
            crops, _ = prepare_pair((path1, path2), whole)
            png, gif = play_game(self.models.get(model_name), 'kids', crops, self.work_dir, length=int(count),
                                 seed=int(seed) if seed is not None else None)
            return png, gif, f'{int(count)} children (seed {seed}); the GIF shows them one by one.'
        except utils.InputError as e:
            return None, None, fail(e)


def build_page(models, work_dir, memory, threads=1):
    """The gradio Blocks of the page (Page.build)."""
    return Page(models, work_dir, memory, threads).build()


def serve(host='127.0.0.1', port=7860, load=(), block=True, concurrency=2, threads=1):
    """Start the page in a temporary folder (removed on return when block=True); returns (page, url, folder)."""
    web_server.limit_malloc_arenas()
    os.environ.setdefault('GRADIO_ANALYTICS_MAX_EVENTS', '256')  # gradio's in-memory per-event records (local only)
    os.environ.setdefault('GRADIO_ANALYTICS_CACHE_FREQUENCY', '100')  # and their pandas summary, not every event
    work = tempfile.TemporaryDirectory(prefix='caae-app-')
    os.environ['GRADIO_TEMP_DIR'] = os.path.join(work.name, 'uploads')  # gradio keeps uploads and outputs here
    os.environ['GRADIO_ANALYTICS_ENABLED'] = 'False'
    web_server.harden_gradio()
    models = Models(find_models(load))
    if not models.names():
        raise utils.InputError(f'no model found in {MODELS_DIR} and no --load FOLDER given')
    models.get(models.default())  # load the default networks now, not on the first request
    out = os.path.join(work.name, 'out')
    page = build_page(models, out, web_server.IdleMemoryTrim().start(), threads)
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
