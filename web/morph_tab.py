"""The Morph tab: two photos, their ages and genders, and a slider from the first face to the second; a strip and
its GIF. The two faces are framed once, when the photos (or the whole-image choice) change; new labels or a new
model only encode or relabel the framed faces the state holds."""
import uuid
from pathlib import Path

import torch

import games
import utils
from images import gif_beside
from web.actions import GENDERS, morph_state, morph_view, prepare_pair
from web.pictures import DEFAULT_AGE
from web.tab import Tab, endpoint, fail


class MorphTab(Tab):
    title, id = 'Morph', 'morph'

    def build(self, model):
        gr = self.gr
        state = self.state()
        with gr.Row():
            photo1, photo2 = self.upload('Photo 1', 'morph-photo-1'), self.upload('Photo 2', 'morph-photo-2')
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

        for trigger in (photo1.change, photo2.change, whole.input):
            trigger(self.handled(self.on_photos), [photo1, photo2, whole, model, t],
                    [state, face, age1, gender1, age2, gender2, message],
                    **endpoint('morph' if trigger == photo2.change else None))
        for trigger in (age1.release, gender1.input, age2.release, gender2.input):
            trigger(self.handled(self.on_labels), [state, model, t, age1, gender1, age2, gender2],
                    [state, face, message], **endpoint(None))
        t.change(self.handled(self.on_t), [state, t], [face, message], trigger_mode='always_last',
                 show_progress='hidden', **endpoint('morph_step'))
        button.click(self.handled(self.on_strip), [state, steps], [strip, gif, message], **endpoint('morph_strip'))

    def on_photos(self, path1, path2, whole, model_name, t):
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

    def on_labels(self, state, model_name, t, age1, gender1, age2, gender2):
        """New ages or genders for the framed faces (encoded again only where the model changed)."""
        if not state:
            return None, None, 'Upload two photos.'
        try:
            net = self.models.get(model_name)
            z = state['z'] if state['model'] == model_name else None
            state = morph_state(net, state['crops'], model_name, (age1, age2), (gender1, gender2), z)
            return state, morph_view(net, state['z'], state['labels'], t), 'Ready.'
        except utils.InputError as e:
            return None, None, fail(e)

    def on_t(self, state, t):
        if not state:
            return self.gr.update(), ''
        return morph_view(self.models.get(state['model']), state['z'], state['labels'], t), f'{t:.0%} of the way.'

    def on_strip(self, state, steps):
        if not state:
            return None, None, fail('Upload two photos first.')
        z, labels = torch.stack(state['z']), torch.stack(state['labels'])
        target = Path(self.work_dir) / f'morph_{uuid.uuid4().hex[:8]}'
        png = games.morph_between(self.models.get(state['model']), z, labels, int(steps), str(target))
        return png, gif_beside(png), 'The morph strip and its GIF.'
