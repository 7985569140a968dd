"""Time the web page: one slider position as the page calls it, slider moves through the running page from
several clients at once, and the page's longest requests.

    python tools/bench_app.py                 # median of 100 calls of web.pictures.aged_view (a chip, a 2000x1500
                                              # photo) at one gender, and of calls that also switch it
    python tools/bench_app.py --http          # also: 4 clients at once, 50 slider moves each, through app.py
    python tools/bench_app.py --http --longest    # also: the longest requests, one at a time
"""
import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from web import actions, pictures  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / 'data' / 'UTKFace' / 'unlabeled'
FACE = SAMPLE / '25_0_1_20170117012445920.jpg.chip.jpg'
SLIDER_TARGET_MS = 300  # a slider move, the page's own function, at the photo's size (BENCHMARKS.md, "The web page")


def median_ms(call, n):
    call(0)  # the first call allocates buffers
    times = []
    for i in range(n):
        tick = time.perf_counter()
        call(i)
        times.append(time.perf_counter() - tick)
    return 1000 * statistics.median(times)


def astronaut_photo(folder, size=None):
    """skimage's astronaut as a JPEG; `size` (w, h): on a grey canvas of that size, the portrait scaled to fit."""
    from PIL import Image
    from skimage import data
    portrait = Image.fromarray(data.astronaut())
    if size:
        side = min(size) * 3 // 4
        canvas = Image.new('RGB', size, 'grey')
        canvas.paste(portrait.resize((side, side)), ((size[0] - side) // 2, (size[1] - side) // 2))
        portrait = canvas
    path = Path(folder) / f'astronaut_{portrait.width}x{portrait.height}.jpg'
    portrait.save(path, quality=90)
    return path


def in_process(n, photo):
    """The page's own slider function, without the page."""
    models = actions.Models(actions.find_models())
    net = models.get(models.default())
    for name, path in (('UTKFace chip', FACE), (f'{Path(photo).name}, the photo aged at its size', photo)):
        prepared = actions.prepare_upload(path)
        state = {'photo': prepared.photo, 'crop': prepared.crop, 'crop_box': prepared.crop_box,
                 'z': actions.encode(net, prepared.crop)}
        ms = median_ms(lambda i: pictures.aged_view(net, state, (7 * i) % 101, 0, False, 30), n)
        print(f'{name} ({prepared.photo.width}x{prepared.photo.height}): median {ms:.0f} ms of {n} slider positions '
              f'({"within" if ms < SLIDER_TARGET_MS else "over"} the {SLIDER_TARGET_MS} ms target)')
        switch = median_ms(lambda i: pictures.aged_view(net, state, (7 * i) % 101, 1 - i % 2, False, 30),
                           max(n // 5, 3))
        print(f'  a move that also switches the gender (the photo is prepared again): median {switch:.0f} ms')


def clients_at_once(url, model, clients, moves, folder):
    """`clients` gradio clients, each with its own face, sending `moves` slider moves at once: latencies, errors."""
    from gradio_client import Client, handle_file
    faces = sorted(SAMPLE.iterdir())[::40][:clients]
    sessions = []
    for face in faces:
        client = Client(url, verbose=False, download_files=tempfile.mkdtemp(dir=folder))
        client.predict(handle_file(str(face)), model, False, False, False, api_name='/upload')
        sessions.append(client)
    times, errors = [], []

    def play(index):
        rng = np.random.default_rng(index)
        for _ in range(moves):
            years = float(rng.integers(0, 201) / 2)
            tick = time.perf_counter()
            try:
                path, _, message = sessions[index].predict(model, years, 'male', False, 30, api_name='/render')
                if message != f'Age {years:g} years.' or not Path(path).is_file():
                    errors.append(message)
            except Exception as e:  # counted, not raised: the figure is how many requests failed
                errors.append(repr(e))
            times.append(time.perf_counter() - tick)
    threads = [threading.Thread(target=play, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return np.array(times) * 1000, errors


def longest_requests(url, model, folder):
    """Each of the page's slowest kinds of request, alone, timed as a client sees it: {what: (ms, message)}."""
    from gradio_client import Client, handle_file
    client = Client(url, verbose=False, download_files=tempfile.mkdtemp(dir=folder))
    big = astronaut_photo(folder, (7744, 5163))  # 40 megapixels, the largest photo the page reads
    chips = [handle_file(str(p)) for p in sorted(SAMPLE.iterdir())[::60][:2]]
    calls = {
        'upload a 40-megapixel JPEG (shown aged at 3000 px)': lambda: client.predict(
            handle_file(str(big)), model, False, False, False, api_name='/upload')[-1],
        'upload a photo with Personalise ticked': lambda: client.predict(
            handle_file(str(astronaut_photo(folder))), 'utkface_z50_plus', False, False, True,
            api_name='/upload')[-1],
        'ten-group strip': lambda: client.predict('female', 35, api_name='/strip')[-1],
        'lifespan GIF': lambda: client.predict('female', 35, api_name='/gif')[-1],
        'lifespan MP4': lambda: client.predict('female', 35, api_name='/mp4')[-1],
        '16 children': lambda: client.predict(*chips, False, model, 16, 1, api_name='/kids')[-1],
    }
    timed = {}
    for what, call in calls.items():
        tick = time.perf_counter()
        message = call()
        timed[what] = (1000 * (time.perf_counter() - tick), message)
    return timed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('-n', type=int, default=100)
    parser.add_argument('--photo', default=None, help='a photo for the photo timing (default: skimage astronaut on a '
                        '2000x1500 canvas)')
    parser.add_argument('--http', action='store_true', help='also time slider moves through a running app.py')
    parser.add_argument('--clients', type=int, default=4, help='--http: gradio clients at once')
    parser.add_argument('--moves', type=int, default=50, help='--http: slider moves per client')
    parser.add_argument('--longest', action='store_true', help='--http: also time the longest requests')
    parser.add_argument('--threads', type=int, default=1, help="torch threads, as app.py's --threads")
    args = parser.parse_args()
    import torch
    torch.set_num_threads(args.threads)
    folder = tempfile.mkdtemp()
    models = actions.Models(actions.find_models())
    model = models.default()
    print(f'model {model}, rendering in {models.get(model).workload_dtype("render") or "fp32"}, '
          f'{torch.get_num_threads()} torch thread(s)')
    in_process(args.n, args.photo or astronaut_photo(folder, (2000, 1500)))
    if not args.http:
        return
    sys.path.insert(0, str(REPO / 'tests'))
    from test_app import RunningApp
    running = RunningApp(tempfile.mkdtemp())
    try:
        times, errors = clients_at_once(running.url, model, args.clients, args.moves, folder)
        print(f'through the page, {args.clients} clients at once, {len(times)} slider moves: p50 '
              f'{np.percentile(times, 50):.0f} ms, p95 {np.percentile(times, 95):.0f} ms, max {times.max():.0f} ms, '
              f'errors {len(errors)}' + (f' (first: {errors[0]})' if errors else ''))
        if args.longest:
            for what, (ms, message) in longest_requests(running.url, model, folder).items():
                print(f'{what}: {ms / 1000:.1f} s ({message})')
    finally:
        running.stop()


if __name__ == '__main__':
    main()
