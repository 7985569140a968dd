"""The Aging tab: a photo (upload or webcam), its faces (pick one where there are several), an age slider in years
showing the photo itself at that age at its own size and the 128-px face, the ten groups' strip, a lifespan GIF or
MP4. The logic is web.actions.load_photo and web.pictures; here the components and their handlers."""
import consts
import utils
from web.actions import (
    GENDERS,
    LIFESPAN_FRAMES,
    NoFaceInPhoto,
    gender_index,
    known_age,
    lifespan_animation,
    load_photo,
)
from web.pictures import DEFAULT_AGE, SHOW_MAX_SIDE, aged_view, group_strip
from web.tab import Tab, endpoint, fail, undecoded


class AgingHandlers(Tab):
    """What the Aging tab answers to each of its events: plain methods on the components' values (tests call them
    without gradio); AgingTab lays the components out and wires them here."""

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
        """The tab's outputs for a photo (web.actions.load_photo), or its message; without a face, the photo as
        searched."""
        gr = self.gr
        nothing = (None, None, None, None, None, gr.update(choices=[], value=None, visible=False))
        keep = (gr.update(),) * 3
        if path is None:
            return nothing + keep + ('',)
        try:
            loaded = load_photo(self.models, path, model_name, face, whole, labels, details, photo_age, personal)
        except NoFaceInPhoto as e:
            return (None, e.preview) + nothing[2:] + keep + (fail(e),)
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

    def on_gif(self, state, gender, photo_age):
        return self.on_lifespan(state, gender, photo_age, 'GIF')

    def on_mp4(self, state, gender, photo_age):
        return self.on_lifespan(state, gender, photo_age, 'MP4')

    def on_lifespan(self, state, gender, photo_age, kind):
        if not state:
            return None, fail('Upload a photo first.')
        try:
            path = lifespan_animation(self.net_of(state), state, gender_index(gender), self.work_dir, kind.lower(),
                                      photo_age=known_age(photo_age))
            return path, f'{kind} of the whole lifespan, 0 to 100 years ({LIFESPAN_FRAMES} frames): ready to download.'
        except utils.InputError as e:
            return None, fail(e)


class AgingTab(AgingHandlers):
    title, id = 'Aging', 'aging'

    def build(self, model):
        gr = self.gr
        state = self.state()
        with gr.Row():
            with gr.Column():
                photo = self.upload('Photo (JPEG, PNG, WebP, BMP)', 'photo')
                webcam = undecoded(gr.Image(sources=['webcam'], type='filepath', elem_id='webcam',
                                            label='or take one with the webcam', height=160))
                faces = gr.Dropdown([], label='Face (the numbers in the picture)', visible=False, elem_id='faces')
                whole = gr.Checkbox(False, label='Use the whole image (when no face is found)', elem_id='whole')
            preview = gr.Image(label='Detected faces (green: the one used, yellow: its crop)', interactive=False,
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
        gif_button.click(self.handled(self.on_gif), [state, gender, photo_age], [lifespan, message], **endpoint('gif'))
        mp4_button.click(self.handled(self.on_mp4), [state, gender, photo_age], [lifespan, message], **endpoint('mp4'))
