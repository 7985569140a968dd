"""What the page's tabs share: a Tab's handlers run on the page's torch threads inside the memory care, and an error
no handler expects becomes a message; the upload pickers, the session's state, messages in bold and API names."""
import functools
import sys

import torch

from images import IMAGE_FORMATS

UPLOAD_TYPES = sorted({'.jpg', '.jpeg'} | {f'.{f.lower()}' for f in IMAGE_FORMATS})  # what the file pickers take
SESSION_TTL_S = 1800  # a session's state (photo, its PhotoAger, personalised generator) is dropped this long after
# its last change


def fail(message):
    """A message of the page's in bold, its first letter upper case."""
    message = str(message)
    return f'**{message[:1].upper()}{message[1:]}**'


def endpoint(name):
    """An event's API options: public under `name`, or private (the page still calls it, API clients cannot)."""
    return {'api_name': name} if name else {'api_visibility': 'private'}


def undecoded(component):
    """A gr.File or gr.Image that hands its handler the path of the file gradio stored, neither decoded nor checked
    by name: web.actions.read_upload reads it. gr.Image would open a webcam picture with every Pillow plugin and
    decode it in full first; gr.File's check of the name prints a traceback for each file it refuses (its
    file_types still choose what the browser's file picker offers)."""
    component.preprocess = lambda payload: payload.path if payload is not None and payload.path else None
    return component


class Tab:
    """One tab of the page: `build(model)` makes its components inside the page's Blocks and wires them to its
    handlers; the handlers are plain methods that tests call without a server."""
    title = ''

    def __init__(self, models, work_dir, memory, threads=1):
        """`models`: web.actions.Models; `work_dir`: where outputs are written; `memory`: a web.server.IdleMemoryTrim
        that every request runs inside; `threads`: torch threads a request renders with (set in gradio's worker
        thread: OpenMP keeps the setting per thread)."""
        import gradio as gr  # here, not at the top: gradio reads GRADIO_TEMP_DIR (set by app.serve) when imported
        self.gr, self.models, self.work_dir, self.memory, self.threads = gr, models, work_dir, memory, threads

    def state(self):
        """A session's state for this tab, dropped SESSION_TTL_S after its last change."""
        return self.gr.State(None, time_to_live=SESSION_TTL_S)

    def upload(self, label, elem_id):
        """A file picker for a photo, its path handed over undecoded."""
        return undecoded(self.gr.File(label=label, type='filepath', file_types=UPLOAD_TYPES, elem_id=elem_id))

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
