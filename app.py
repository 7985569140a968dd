"""The face-aging web page: your own photo at any age, with a continuous age slider (gradio, local only).

Start it, then open the address it prints (nothing is opened for you, nothing is shared, no analytics):
    python app.py                                   # http://127.0.0.1:7860, the models in trained_models/
    python app.py --host 0.0.0.0 --port 8080 --load results/run1/epoch50

Tabs: Aging (upload or webcam -> the framed face -> an age slider in years: the photo itself at that age at its
own size, and the 128-px face; the ten-group strip of the aged photo's face, a lifespan GIF or MP4), Morph (two
photos and a slider between them) and Kids (two photos -> their children). Uploads and everything the page makes
live in a temporary folder that is removed when the app stops; nothing is written into the repository or the models.

Each tab is a class in web/ (web.aging_tab, web.morph_tab, web.kids_tab) with its components and handlers; what
they do, without gradio, is web.actions and web.pictures. Here the page is built from the tabs and served.
"""
import argparse
import os
import signal
import sys
import tempfile

import utils
from web import server
from web.actions import MODELS_DIR, Models, find_models
from web.aging_tab import AgingTab
from web.kids_tab import KidsTab
from web.morph_tab import MorphTab

TABS = (AgingTab, MorphTab, KidsTab)
SESSIONS = 64  # the sessions whose state (photo, its PhotoAger, personalised generator: tens of MB) the page keeps


def build_page(models, work_dir, memory, threads=1):
    """The gradio Blocks: the model menu above the tabs, each tab built by its class (web.tab.Tab)."""
    import gradio as gr  # here, not at the top: gradio reads GRADIO_TEMP_DIR (set by serve) when imported
    with gr.Blocks(title='CAAE face aging', analytics_enabled=False, delete_cache=(600, 1800)) as page:
        gr.Markdown('# CAAE face aging\nUpload a photo (or take one with the webcam), then drag the age slider. '
                    'Everything runs on this computer; uploads are deleted when the app stops.')
        model = gr.Dropdown(models.choices(), value=models.default(), label='Model', elem_id='model')
        with gr.Tabs():
            for tab in TABS:
                with gr.Tab(tab.title, id=tab.id):
                    tab(models, work_dir, memory, threads).build(model)
    return page


def serve(host='127.0.0.1', port=7860, load=(), block=True, concurrency=2, threads=1):
    """Start the page in a temporary folder (removed on return when block=True); returns (page, url, folder)."""
    server.limit_malloc_arenas()
    os.environ.setdefault('GRADIO_ANALYTICS_MAX_EVENTS', '256')  # gradio's in-memory per-event records (local only)
    os.environ.setdefault('GRADIO_ANALYTICS_CACHE_FREQUENCY', '100')  # and their pandas summary, not every event
    work = tempfile.TemporaryDirectory(prefix='caae-app-')
    os.environ['GRADIO_TEMP_DIR'] = os.path.join(work.name, 'uploads')  # gradio keeps uploads and outputs here
    os.environ['GRADIO_ANALYTICS_ENABLED'] = 'False'
    server.harden_gradio()
    models = Models(find_models(load))
    if not models.names():
        raise utils.InputError(f'no model found in {MODELS_DIR} and no --load FOLDER given')
    models.get(models.default())  # load the default networks now, not on the first request
    out = os.path.join(work.name, 'out')
    page = build_page(models, out, server.IdleMemoryTrim().start(), threads)
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
