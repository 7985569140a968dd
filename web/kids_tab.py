"""The Kids tab: two photos -> their children, a row and its GIF (games.GAMES['kids'])."""
import utils
from web.actions import play_game, prepare_pair
from web.tab import Tab, endpoint, fail


class KidsTab(Tab):
    title, id = 'Kids', 'kids'

    def build(self, model):
        gr = self.gr
        with gr.Row():
            photo1, photo2 = self.upload('Photo 1', 'kids-photo-1'), self.upload('Photo 2', 'kids-photo-2')
        with gr.Row():
            count = gr.Slider(1, 16, value=8, step=1, label='Children', elem_id='kids-count')
            seed = gr.Number(1, precision=0, label='Seed', elem_id='kids-seed')
            whole = gr.Checkbox(False, label='Use the whole image (when no face is found)')
        button = gr.Button('Children', elem_id='kids-button')
        message = gr.Markdown('Upload two photos.', elem_id='kids-message')
        row = gr.Image(label='The children', interactive=False, format='png', elem_id='kids-row')
        gif = gr.File(label='Children GIF (download)', elem_id='kids-gif', height=100)
        button.click(self.handled(self.on_kids), [photo1, photo2, whole, model, count, seed], [row, gif, message],
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
